"""The API's role x object matrix: the pages' rules (tests/test_access.py), answered as 401/403/404 problems.

Every API endpoint's declared roles are written here by hand, and each request is sent by every role
with a write token (and anonymously) against the same objects as the pages' matrix.
"""
from __future__ import annotations

from pcso.access import PUBLIC
from pcso.models import Role
from tests import factories
from tests.api.helpers import bearer, key, token
from tests.test_access import ACTORS, matrix_objects  # noqa: F401  (the pages' objects, reused)

EVERYONE = frozenset(Role)
STAFF = EVERYONE - {Role.AUDITOR}  # the auditor reads the audit log (pages only), and no beats
READ = frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING})
LOG = frozenset({Role.PCSO, Role.SUPERVISOR})
SUPERVISE = frozenset({Role.SUPERVISOR})
EXPORT_ROLES = frozenset({Role.SUPERVISOR, Role.ANALYST})  # bulk exports (issue 10)
CASE_REVIEW_READ = frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST})  # as the pages: not safeguarding
CASE_REVIEW_DECIDE = frozenset({Role.SUPERVISOR, Role.ANALYST})
API_ACCESS = {
    "api_docs.openapi_json": PUBLIC, "api_docs.reference": PUBLIC,
    "api_core.me": EVERYONE, "api_core.beats": STAFF, "api_core.schools": READ,
    **{f"api_entries.create_{kind}": LOG for kind in
       ("patrol", "asb_incident", "school_visit", "welfare_check", "intelligence_report")},
    **{f"api_forms.form_{kind}": LOG for kind in
       ("patrol", "asb_incident", "school_visit", "welfare_check", "intelligence_report")},
    "api_entries.entry": READ, "api_entries.update": LOG, "api_entries.submit": LOG, "api_photos.add_photo": LOG, "api_entries.end_patrol": LOG,
    "api_lists.entries": READ, "api_lists.export": EXPORT_ROLES, "api_lists.export_request": EXPORT_ROLES,
    "api_lists.download": EXPORT_ROLES,
    "api_records.person": READ, "api_records.vehicle": READ, "api_records.location": READ,
    "api_search.search": READ, "api_work.review_queue": SUPERVISE, "api_work.create_review": SUPERVISE,
    "api_work.briefing": LOG,
    "api_phone.seal_key": LOG, "api_phone.sealed": LOG, "api_phone.csrf_token": EVERYONE,
    "api_phone.outbox_discarded": LOG,
    "api_case_reviews.index": CASE_REVIEW_READ, "api_case_reviews.detail": CASE_REVIEW_READ,
    "api_case_reviews.create": CASE_REVIEW_READ,
    **{f"api_case_reviews.{step}": CASE_REVIEW_DECIDE for step in
       ("threshold", "informed", "review", "recommendation", "appeal", "appeal_decision")},
}


