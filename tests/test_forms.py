"""Input rules: each gives a clear message on the right field, whether the form's own field checks or the
kind's and the services' rules (which the API and sync share) catch it."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from pcso.entries.kinds.asb_incident import AsbIncidentForm
from pcso.entries.kinds.welfare_check import WelfareCheckForm
from pcso.entries.placing import resolve_place
from pcso.models import Role
from pcso.timeutil import to_london, utcnow
from tests import factories


def now_local(delta=timedelta()) -> str:
    return to_london(utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


def asb_data(**extra):
    data = {"client_key": str(uuid.uuid4()), "occurred_at": now_local(), "summary": "s", "marking": "OFFICIAL",
            "postcode": "M15 4AD", "nsir_category": "nuisance", "asb_type": "noise", "description": "loud"}
    data.update(extra)
    return data


def validate(app, form_cls, data, **kwargs):
    return factories.validate_entry_form(app, form_cls, data, **kwargs)


def test_asb_form_accepts_a_postcode_and_resolves_it(app):
    ok, form = validate(app, AsbIncidentForm, asb_data())
    assert ok, form.errors
    with app.test_request_context(method="POST", data=asb_data()):
        resolved = resolve_place(AsbIncidentForm().place_input())
    assert resolved.source == "postcode"
    assert resolved.lat == pytest.approx(53.464903, abs=1e-6)


@pytest.mark.parametrize("extra, field, words", [
    ({"occurred_at": now_local(timedelta(hours=2))}, "occurred_at", "future"),
    ({"occurred_at": "yesterday"}, "occurred_at", "valid"),
    ({"people-0-name": "Sam", "people-0-role": ""}, "people", "role"),
    ({"people-0-role": "victim"}, "people", "name"),
    ({"people-0-name": "Sam", "people-0-role": "victim"}, "victim_risk", "risk"),
    ({"vehicles-0-vrm": "not a plate!!"}, "vehicles", "registration"),
    ({"postcode": "ZZ99 9ZZ"}, "postcode", "not found"),
    ({"postcode": "", "lat": "53.46", "lon": "-2.26", "accuracy_m": "5000", "location_source": "gps"},
     "postcode", "accurate"),
    ({"postcode": "", "lat": "abc", "lon": "-2.26"}, "postcode", "could not be read"),
    ({"nsir_category": "bogus"}, "nsir_category", "valid"),
    ({"description": "x" * 20_001}, "description", "under"),
    ({"client_key": "<script>"}, "client_key", "key"),
])
def test_asb_form_rejects_bad_input(app, extra, field, words):
    ok, form = validate(app, AsbIncidentForm, asb_data(**extra))
    assert not ok
    assert words.lower() in str(form.errors.get(field, "")).lower() + " ".join(form.postcode.errors).lower()


def welfare_data(born_on, **extra):
    data = {"client_key": str(uuid.uuid4()), "occurred_at": now_local(), "summary": "s", "postcode": "M15 4AD",
            "child_name": "Alex", "child_born_on": born_on, "spoc_id": "", "visit_type": "planned",
            "is_seen_alone": "yes", "risk_level": "low"}
    data.update(extra)
    return data


def test_welfare_form_checks_age_and_actions(app):
    spoc = factories.user(Role.PCSO)
    today = to_london(utcnow()).date()
    eighteen = today.replace(year=today.year - 18).isoformat()
    seventeen = (today.replace(year=today.year - 18) + timedelta(days=1)).isoformat()
    ok, form = validate(app, WelfareCheckForm, welfare_data(eighteen, spoc_id=str(spoc.id)), spocs=[spoc])
    assert not ok and "under 18" in form.child_born_on.errors[0]
    ok, form = validate(app, WelfareCheckForm, welfare_data(seventeen, spoc_id=str(spoc.id)), spocs=[spoc])
    assert ok, form.errors
    ok, form = validate(app, WelfareCheckForm, welfare_data(
        seventeen, spoc_id=str(spoc.id), is_mash_referral="y", is_seen_alone="no",
        next_visit_on=(today - timedelta(days=3)).isoformat()), spocs=[spoc])
    assert not ok
    assert "MASH" in form.mash_reference.errors[0]
    assert "who else" in form.is_seen_alone.errors[0]
    assert "after this one" in form.next_visit_on.errors[0]
    ok, form = validate(app, WelfareCheckForm, welfare_data(seventeen, spoc_id="999999"), spocs=[spoc])
    assert not ok and form.spoc_id.errors
