"""Who may do what: a role x route matrix, welfare-check visibility, and can_view_entry() == visible_entries().

The expected tables below are written by hand. They are checked against the app twice: against
each view's declared `access`, and against what each request really answers. Changing a view's
roles, or the rules in pcso/access.py, without changing these tables fails a test.
"""
from __future__ import annotations

from datetime import date

import itertools
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from pcso.access import PUBLIC, can_view_entry, visible_entries
from pcso.extensions import db
from pcso.models import (
    AsbIncident, AuditAction, AuditEvent, Entry, EntryRevision, EntryStatus, LinkRole, Organisation, OrganisationType,
    Role, SecurityMarking, UserSession, WelfareCheck,
)
from tests import factories
from tests.factories import signed_in, soup

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"
POINT = factories.POINT


pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def client(app):
    return app.test_client()


def listed_ids(response) -> set[int]:
    return {int(a["data-entry-id"]) for a in soup(response).select("[data-entry-id]")}


# --- the declared access of every endpoint, by hand -------------------------------------------------------

EVERYONE = frozenset(Role)
STAFF = EVERYONE - {Role.AUDITOR}  # the auditor reads the audit log, not the force's beats and data
AUDITORS = frozenset({Role.AUDITOR})
ACCESS = {
    "main.index": PUBLIC,
    "main.health": PUBLIC,
    "main.ready": PUBLIC,
    "main.web_manifest": PUBLIC,
    "auth.login": PUBLIC,
    "auth.code": PUBLIC,
    "auth.enrol": PUBLIC,
    "security.overview": EVERYONE,
    "security.change_password": EVERYONE,
    "security.enrol": EVERYONE,
    "auth.logout": EVERYONE,
    "main.data_sources": STAFF,
    "beats.index": STAFF,
    "beats.outlines": STAFF,
    "beats.detail": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "beats.street_crime": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "entries.detail": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "search.index": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "search.results": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "lists.entries": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "lists.export": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "lists.entry_export": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "lists.export_requests": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "lists.export_request": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "lists.decide_export_request": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "lists.download_export_request": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "entries.index": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "entries.choose": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "offline.outbox": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "offline.service_worker": PUBLIC,
    "entries.new": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "entries.edit": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "entries.submit": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "entries.amend": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "review.decide_amendment": frozenset({Role.SUPERVISOR}),
    "entries.end": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "entries.held": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "entries.discard_held_entry": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "geo_api.locate": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "geo_api.postcode": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "geo_api.offline_pack": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "pole.suggest_people": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "pole.suggest_vehicles": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "pole.person": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole.vehicle": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole.location": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "network.person": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "network.vehicle": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "network.location": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "network.organisation": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.edit_person": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.add_alias": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.remove_alias": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.add_marker": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.review_marker": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.remove_marker": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.add_address": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.remove_address": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole_records.edit_vehicle": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole.merge_person": frozenset({Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),  # welfare children
    "pole.merge_vehicle": frozenset({Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "pole.merge_location": frozenset({Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),  # welfare checks'
    "pole.merge_organisation": frozenset({Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),  # places too
    "places.suggest_location": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "places.suggest_organisation": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "places.new_location": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "places.edit_location": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "places.new_organisation": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "places.edit_organisation": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "places.organisation": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "risk.new": frozenset({Role.SUPERVISOR}),
    "case_reviews.index": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.new": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.create": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.detail": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.threshold": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.informed": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.review": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.recommendation": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.appeal": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "case_reviews.appeal_decision": frozenset({Role.SUPERVISOR, Role.ANALYST}),
    "review.queue": frozenset({Role.SUPERVISOR}),
    "dashboard.index": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "briefing.show": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "patrol_plans.index": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "patrol_plans.start": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "briefing.pdf": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "briefing.shift_start": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "briefing.shift_end": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "briefing.new_priority": frozenset({Role.SUPERVISOR}),
    "briefing.edit_priority": frozenset({Role.SUPERVISOR}),
    "briefing.close": frozenset({Role.SUPERVISOR}),
    "review.decide": frozenset({Role.SUPERVISOR}),
    "admin.users": frozenset({Role.ADMIN}),
    "admin.edit_user": frozenset({Role.ADMIN}),
    "retention.queue": frozenset({Role.ADMIN}),
    "retention.decide": frozenset({Role.ADMIN}),
    "admin.account_action": frozenset({Role.ADMIN}),
    "admin.reset_user_password": frozenset({Role.ADMIN}),
    "tokens.index": EVERYONE,
    "jobs.index": STAFF,
    "jobs.show": STAFF,
    "jobs.status": STAFF,
    "jobs.download": STAFF,
    "tokens.create": EVERYONE,
    "tokens.revoke": EVERYONE,
    "tokens.user_tokens": frozenset({Role.ADMIN}),
    "tokens.admin_revoke": frozenset({Role.ADMIN}),
    "photos.photo": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "photos.thumbnail": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "photos.remove": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "photos.accept_offer": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "photos.reject_offer": frozenset({Role.PCSO, Role.SUPERVISOR}),
    "access_reasons.give": frozenset({Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING}),
    "audit.index": AUDITORS,
    "audit.people": AUDITORS,
    "audit.records": AUDITORS,
    "audit.events": AUDITORS,
    "audit.unusual": AUDITORS,
    "audit.export": AUDITORS,
}
# The JSON API (/api/...) has its own matrix, in tests/api/test_api_access.py.

# --- what each request answers, by hand ---------------------------------------------------------------------
# {entry}: OFFICIAL ASB incident, submitted by another PCSO on the signed-in PCSO's beat
# {sensitive}: the same, OFFICIAL-SENSITIVE     {welfare}: a welfare check by that PCSO, who is its SPOC
# {draft}: the signed-in PCSO's own draft         {missing}: an id nothing has
# {intel}: an intelligence report by that PCSO (OFFICIAL-SENSITIVE, as by default)
# {person}, {vehicle}, {location}: records linked to {entry}   {child}: the child {welfare} is about
# LOGIN: redirected to /login (with ?next= the page asked for); HOME: redirected to /
# LOCKED: 403 for a record the user may see but not change (a route refusal is the plain 403)

LOGIN, HOME, LOCKED = "login", "home", "locked"
ACTORS = ("anonymous", Role.PCSO, Role.SUPERVISOR, Role.ANALYST, Role.SAFEGUARDING, Role.ADMIN)
LOGGER_PAGE = (LOGIN, 200, 200, 403, 403, 403)

GET_MATRIX = {
    # url                          anonymous  pcso   supervisor analyst safeguarding admin
    "/":                           (LOGIN,    200,   200,   200,   200,   200),
    "/healthz":                    (200,      200,   200,   200,   200,   200),
    "/readyz":                     (200,      200,   200,   200,   200,   200),
    "/manifest.webmanifest":       (200,      200,   200,   200,   200,   200),
    "/login":                      (200,      HOME,  HOME,  HOME,  HOME,  HOME),
    "/data-sources":               (LOGIN,    200,   200,   200,   200,   200),
    "/beats/":                     (LOGIN,    200,   200,   200,   200,   200),
    "/beats/outlines.geojson":     (LOGIN,    200,   200,   200,   200,   200),
    "/beats/{beat}":               (LOGIN,    200,   200,   200,   200,   403),
    "/beats/{missing}":            (LOGIN,    404,   404,   404,   404,   403),
    "/beats/{beat}/street-crime.geojson":    (LOGIN, 200, 200, 200, 200, 403),
    "/beats/{missing}/street-crime.geojson": (LOGIN, 404, 404, 404, 404, 403),
    "/search":                     (LOGIN,    200,   200,   200,   200,   403),
    "/search/results/" + "A" * 32: (LOGIN,    404,   404,   404,   404,   403),  # no such saved search
    "/geo/offline-pack":           (401,      200,   200,   403,   403,   403),  # JSON: 401, not a redirect
    "/lists/entries":              (LOGIN,    200,   200,   200,   200,   403),
    "/lists/entries?kind=burglaries": (LOGIN, 400,   400,   400,   400,   403),  # a bad filter: 400, never 500
    "/lists/entries/export?kind=asb-incidents": (LOGIN, 403, 200, 200, 403, 403),  # bulk: supervisors, analysts
    "/exports":                    (LOGIN,    403,   200,   200,   403,   403),
    "/exports/{missing}":          (LOGIN,    403,   404,   404,   403,   403),
    "/entries/{entry}/pdf":        (LOGIN,    200,   200,   200,   404,   403),
    "/entries/{welfare}/pdf":      (LOGIN,    404,   200,   404,   200,   403),
    "/entries/{draft}/pdf":        (LOGIN,    200,   404,   404,   404,   403),
    "/entries/{missing}/pdf":      (LOGIN,    404,   404,   404,   404,   403),
    "/entries":                    LOGGER_PAGE,
    "/entries/new":                LOGGER_PAGE,
    "/outbox":                     LOGGER_PAGE,
    "/sw.js":                      (200,      200,   200,   200,   200,   200),
    "/patrols/new":                LOGGER_PAGE,
    "/asb-incidents/new":          LOGGER_PAGE,
    "/school-visits/new":          LOGGER_PAGE,
    "/welfare-checks/new":         LOGGER_PAGE,
    "/intelligence-reports/new":   LOGGER_PAGE,
    "/intelligence-reports/new?from={entry}":   (LOGIN, 200, 200, 403, 403, 403),
    "/intelligence-reports/new?from={welfare}": (LOGIN, 404, 200, 403, 403, 403),
    "/entries/{entry}":            (LOGIN,    200,   200,   200,   404,   403),
    "/entries/{sensitive}":        (LOGIN,    404,   200,   200,   404,   403),
    "/entries/{welfare}":          (LOGIN,    404,   200,   404,   200,   403),
    "/entries/{intel}":            (LOGIN,    404,   200,   200,   404,   403),
    "/entries/{draft}":            (LOGIN,    200,   404,   404,   404,   403),
    "/entries/{missing}":          (LOGIN,    404,   404,   404,   404,   403),
    "/photos/{entry_photo}":       (LOGIN,    200,   200,   200,   404,   403),  # its entry's rule, always
    "/photos/{welfare_photo}/thumbnail": (LOGIN, 404, 200,   404,   200,   403),
    "/photos/{draft_photo}":       (LOGIN,    200,   404,   404,   404,   403),
    "/photos/{missing}/thumbnail": (LOGIN,    404,   404,   404,   404,   403),
    "/entries/held/{missing}":     (LOGIN,    404,   404,   403,   403,   403),  # only its author's
    "/entries/{entry}/edit":       (LOGIN,    LOCKED, LOCKED, 403,  403,   403),
    "/entries/{sensitive}/edit":   (LOGIN,    404,   LOCKED, 403,  403,   403),
    "/entries/{draft}/edit":       (LOGIN,    200,   404,   403,   403,   403),
    "/entries/{entry}/amend":      (LOGIN,    LOCKED, LOCKED, 403,  403,   403),  # not theirs, and not approved
    "/entries/{sensitive}/amend":  (LOGIN,    404,   LOCKED, 403,   403,   403),
    "/people/{person}":            (LOGIN,    200,   200,   200,   404,   403),
    "/people/{person}/edit":       (LOGIN,    200,   200,   200,   404,   403),  # whoever may see it may edit it
    "/people/{child}/edit":        (LOGIN,    404,   200,   404,   200,   403),
    "/people/{missing}/edit":      (LOGIN,    404,   404,   404,   404,   403),
    "/vehicles/{vehicle}/edit":    (LOGIN,    200,   200,   200,   404,   403),
    "/vehicles/{missing}/edit":    (LOGIN,    404,   404,   404,   404,   403),
    "/networks/people/{person}.json":     (401, 200,   200,   200,   404,   403),  # JSON: 401, not the sign-in page
    "/networks/people/{child}.json":      (401, 404,   200,   404,   200,   403),
    "/networks/vehicles/{vehicle}.json":  (401, 200,   200,   200,   404,   403),
    "/networks/locations/{location}.json": (401, 200,   200,   200,   404,   403),
    "/networks/organisations/{organisation}.json": (401, 200, 200, 200, 404, 403),
    "/people/{child}":             (LOGIN,    404,   200,   404,   200,   403),
    "/people/{missing}":           (LOGIN,    404,   404,   404,   404,   403),
    "/vehicles/{vehicle}":         (LOGIN,    200,   200,   200,   404,   403),
    "/vehicles/{missing}":         (LOGIN,    404,   404,   404,   404,   403),
    "/locations/{location}":       (LOGIN,    200,   200,   200,   404,   403),
    "/locations/{missing}":        (LOGIN,    404,   404,   404,   404,   403),
    "/locations/new":              (LOGIN,    200,   200,   403,   403,   403),
    "/locations/{location}/edit":  (LOGIN,    200,   200,   403,   403,   403),
    "/organisations/new":          (LOGIN,    200,   200,   403,   403,   403),
    "/organisations/{organisation}": (LOGIN,  200,   200,   200,   404,   403),
    "/organisations/{organisation}/edit": (LOGIN, 200, 200,  403,   403,   403),
    "/review":                     (LOGIN,    403,   200,   403,   403,   403),
    "/dashboard":                  (LOGIN,    200,   200,   403,   403,   403),
    "/dashboard?beat={beat}&period=7": (LOGIN, 200,  200,   403,   403,   403),
    "/dashboard?beat={missing}":   (LOGIN,    404,   404,   403,   403,   403),  # not theirs, or no such beat
    "/dashboard?period=forever":   (LOGIN,    400,   400,   403,   403,   403),  # a bad choice: 400, never 500
    "/briefing":                   LOGGER_PAGE,
    "/patrols/suggested":          LOGGER_PAGE,
    "/patrols/suggested/{missing}/start": (LOGIN, 404, 404, 403, 403, 403),  # only one shown to the officer
    "/briefing.pdf":               LOGGER_PAGE,
    "/beats/{beat}/priorities/new": (LOGIN,   403,   200,   403,   403,   403),
    "/beats/{missing}/priorities/new": (LOGIN, 403,  404,   403,   403,   403),
    "/priorities/{missing}/edit":  (LOGIN,    403,   404,   403,   403,   403),
    "/admin/users":                (LOGIN,    403,   403,   403,   403,   200),
    "/admin/users/{author}":       (LOGIN,    403,   403,   403,   403,   200),
    "/admin/users/{missing}":      (LOGIN,    403,   403,   403,   403,   404),
    "/retention":                  (LOGIN,    403,   403,   403,   403,   200),
    "/retention?kind=burglaries":  (LOGIN,    403,   403,   403,   403,   400),  # a bad filter: 400, never 500
    "/retention/entries/{welfare}": (LOGIN,   403,   403,   403,   403,   200),  # metadata only (docs/RETENTION.md)
    "/retention/people/{child}":   (LOGIN,    403,   403,   403,   403,   200),
    "/retention/vehicles/{missing}": (LOGIN,  403,   403,   403,   403,   404),
    "/account/tokens":             (LOGIN,    200,   200,   200,   200,   200),
    "/login/code":                 (LOGIN,    LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),  # no password passed: start again
    "/login/set-up-code":          (LOGIN,    LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    "/account/security":           (LOGIN,    200,   200,   200,   200,   200),
    "/account/password":           (LOGIN,    200,   200,   200,   200,   200),
    "/account/two-step":           (LOGIN,    200) + ("redirect to /account/security",) * 4,  # theirs is set up
    "/admin/users/{author}/tokens": (LOGIN,   403,   403,   403,   403,   200),
    "/admin/users/{missing}/tokens": (LOGIN,  403,   403,   403,   403,   404),
    "/audit/":                     (LOGIN,    403,   403,   403,   403,   403),  # auditors only: AUDITOR_ANSWERS
    "/audit/people?collar=ZZ0000": (LOGIN,    403,   403,   403,   403,   403),
    "/audit/records?type=entry&id={welfare}": (LOGIN, 403, 403, 403, 403, 403),
    "/audit/events?action=view":   (LOGIN,    403,   403,   403,   403,   403),
    "/audit/unusual":              (LOGIN,    403,   403,   403,   403,   403),
    "/audit/export?action=view":   (LOGIN,    403,   403,   403,   403,   403),
    "/jobs":                       (LOGIN,    200,   200,   200,   200,   200),
    "/jobs/NoSuchJobNoSuchJob00":  (LOGIN,    404,   404,   404,   404,   404),  # anyone else's is missing too
    "/jobs/NoSuchJobNoSuchJob00/status": (LOGIN, 404, 404,   404,   404,   404),
    "/case-reviews":               (LOGIN,    200,   200,   200,   403,   403),
    "/case-reviews/new":           (LOGIN,    200,   200,   200,   403,   403),
    "/case-reviews/{missing}":     (LOGIN,    404,   404,   404,   403,   403),
}

POST_MATRIX = {  # routes that only take POST, sent with an empty body
    "/case-reviews":               (LOGIN,    404,   404,   404,   403,   403),  # 404: no victim named
    "/case-reviews/{missing}/threshold-decision": (LOGIN, 403, 404, 404, 403, 403),
    "/case-reviews/{missing}/applicant-informed": (LOGIN, 403, 404, 404, 403, 403),
    "/case-reviews/{missing}/review": (LOGIN,  403,   404,   404,   403,   403),
    "/case-reviews/{missing}/appeal": (LOGIN,  403,   404,   404,   403,   403),
    "/case-reviews/{missing}/appeal-decision": (LOGIN, 403, 404, 404, 403, 403),
    "/case-reviews/{missing}/recommendations/{missing}": (LOGIN, 403, 404, 404, 403, 403),
    "/lists/entries/export":       (LOGIN,    403,   400,   400,   403,   403),  # 400: no purpose or recipient
    "/exports/{missing}/decision": (LOGIN,    403,   404,   404,   403,   403),
    "/exports/{missing}/download": (LOGIN,    403,   404,   404,   403,   403),
    "/entries/{sensitive}/pdf":    (LOGIN,    404,   400,   400,   404,   403),
    "/entries/{welfare}/pdf":      (LOGIN,    404,   400,   404,   400,   403),
    "/entries/{sensitive}/submit": (LOGIN,    404,   LOCKED, 403,  403,   403),
    "/patrols/{sensitive}/end":    (LOGIN,    404,   LOCKED, 403,  403,   403),
    "/entries/held/{missing}/discard": (LOGIN, 404,  404,   403,   403,   403),
    "/entries/{entry}/review":     (LOGIN,    403,   400,   403,   403,   403),  # 400: no decision chosen
    "/entries/{draft}/review":     (LOGIN,    403,   404,   403,   403,   403),
    "/entries/{entry}/amendment":  (LOGIN,    403,   404,   403,   403,   403),  # 404: no amendment waiting
    "/photos/{entry_photo}/remove": (LOGIN,   LOCKED, LOCKED, 403,  403,   403),
    "/photos/{welfare_photo}/use-offer": (LOGIN, 404, LOCKED, 403,  403,   403),
    "/photos/{missing}/dismiss-offer": (LOGIN, 404,  404,   403,   403,   403),
    "/briefing.pdf":               (LOGIN,    400,   400,   403,   403,   403),  # 400: no purpose or recipient
    "/shift/start":                (LOGIN,    "redirect to /briefing", "redirect to /briefing", 403, 403, 403),
    "/shift/end":                  (LOGIN,    HOME,  HOME,  403,   403,   403),
    "/priorities/{missing}/close": (LOGIN,    403,   404,   403,   403,   403),
    "/geo/locate":                 (401,      400,   400,   403,   403,   403),
    "/geo/postcode":               (401,      404,   404,   403,   403,   403),
    "/people/suggest":             (401,      200,   200,   403,   403,   403),
    "/locations/suggest":          (401,      200,   200,   403,   403,   403),
    "/organisations/suggest":      (401,      200,   200,   403,   403,   403),
    "/vehicles/suggest":           (401,      200,   200,   403,   403,   403),
    "/people/{person}/merge":      (LOGIN,    403,   400,   400,   404,   403),  # 400: no other record named
    "/people/{child}/merge":       (LOGIN,    403,   400,   404,   400,   403),
    "/vehicles/{vehicle}/merge":   (LOGIN,    403,   400,   400,   404,   403),
    "/vehicles/{missing}/merge":   (LOGIN,    403,   404,   404,   404,   403),
    "/locations/{missing}/merge":  (LOGIN,    403,   404,   404,   404,   403),
    "/organisations/{missing}/merge": (LOGIN, 403,   404,   404,   404,   403),
    "/asb-incidents/{entry}/risk-reviews": (LOGIN, 403, 400,  403,   403,   403),  # 400: no victim or level chosen
    "/asb-incidents/{welfare}/risk-reviews": (LOGIN, 403, 404, 403,  403,   403),
    "/asb-incidents/{missing}/risk-reviews": (LOGIN, 403, 404, 403,  403,   403),
    "/account/tokens":             (LOGIN,    400,   400,   400,   400,   400),  # 400: no name
    "/account/tokens/{missing}/revoke": (LOGIN, 404,  404,   404,   404,   404),
    "/account/password":           (LOGIN,    400,   400,   400,   400,   400),  # 400: nothing typed
    "/admin/users/{missing}/unlock": (LOGIN,  403,   403,   403,   403,   404),
    "/admin/users/{missing}/reset-password": (LOGIN, 403, 403, 403, 403, 404),
    "/admin/users/{author}/tokens/{missing}/revoke": (LOGIN, 403, 403, 403, 403, 404),
    "/entries/{sensitive}/reason": (LOGIN,    404,   400,   400,   404,   403),  # 400: no reason chosen
    "/entries/{welfare}/reason":   (LOGIN,    404,   400,   404,   400,   403),
    "/audit/export":               (LOGIN,    403,   403,   403,   403,   403),
    "/jobs/NoSuchJobNoSuchJob00/download": (LOGIN, 404, 404, 404,   404,   404),
    "/people/{missing}/aliases":   (LOGIN,    404,   404,   404,   404,   403),
    "/people/{missing}/aliases/remove": (LOGIN, 404, 404,   404,   404,   403),
    "/people/{missing}/markers":   (LOGIN,    404,   404,   404,   404,   403),
    "/people/{person}/markers/{missing}/review": (LOGIN, 404, 404, 404, 404, 403),
    "/people/{person}/markers/{missing}/remove": (LOGIN, 400, 400, 400, 404, 403),  # 400: no reason given
    "/people/{missing}/addresses": (LOGIN,    404,   404,   404,   404,   403),
    "/people/{person}/addresses/{missing}/remove": (LOGIN, 404, 404, 404, 404, 403),
    "/logout":                     (LOGIN,    LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),  # last: it signs out
}


# The auditor (professional standards) reads the audit log and nothing else: every route in the two tables above
# answers them 403 (refused for the route, whatever the id) except these, written by hand like the rows above.
AUDITOR_ANSWERS = {
    ("GET", "/"): 200, ("GET", "/healthz"): 200, ("GET", "/readyz"): 200, ("GET", "/manifest.webmanifest"): 200, ("GET", "/login"): HOME,
    ("GET", "/sw.js"): 200, ("GET", "/account/tokens"): 200,
    ("GET", "/audit/"): 200, ("GET", "/audit/people?collar=ZZ0000"): 400,  # no officer has that collar here
    ("GET", "/audit/records?type=entry&id={welfare}"): 200, ("GET", "/audit/events?action=view"): 200,
    ("GET", "/audit/unusual"): 200, ("GET", "/audit/export?action=view"): 200,
    ("POST", "/audit/export"): 400,  # 400: no purpose or recipient
    ("POST", "/account/tokens"): 400, ("POST", "/account/tokens/{missing}/revoke"): 404, ("POST", "/logout"): LOGIN,
    # their own password and second factor, like everyone's (the auditor's two-step code is already set up)
    ("GET", "/login/code"): LOGIN, ("GET", "/login/set-up-code"): LOGIN, ("GET", "/account/security"): 200,
    ("GET", "/account/password"): 200, ("GET", "/account/two-step"): "redirect to /account/security",
    ("POST", "/account/password"): 400,
}


def auditor_expected(method: str, url: str):
    return AUDITOR_ANSWERS.get((method, url), 403)


def page_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static" and not rule.rule.startswith("/api/")]


def _endpoint(app, url: str, method: str) -> str:
    return app.url_map.bind("localhost").match(url.partition("?")[0].format(**dict.fromkeys(
        ["beat", "missing", "entry", "sensitive", "welfare", "draft", "author", "intel", "person", "vehicle", "location", "organisation",
         "child", "entry_photo", "welfare_photo", "draft_photo"], 1)), method=method)[0]


def test_every_endpoint_has_the_intended_access(app):
    declared = {rule.endpoint: app.view_functions[rule.endpoint].access
                for rule in page_rules(app)}
    assert set(declared) == set(ACCESS), "add the new endpoint to ACCESS and the matrices in this file"
    different = {name: (ACCESS[name], declared[name]) for name in ACCESS if ACCESS[name] != declared[name]}
    assert not different, f"intended vs declared access: {different}"


def test_matrices_cover_every_endpoint_and_agree_with_access(app):
    covered = {_endpoint(app, url, "GET") for url in GET_MATRIX}
    covered |= {_endpoint(app, url, "POST") for url in POST_MATRIX}
    assert covered == set(ACCESS)
    get_endpoints = {r.endpoint for r in page_rules(app) if "GET" in r.methods}
    assert get_endpoints <= {_endpoint(app, url, "GET") for url in GET_MATRIX}

    problems = []
    for method, matrix in (("GET", GET_MATRIX), ("POST", POST_MATRIX)):
        for url, row in matrix.items():
            allowed = ACCESS[_endpoint(app, url, method)]
            for actor, expected in zip(ACTORS, row):
                if allowed == PUBLIC:
                    ok = actor == "anonymous" or expected != 403
                elif actor == "anonymous":
                    ok = expected in (LOGIN, 401)
                elif actor in allowed:
                    ok = expected != 403 and (expected != LOGIN or url == "/logout")
                else:
                    ok = expected == 403
                if not ok:
                    problems.append(f"{method} {url} as {actor}: table says {expected}, access is {allowed}")
    assert not problems, "\n".join(problems)


def test_the_auditors_answers_agree_with_access(app):
    matrices = {"GET": GET_MATRIX, "POST": POST_MATRIX}
    assert all(url in matrices[method] for method, url in AUDITOR_ANSWERS), "AUDITOR_ANSWERS names a url not above"
    problems = []
    for method, matrix in matrices.items():
        for url in matrix:
            allowed, expected = ACCESS[_endpoint(app, url, method)], auditor_expected(method, url)
            ok = expected != 403 if allowed == PUBLIC or Role.AUDITOR in allowed else expected == 403
            if not ok:
                problems.append(f"{method} {url} as auditor: table says {expected}, access is {allowed}")
    assert not problems, "\n".join(problems)


def test_the_auditor_gets_what_the_matrix_says(app, matrix_objects):
    _, ids = matrix_objects
    auditor = factories.user(Role.AUDITOR)
    db.session.commit()
    browser, mismatches = signed_in(app, auditor), []
    for method, matrix in (("GET", GET_MATRIX), ("POST", POST_MATRIX)):
        for template in matrix:
            url = template.format(**ids)
            got = _outcome(browser.open(url, method=method), url)
            if got != auditor_expected(method, template):
                mismatches.append(f"{method} {template} as auditor: expected {auditor_expected(method, template)}, "
                                  f"got {got}")
    assert not mismatches, "\n".join(mismatches)


@pytest.fixture
def matrix_objects(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    people = {role: factories.user(role, beats=[OLD_TRAFFORD] if role == Role.PCSO else ())
              for role in ACTORS if role != "anonymous"}
    ids = {
        "beat": factories.beat(OLD_TRAFFORD).id,
        "author": author.id,
        "entry": factories.asb(author, OLD_TRAFFORD).id,
        "sensitive": factories.asb(author, OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL_SENSITIVE).id,
        "welfare": factories.welfare(author, beat_code=OLD_TRAFFORD).id,
        "draft": factories.asb(people[Role.PCSO], OLD_TRAFFORD, status=EntryStatus.DRAFT).id,
        "intel": factories.intel(author, OLD_TRAFFORD).id,
    }
    incident = db.session.get(AsbIncident, ids["entry"])
    ids["person"] = factories.link(incident, factories.person("Matrix Person"), LinkRole.WITNESS).person_id
    ids["vehicle"] = factories.link(incident, factories.vehicle("MA71 TRX")).vehicle_id
    ids["location"] = factories.link(incident, factories.location("Matrix Road", "M16 0AA")).location_id
    shop = Organisation(name="Matrix Shop", name_key="matrix shop", org_type=OrganisationType.SHOP,
                        review_due=date.today())
    db.session.add(shop)
    db.session.flush()
    ids["organisation"] = factories.link(incident, shop, LinkRole.VENUE).organisation_id
    ids["child"] = db.session.get(WelfareCheck, ids["welfare"]).child.id
    for name in ("entry", "welfare", "draft"):
        entry = db.session.get(Entry, ids[name])
        ids[f"{name}_photo"] = factories.photo(entry, gps=factories.GPS_M15_4AD).id
    ids["missing"] = max(ids.values()) + 10_000
    db.session.commit()
    return people, ids


def _outcome(response, url: str):
    if response.status_code in (301, 302, 303):
        target = urlsplit(response.location)
        if target.path == "/login" and parse_qs(target.query).get("next", [url]) == [url]:
            return LOGIN
        if response.location == "/":
            return HOME
        return f"redirect to {response.location}"
    return response.status_code


def test_each_role_gets_what_the_matrix_says(app, matrix_objects):
    people, ids = matrix_objects
    mismatches = []
    for column, actor in enumerate(ACTORS):
        browser = app.test_client() if actor == "anonymous" else signed_in(app, people[actor])
        for method, matrix in (("GET", GET_MATRIX), ("POST", POST_MATRIX)):
            for template, row in matrix.items():
                url = template.format(**ids)
                response = browser.open(url, method=method)
                got = _outcome(response, url)
                if got != (403 if row[column] == LOCKED else row[column]):
                    mismatches.append(f"{method} {template} as {actor}: expected {row[column]}, got {got}")
    assert not mismatches, "\n".join(mismatches)


# --- welfare checks -----------------------------------------------------------------------------------------

@pytest.fixture
def welfare_world(app):
    """A welfare check on Old Trafford by one PCSO whose SPOC is a PCSO on another beat."""
    people = {
        "author": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "spoc": factories.user(Role.PCSO, beats=[ALTRINCHAM]),
        "colleague": factories.user(Role.PCSO, beats=[OLD_TRAFFORD]),
        "supervisor": factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD]),
        "safeguarding": factories.user(Role.SAFEGUARDING),
        "analyst": factories.user(Role.ANALYST),
        "admin": factories.user(Role.ADMIN),
    }
    check = factories.welfare(people["author"], spoc=people["spoc"], beat_code=OLD_TRAFFORD,
                              child_name="Casey Welfarename")
    incident = factories.asb(people["author"], OLD_TRAFFORD)  # an ordinary entry everyone on the beat sees
    db.session.commit()
    return people, check, incident


WELFARE_CHECK_STATUS = {
    "author": 200, "spoc": 200, "supervisor": 200, "safeguarding": 200,
    "colleague": 404, "analyst": 404,  # a PCSO on the same beat, and an analyst, are told it does not exist
    "admin": 403,  # admins open no entry at all: refused for the route, whatever the id
}


def test_welfare_check_is_seen_only_by_author_spoc_supervisor_and_safeguarding(app, welfare_world):
    people, check, _ = welfare_world
    answers, leaks = {}, []
    for who in WELFARE_CHECK_STATUS:
        response = signed_in(app, people[who]).get(f"/entries/{check.id}")
        answers[who] = response.status_code
        shown = "Casey Welfarename" in response.get_data(as_text=True)
        if shown != (response.status_code == 200):
            leaks.append(who)
        if response.status_code == 200:
            marking = soup(response).select_one("[data-testid=marking]").get_text(strip=True)
            assert marking == "OFFICIAL-SENSITIVE", who
    assert answers == WELFARE_CHECK_STATUS
    assert not leaks, f"child's name shown on a refusal, or missing from the page: {leaks}"


def test_colleague_and_analyst_cannot_find_a_welfare_check_in_lists(app, welfare_world):
    people, check, incident = welfare_world
    beat_page = f"/beats/{factories.beat(OLD_TRAFFORD).id}"
    for who in ("colleague", "analyst"):
        listed = listed_ids(signed_in(app, people[who]).get(beat_page))
        assert incident.id in listed, who  # the page does list what they may see...
        assert check.id not in listed, who  # ...and not the welfare check
    colleague = signed_in(app, people["colleague"])
    for url in ("/entries", "/entries?kind=welfare-checks", "/"):
        assert check.id not in listed_ids(colleague.get(url)), url
    for who in ("supervisor", "spoc", "safeguarding", "author"):
        assert check.id in listed_ids(signed_in(app, people[who]).get(beat_page)), who


def test_drafts_are_seen_only_by_their_author(app, welfare_world):
    people, _, _ = welfare_world
    draft_check = factories.welfare(people["author"], spoc=people["spoc"], beat_code=OLD_TRAFFORD,
                                    status=EntryStatus.DRAFT)
    draft_incident = factories.asb(people["author"], OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    beat_page = f"/beats/{factories.beat(OLD_TRAFFORD).id}"
    author = signed_in(app, people["author"])
    for draft in (draft_check, draft_incident):
        assert author.get(f"/entries/{draft.id}").status_code == 200
    assert {draft_check.id, draft_incident.id} <= listed_ids(author.get("/entries?status=draft"))
    for who in ("spoc", "colleague", "supervisor", "safeguarding", "analyst"):
        browser = signed_in(app, people[who])
        for draft in (draft_check, draft_incident):
            assert browser.get(f"/entries/{draft.id}").status_code == 404, (who, draft)
        assert not {draft_check.id, draft_incident.id} & listed_ids(browser.get(beat_page)), who


# --- the detail rule and the list rule agree ------------------------------------------------------------------

def test_can_view_entry_and_visible_entries_agree_for_every_user(app):
    pcso_old = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    pcso_alt = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    pcso_both = factories.user(Role.PCSO, beats=[OLD_TRAFFORD, ALTRINCHAM])
    pcso_none = factories.user(Role.PCSO)
    spoc = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    users = [pcso_old, pcso_alt, pcso_both, pcso_none, spoc, supervisor, factories.user(Role.SUPERVISOR),
             factories.user(Role.ANALYST), factories.user(Role.SAFEGUARDING), factories.user(Role.ADMIN)]
    makers = {"patrol": factories.patrol, "asb": factories.asb, "school_visit": factories.school_visit,
              "intel": factories.intel}
    authors = [(pcso_old, OLD_TRAFFORD), (pcso_alt, ALTRINCHAM), (supervisor, OLD_TRAFFORD),
               (pcso_old, ALTRINCHAM)]
    for (author, beat_code), status in itertools.product(authors, EntryStatus):
        for make, marking in itertools.product(makers.values(), SecurityMarking):
            make(author, beat_code, status=status, marking=marking)
        # welfare checks are always OFFICIAL-SENSITIVE (a database constraint); some have another SPOC
        factories.welfare(author, spoc=spoc if author is pcso_old else author, beat_code=beat_code,
                          status=status)
    db.session.commit()

    entries = db.session.scalars(sa.select(Entry)).all()
    assert len(entries) == len(authors) * len(EntryStatus) * (len(makers) * len(SecurityMarking) + 1)
    sizes = {}
    for person in users:
        by_rule = {e.id for e in entries if can_view_entry(person, e)}
        by_sql = set(db.session.scalars(sa.select(Entry.id).where(visible_entries(person))))
        assert by_rule == by_sql, (f"{person}: only the detail rule allows {sorted(by_rule - by_sql)}, "
                                   f"only the list clause allows {sorted(by_sql - by_rule)}")
        sizes[person.collar_number] = len(by_rule)
    assert 0 < sizes[pcso_old.collar_number] < len(entries)  # the spread really separates users
    assert sizes[pcso_none.collar_number] < sizes[pcso_both.collar_number]
    assert len(set(sizes.values())) >= 5, sizes


# --- writes ---------------------------------------------------------------------------------------------------

def test_pcso_cannot_edit_or_submit_another_pcsos_draft(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    draft = factories.asb(author, OLD_TRAFFORD, status=EntryStatus.DRAFT)
    db.session.commit()
    browser = signed_in(app, colleague)
    assert browser.post(f"/entries/{draft.id}/edit", data=factories.asb_form(description="Rewritten")).status_code == 404
    assert browser.post(f"/entries/{draft.id}/submit").status_code == 404
    db.session.expire_all()
    draft = db.session.get(AsbIncident, draft.id)
    assert (draft.status, draft.description) == (EntryStatus.DRAFT, "Youths shouting")
    assert db.session.scalar(sa.select(sa.func.count(EntryRevision.id))) == 0


def test_pcso_cannot_edit_or_resubmit_their_submitted_entry(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    entry = factories.asb(author, OLD_TRAFFORD)
    db.session.commit()
    browser = signed_in(app, author)
    assert browser.post(f"/entries/{entry.id}/edit", data=factories.asb_form(description="Rewritten")).status_code == 403
    assert browser.post(f"/entries/{entry.id}/submit").status_code == 403
    db.session.expire_all()
    assert db.session.get(AsbIncident, entry.id).description == "Youths shouting"
    assert db.session.scalar(sa.select(sa.func.count(EntryRevision.id))) == 0


def test_analyst_cannot_log_an_asb_incident(app):
    analyst = factories.user(Role.ANALYST)
    pcso = factories.user(Role.PCSO)
    db.session.commit()
    assert signed_in(app, analyst).post("/asb-incidents/new", data=factories.asb_form()).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 0
    # the same form from a PCSO is accepted, so the 403 is about the role, not the form
    response = signed_in(app, pcso).post("/asb-incidents/new", data=factories.asb_form())
    assert response.location == f"/entries/{db.session.scalar(sa.select(Entry.id))}"


# --- administration -------------------------------------------------------------------------------------------

def test_only_admin_can_reach_user_administration(app):
    people = {role: factories.user(role) for role in Role}
    db.session.commit()
    for role, person in people.items():
        response = signed_in(app, person).get("/admin/users")
        if role == Role.ADMIN:
            assert response.status_code == 200
            rows = soup(response).select("tbody tr")
            collars = {row.select_one("[data-label=Collar]").get_text(strip=True) for row in rows}
            assert collars == {p.collar_number for p in people.values()}
        else:
            assert response.status_code == 403, role


def test_admin_can_change_an_officers_beats(app):
    admin = factories.user(Role.ADMIN)
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    browser = signed_in(app, admin)
    page = soup(browser.get(f"/admin/users/{officer.id}"))
    checked = {int(box["value"]) for box in page.select("input[name=beats][checked]")}
    assert checked == {factories.beat(OLD_TRAFFORD).id}

    altrincham = factories.beat(ALTRINCHAM)
    response = browser.post(f"/admin/users/{officer.id}", data={
        "role": "pcso", "is_enabled": "y", "beats": [str(altrincham.id)]})
    assert response.location == "/admin/users"
    db.session.expire_all()
    assert [b.code for b in db.session.get(type(officer), officer.id).beats] == [ALTRINCHAM]
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == AuditAction.UPDATE, AuditEvent.object_type == "user",
        AuditEvent.object_id == officer.id)).one()
    assert event.actor_id == admin.id
    assert event.details == {"field": "beats", "before": [OLD_TRAFFORD], "after": [ALTRINCHAM]}


def test_admin_changing_a_role_signs_the_officer_out(app):
    admin = factories.user(Role.ADMIN)
    officer = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    db.session.commit()
    officer_browser = signed_in(app, officer)
    assert officer_browser.get("/entries").status_code == 200
    response = signed_in(app, admin).post(f"/admin/users/{officer.id}", data={
        "role": "analyst", "is_enabled": "y", "beats": [str(factories.beat(OLD_TRAFFORD).id)]})
    assert response.location == "/admin/users"
    response = officer_browser.get("/entries")
    assert urlsplit(response.location).path == "/login"
    session = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == officer.id)).one()
    assert session.end_reason == "account_changed"
