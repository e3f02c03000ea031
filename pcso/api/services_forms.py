"""An entry form's own fields, sent through the API: what the phone's outbox sends for a form filled in with
no signal. The server builds the same WTForms form the page would have posted and runs the same checks
(the form's, then the entry services'), so an entry queued on the phone meets exactly the rules it would
have met online; the beat and the patrol are worked out here from its time and place, as for the page."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict

from ..entries.errors import EntryNotFound, EntryRejected
from ..entries.pages import form_input, make_form, raise_from
from ..entries.schema import dump_entry
from ..entries.services import log_entry
from ..models import EntryKind, User
from ..web import form_problems
from .errors import abort
from .services_entries import client_key_for

SKIPPED = {"csrf_token", "action"}  # the page's token is stale by send time (the API checks X-CSRFToken)
MAX_FIELDS = 400


def form_data(pairs: list[list[str]], client_key: str) -> MultiDict:
    """The form's [name, value] pairs as the page would have posted them, with the entry's client key."""
    if len(pairs) > MAX_FIELDS:
        abort(422, f"A form has at most {MAX_FIELDS} fields.", errors={"fields": ["Too many fields."]})
    data = MultiDict((name, value) for name, value in pairs if name not in SKIPPED)
    data["client_key"] = client_key
    return data


def problems(form, extra: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Messages keyed by the form's field ids (as the page shows them: people-0-name), form-wide under _form."""
    found: dict[str, list[str]] = {}
    for field_id, message in form_problems(form):
        found.setdefault("_form" if field_id == "main" else field_id, []).append(message)
    for name, message in (extra or {}).items():
        found.setdefault(name if hasattr(form, name) else "_form", []).append(message)
    return found


def create(user: User, kind: EntryKind, pairs: list[list[str]], *, key: str, submit: bool) -> tuple[dict, bool]:
    form = make_form(kind, user=user, formdata=form_data(pairs, client_key_for(key)))
    raise_from(form, prefill=False, user=user)
    if not form.validate():
        abort(422, "Some fields are not right: see errors.", errors=problems(form))
    try:
        entry, created = log_entry(form_input(kind, form), actor=user, submit=submit)
    except EntryRejected as error:
        abort(422, error.message if len(error.errors) == 1 else "Some fields are not right: see errors.",
              errors=problems(form, error.errors))
    except EntryNotFound:
        abort(404, "The entry it is raised from is not one you may open.", errors={"raised_from_id": ["Not found."]})
    return dump_entry(entry, viewer=user), created
