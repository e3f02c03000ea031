"""Schemathesis over the whole API, in process (WSGI), authenticated with a write token: every check.

The app is this module's own, on its own SQLite file (the document is read when the tests are
collected), with a few entries and records to find. Bounded (a few examples per operation) so it
runs in well under a minute; no Hypothesis database is written into the repository.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from pcso.case_reviews.services import ApplicationInput, record_application
from pcso.extensions import db
from pcso.models import LinkRole, Role, SecurityMarking
from pcso.timeutil import london_today
from tests import factories
from tests.api.helpers import bearer, token
from tests.conftest import migrated_app

OLD_TRAFFORD = factories.OLD_TRAFFORD
# No compression: the in-process transport sends requests' Accept-Encoding (br, gzip) but decodes nothing.
APP = migrated_app(Path(tempfile.mkdtemp(prefix="beatbook-schemathesis-")) / "api.sqlite", COMPRESS_REGISTER=False)
SECRETS: dict[str, str] = {}
# A schema-valid request may still break a rule that JSON Schema cannot state (a "to" date before the
# "from" date, a cursor this API never gave, a grade for what is not intelligence, an entry decided
# already): those are 422 or 409 by design, so positive-data acceptance counts them as accepted; and a
# conditional request answers 304 (If-None-Match matches) or 412 (If-Match does not), as HTTP says.
# U+0000 is refused in any text with a 400 before the API sees it (PostgreSQL can't store it; pcso/web.py,
# tests/test_hostile_input.py), so schema-valid strings here hold none. Hostile JSON beyond the document,
# NUL included: tests/test_fuzz_api.py, on both databases.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({
    "cache": {"enabled": False},
    "generation": {"allow-x00": False},
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "304", "401", "403", "404", "409", "412", "422"]}},
})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def world():
    with APP.app_context():
        author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
        supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
        incident = factories.asb(author, OLD_TRAFFORD)
        factories.asb(author, OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL_SENSITIVE)
        factories.intel(author, OLD_TRAFFORD)
        factories.link(incident, factories.person("Schema Person"), LinkRole.WITNESS)
        factories.link(incident, factories.vehicle("SC71 HMA"))
        victim = factories.person("Schema Victim")  # an ASB Case Review application, for the list to show
        factories.link(incident, victim, LinkRole.VICTIM)
        record_application(ApplicationInput(victim.id, factories.beat(OLD_TRAFFORD).id, london_today(), [incident.id]),
                           actor=supervisor)
        db.session.commit()
        SECRETS["supervisor"] = token(supervisor)
        db.session.remove()
    yield
    with APP.app_context():
        db.engine.dispose()


@schema.parametrize()
@settings(max_examples=6, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_document(case):
    case.call_and_validate(headers=bearer(SECRETS["supervisor"]))


class EntryWorkflow(schema.as_state_machine()):
    """Stateful: log an entry of some kind, then read and submit it through the links the document gives."""

    def get_call_kwargs(self, case):
        return {"headers": bearer(SECRETS["supervisor"])}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        # headers= as well, so the ignored-auth check knows which header is the credential and drops it
        case.validate_response(response, additional_checks=additional_checks, headers=kwargs.get("headers"),
                               transport_kwargs=kwargs or None, recorder=self.recorder)


TestEntryWorkflow = EntryWorkflow.TestCase
TestEntryWorkflow.settings = settings(max_examples=8, stateful_step_count=4, deadline=None, database=None,
                                      derandomize=True, suppress_health_check=list(HealthCheck))
