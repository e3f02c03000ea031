"""The OpenAPI document: valid 3.1, every schema with an example that validates; the reference page; problems."""
from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

from pcso.extensions import db
from pcso.models import Role
from tests import factories
from tests.api.helpers import bearer, problem, token
from tests.factories import soup


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec, cls=OpenAPIV31SpecValidator)
    assert len(spec["paths"]) >= 10


def test_every_schema_has_an_example_that_validates(spec):
    schemas = spec["components"]["schemas"]
    assert len(schemas) >= 20
    missing = [name for name, schema in schemas.items() if not schema.get("examples")]
    assert not missing, f"schemas without an example: {missing}"
    resolver_doc = {"components": spec["components"]}
    for name, schema in schemas.items():
        wrapped = {**schema, "components": spec["components"]}
        for sample in schema["examples"]:
            jsonschema.validate(sample, {"$ref": f"#/components/schemas/{name}", **resolver_doc},
                                cls=jsonschema.Draft202012Validator)
        assert wrapped


def test_every_operation_documents_its_errors_as_problems(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            default = operation["responses"]["default"]
            assert default == {"$ref": "#/components/responses/DEFAULT_ERROR"}, (method, path)
    assert "application/problem+json" in spec["components"]["responses"]["DEFAULT_ERROR"]["content"]


def test_creates_document_the_idempotency_key(spec):
    operation = spec["paths"]["/api/v1/entries/{entry_id}/reviews"]["post"]
    assert {"$ref": "#/components/parameters/IDEMPOTENCY_KEY"} in operation["parameters"]


def test_reference_page_lists_operations_schemas_and_problems(client):
    response = client.get("/api/v1/reference")
    assert response.status_code == 200
    page = soup(response)
    assert len(page.select("[data-testid=operation]")) >= 10
    assert page.select_one("#schema-Problem") and page.select_one("#problem-idempotency-key-in-flight")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not page.select("script:not([src])")  # no inline script
    assert all(not tag["src"].startswith("http") for tag in page.select("script[src]"))


@pytest.mark.parametrize("method, path, status", [
    ("get", "/api/v1/no-such-thing", 404), ("delete", "/api/v1/me", 405), ("get", "/api/v1/entries/99999", 404),
    ("get", "/api/v1/entries?kind=burglaries", 422), ("get", "/api/v1/entries?limit=0", 422),
    ("post", "/api/v1/search", 422), ("get", "/api/v1/entries?cursor=bm9wZQ", 422),
])
def test_errors_are_problems(app, method, path, status):
    officer = factories.user(Role.SUPERVISOR)
    db.session.commit()
    response = getattr(app.test_client(), method)(path, headers=bearer(token(officer)), json={})
    assert response.status_code == status
    body = problem(response)
    if status == 405:
        assert "GET" in response.headers["Allow"]
    if status == 422:
        assert body["errors"]


def test_a_body_too_large_is_a_413_problem(app):
    officer = factories.user(Role.SUPERVISOR)
    db.session.commit()
    app.config["MAX_CONTENT_LENGTH"], before = 1024, app.config["MAX_CONTENT_LENGTH"]
    try:
        response = app.test_client().post("/api/v1/search", data=b"x" * 4096, content_type="application/json",
                                          headers=bearer(token(officer)))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before
    assert response.status_code == 413 and problem(response)


def test_html_pages_keep_their_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
