"""Hypothesis over every API operation, on SQLite and PostgreSQL: hostile JSON bodies and query strings never
make a 500, and every refusal is a problem+json.

tests/api/test_api_schemathesis.py checks the API against its own OpenAPI document (schema-shaped data, in
process, SQLite). This file reads the same document for each operation's query parameters and body fields and
sends what the document does not allow: each field kept (its example), dropped, or replaced by hostile JSON
(huge text, Unicode, NUL as \\u0000, wrong types, impossible dates, out-of-range coordinates, numbers beyond
any integer or double, deep nesting), and raw bodies JSON can't hold (NaN, Infinity, 5,000 levels deep).
"""
from __future__ import annotations

import json
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pcso.case_reviews.services import ApplicationInput, record_application
from pcso.extensions import db
from pcso.models import EntryStatus, LinkRole, Role
from pcso.timeutil import london_today
from tests import factories
from tests.api.helpers import bearer, key, token
from tests.hostile import NASTY, huge, text

OLD_TRAFFORD = factories.OLD_TRAFFORD

pytestmark = pytest.mark.usefixtures("memoised_hashing")

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(NASTY), text, huge)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(text, inner, max_size=3)), max_leaves=8)
RAW = ['{"lat": NaN}', '{"accuracy_m": Infinity}', '{"summary": -Infinity}', "[" * 5000 + "]" * 5000,
       '{"a":' * 40 + "1" + "}" * 40, "", "{", "null", "[]", '"text"', "1e999", '{"occurred_at": "\\ud800"}',
       '{"summary": "\\u0000"}', '{"beat_id": ' + "9" * 400 + "}"]


@cache
def operations() -> list[tuple[str, str, tuple[str, ...], tuple[tuple[str, object], ...]]]:
    """(method, path, query parameter names, ((body field, its example), ...)) for every operation in the
    document, read from it once (its $refs resolved by hand: the document is ours and shallow)."""
    from tests.conftest import make_app

    document = make_app("sqlite://").test_client().get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]

    def fields(schema: dict) -> tuple[tuple[str, object], ...]:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return tuple((name, spec.get("example")) for name, spec in schema.get("properties", {}).items())

    found = []
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method not in ("get", "post", "put"):
                continue
            query = tuple(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
            content = operation.get("requestBody", {}).get("content", {})
            body = fields(content["application/json"]["schema"]) if "application/json" in content else ()
            found.append((method.upper(), path, query, body))
    return found


OPERATIONS = operations()


@pytest.fixture
def world(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    draft = factories.asb(pcso, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    submitted = factories.asb(pcso, OLD_TRAFFORD)
    patrol = factories.patrol(pcso, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    patrol.ended_at = None
    ids = {"entry_id": draft.id, "patrol_id": patrol.id,
           "person_id": factories.link(submitted, factories.person("Api Fuzz"), LinkRole.WITNESS).person_id,
           "vehicle_id": factories.link(submitted, factories.vehicle("AF12 ZZZ")).vehicle_id,
           "location_id": factories.link(submitted, factories.location("Fuzz Road", "M16 0AA")).location_id}
    victim_id = factories.link(submitted, factories.person("Fuzz Victim"), LinkRole.VICTIM).person_id
    ids["case_review_id"] = record_application(ApplicationInput(  # for the steps to reach the services
        victim_id, factories.beat(OLD_TRAFFORD).id, london_today(), [submitted.id]), actor=supervisor).id
    ids["recommendation_id"] = 1
    db.session.commit()
    # The author for writes on their own entries; a supervisor for the review queue and reviews.
    return ids, {"PCSO": token(pcso), "SUPERVISOR": token(supervisor)}


@st.composite
def hostile_body(draw, body_fields):
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(RAW))
    body = {}
    for name, example in body_fields:
        how = draw(st.sampled_from(["keep", "keep", "hostile", "drop"]))
        if how == "keep" and example is not None:
            body[name] = example
        elif how == "hostile":
            body[name] = draw(values)
    if draw(st.booleans()):
        body[draw(text)] = draw(values)  # a field the schema does not know
    return json.dumps(body)


@st.composite
def hostile_query(draw, names):
    return {name: draw(st.sampled_from(NASTY) | text) for name in names if draw(st.booleans())}


@pytest.mark.parametrize("method, path, query, body_fields", OPERATIONS,
                         ids=[f"{method} {path}" for method, path, *_ in OPERATIONS])
@given(data=st.data())
def test_no_hostile_request_to_the_api_makes_a_server_error(app, world, method, path, query, body_fields, data):
    ids, secrets = world
    url = path.replace("{", "<").replace("}", ">")
    for name, value in ids.items():
        url = url.replace(f"<{name}>", str(value))
    who = "SUPERVISOR" if "review" in path else "PCSO"
    headers = bearer(secrets[who], **{"Idempotency-Key": key(), "If-Match": data.draw(st.sampled_from(['"x"', "*"]))})
    params = data.draw(hostile_query(query), label="query")
    body = data.draw(hostile_body(body_fields), label="body") if method != "GET" else None
    content_type = data.draw(st.sampled_from(["application/json", "text/plain"]), label="type") if body else None
    response = app.test_client().open(url, method=method, query_string=params, headers=headers,
                                      data=body.encode("utf-8", "surrogatepass") if body else None,
                                      content_type=content_type)
    assert response.status_code < 500, (method, url, response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json", (method, url, response.status_code)
