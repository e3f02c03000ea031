"""/api/v1/search: the search page's query as a JSON body (names stay out of URLs), audited the same way."""
from __future__ import annotations

from ..access import READERS
from ..extensions import db
from . import services_more
from .auth import api_require, api_user
from .blueprint import api_blueprint
from .schemas_more import SearchInSchema, SearchOutSchema

bp = api_blueprint("api_search", "Search entries, people and vehicles")


@bp.route("/search", methods=["POST"])
@api_require(*READERS, reads=True)
@bp.arguments(SearchInSchema)
@bp.response(200, SearchOutSchema)
def search(criteria: dict):
    """One page of the entries you may see that match, best first, and the people and vehicles found.

    Every search is recorded (DPA 2018 s.62) with its terms, as on the page.
    """
    found = services_more.run_search(api_user(), criteria)
    db.session.commit()
    return found