def test_every_api_endpoint_has_the_intended_access(app):
    declared = {rule.endpoint: app.view_functions[rule.endpoint].access
                for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert declared == API_ACCESS


ASB = {"occurred_at": "2026-11-28T21:40:00Z", "summary": "Matrix", "lat": 53.464903, "lon": -2.260757,
       "location_source": "gps", "nsir_category": "nuisance", "asb_type": "noise", "description": "Shouting"}
EXPORT = {"format": "csv", "purpose": "Ward panel on ASB", "recipient": "Trafford Council"}

# method, url, body,                              anonymous pcso  supervisor analyst safeguarding admin
MATRIX = [
    ("GET", "/api/v1/me", None,                           (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/beats", None,                        (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/schools", None,                      (401, 200, 200, 200, 200, 403)),
    ("GET", "/api/v1/entries", None,                      (401, 200, 200, 200, 200, 403)),
    ("GET", "/api/v1/entries/{entry}", None,              (401, 200, 200, 200, 404, 403)),
    ("GET", "/api/v1/entries/{sensitive}", None,          (401, 404, 200, 200, 404, 403)),
    ("GET", "/api/v1/entries/{welfare}", None,            (401, 404, 200, 404, 200, 403)),
    ("GET", "/api/v1/entries/{intel}", None,              (401, 404, 200, 200, 404, 403)),
    ("GET", "/api/v1/entries/{draft}", None,              (401, 200, 404, 404, 404, 403)),
    ("GET", "/api/v1/entries/{missing}", None,            (401, 404, 404, 404, 404, 403)),
    ("GET", "/api/v1/people/{person}", None,              (401, 200, 200, 200, 404, 403)),
    ("GET", "/api/v1/people/{child}", None,               (401, 404, 200, 404, 200, 403)),
    ("GET", "/api/v1/people/{missing}", None,             (401, 404, 404, 404, 404, 403)),
    ("GET", "/api/v1/vehicles/{vehicle}", None,           (401, 200, 200, 200, 404, 403)),
    ("GET", "/api/v1/locations/{location}", None,         (401, 200, 200, 200, 404, 403)),
    ("GET", "/api/v1/review-queue", None,                 (401, 403, 200, 403, 403, 403)),
    ("GET", "/api/v1/briefing", None,                     (401, 200, 200, 403, 403, 403)),
    ("POST", "/api/v1/search", {"q": "matrix"},           (401, 200, 200, 200, 200, 403)),
    # Bulk exports: supervisors and analysts; what they see is OFFICIAL-SENSITIVE, so 202 (an approval request)
    ("POST", "/api/v1/exports", EXPORT,                   (401, 403, 202, 202, 403, 403)),
    ("GET", "/api/v1/exports/{missing}", None,            (401, 403, 404, 404, 403, 403)),
    ("POST", "/api/v1/exports/{missing}/download", None,  (401, 403, 404, 404, 403, 403)),
    ("POST", "/api/v1/asb-incidents", ASB,                (401, 201, 201, 403, 403, 403)),
    ("GET", "/api/v1/seal-key", None,                     (401, 200, 200, 403, 403, 403)),
    ("POST", "/api/v1/outbox/discarded", {"count": 1, "kinds": {"asb-incidents": 1}}, (401, 204, 204, 403, 403, 403)),
    ("GET", "/api/v1/csrf-token", None,                   (401, 403, 403, 403, 403, 403)),  # tokens need none
    ("PUT", "/api/v1/entries/{draft}", ASB,               (401, 412, 404, 403, 403, 403)),  # 412: If-Match stale
    ("PUT", "/api/v1/entries/{entry}", ASB,               (401, 403, 403, 403, 403, 403)),  # visible, not theirs
    ("PUT", "/api/v1/entries/{sensitive}", ASB,           (401, 404, 403, 403, 403, 403)),
    ("POST", "/api/v1/entries/{sensitive}/submit", None,  (401, 404, 403, 403, 403, 403)),
    ("POST", "/api/v1/patrols/{sensitive}/end", {"ended_at": "2026-11-28T22:00:00Z"}, (401, 404, 403, 403, 403, 403)),
    ("POST", "/api/v1/patrols/{draft}/end", {"ended_at": "2026-11-28T22:00:00Z"}, (401, 404, 404, 403, 403, 403)),
    ("POST", "/api/v1/entries/{draft}/reviews", {"decision": "approve"}, (401, 403, 404, 403, 403, 403)),
    ("POST", "/api/v1/entries/{welfare}/reviews", {"decision": "return", "comment": "Add the risk"},
                                                          (401, 403, 201, 403, 403, 403)),
    # ASB Case Reviews: as the pages, not for safeguarding; decisions for supervisors and analysts only
    ("GET", "/api/v1/case-reviews", None,                 (401, 200, 200, 200, 403, 403)),
    ("GET", "/api/v1/case-reviews/{missing}", None,       (401, 404, 404, 404, 403, 403)),
    ("POST", "/api/v1/case-reviews/{missing}/threshold-decision", {"decision": "met"},
                                                          (401, 403, 404, 404, 403, 403)),
]


# The auditor: 403 for every request above but these (who they are; a CSRF token is for browser sessions).
AUDITOR_API = {("GET", "/api/v1/me"): 200}


def test_the_auditor_gets_what_the_api_matrix_says(app, matrix_objects):  # noqa: F811
    _, ids = matrix_objects
    auditor = factories.user(Role.AUDITOR)
    secret, client, mismatches = token(auditor), app.test_client(), []
    for method, template, body, _ in MATRIX:
        headers = bearer(secret) | {"Idempotency-Key": key(), **({"If-Match": '"stale"'} if method == "PUT" else {})}
        response = client.open(template.format(**ids), method=method, json=body, headers=headers)
        expected = AUDITOR_API.get((method, template), 403)
        declared = API_ACCESS[app.url_map.bind("localhost").match(template.format(**ids).partition("?")[0],
                                                                   method=method)[0]]
        if not (declared == PUBLIC or Role.AUDITOR in declared):
            assert expected == 403, (method, template)  # refused for the route: the table must say so
        if response.status_code != expected:
            mismatches.append(f"{method} {template} as auditor: expected {expected}, got {response.status_code}")
    assert not mismatches, "\n".join(mismatches)


def test_each_role_gets_what_the_api_matrix_says(app, matrix_objects):  # noqa: F811
    people, ids = matrix_objects
    secrets = {actor: token(person) for actor, person in people.items()}
    client, mismatches = app.test_client(), []
    for column, actor in enumerate(ACTORS):
        for method, template, body, row in MATRIX:
            headers = {} if actor == "anonymous" else bearer(secrets[actor])
            headers |= {"Idempotency-Key": key(), **({"If-Match": '"stale"'} if method == "PUT" else {})}
            response = client.open(template.format(**ids), method=method, json=body, headers=headers)
            if response.status_code != row[column]:
                mismatches.append(f"{method} {template} as {actor}: expected {row[column]}, got {response.status_code}")
            elif response.status_code >= 400:
                assert response.mimetype == "application/problem+json", (method, template, actor)
    assert not mismatches, "\n".join(mismatches)
