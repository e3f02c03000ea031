"""The phone checks an entry by the server's rules before queuing it (static/js/rules.js), so what waits on
the phone is what the server accepts. The same filled-in forms are checked by both here, and must agree:
for ~25 forms of each kind, with one to three things wrong (or nothing), the phone accepts exactly the forms
the server accepts (POST /api/v1/forms/<kind>, which runs the page's own form and services), and names at
least every field the server names (the server may name fewer: its form's checks go before its services').

Not covered: text longer than a field's maxlength (the browser won't let it be typed), and what only the
server can know (a postcode outside the phone's list, a record merged meanwhile): those come back from
the server, and the entry then needs attention."""
from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.models import Entry, User
from pcso.timeutil import to_london, utcnow
from tests.api.helpers import token
from tests.browser.conftest import login

SCENARIOS = 25


def london(delta: timedelta = timedelta(0), fmt: str = "%Y-%m-%dT%H:%M") -> str:
    return to_london(utcnow() + delta).strftime(fmt)


def day(delta_days: int) -> str:
    return london(timedelta(days=delta_days), "%Y-%m-%d")


# Valid values per kind; then the ways each can go wrong. A mutation is {field: value} ("" blanks it).
COMMON_WRONG = [{"occurred_at": ""}, {"occurred_at": london(timedelta(hours=3))}, {"occurred_at": "1999-06-01T10:00"},
                {"summary": ""}]
PEOPLE_WRONG = [{"people-0-name": "Jordan Lee", "people-0-role": ""}, {"people-0-role": "suspect"},
                {"people-0-name": "Jordan Lee", "people-0-role": "suspect", "people-0-born_on": day(30)},
                {"vehicles-0-vrm": "A"}, {"vehicles-0-make": "Ford"}, {"vehicles-0-vrm": "ab12 cde"}]
KINDS = {
    "asb-incidents": ({"summary": "Ball games at the tram stop", "nsir_category": "nuisance", "asb_type": "noise",
                       "description": "Kicking a ball at cars", "postcode": "M15 4AD"},
                      COMMON_WRONG + PEOPLE_WRONG + [
                          {"nsir_category": ""}, {"asb_type": ""}, {"description": ""},
                          {"people-0-name": "Ann Victim", "people-0-role": "victim"},
                          {"people-0-name": "Ann Victim", "people-0-role": "victim", "victim_risk": "low"}]),
    "intelligence-reports": ({"summary": "The grey Fiesta", "sanitised_text": "Seen outside the shop most evenings",
                              "source_evaluation": "2", "assessment": "B", "handling_code": "P",
                              "marking": "OFFICIAL-SENSITIVE", "postcode": "M15 4AD"},
                             COMMON_WRONG + PEOPLE_WRONG + [{"postcode": ""}, {"postcode": "", "beat_id": "FIRST"},
                                 {"handling_code": "C"}, {"handling_code": "C", "handling_conditions": "Not to the school"},
                                 {"handling_conditions": "Only to CID"}, {"marking": "OFFICIAL"},
                                 {"marking": "OFFICIAL", "handling_code": "C", "handling_conditions": "x"},
                                 {"sanitised_text": ""}, {"assessment": ""}]),
    "welfare-checks": ({"summary": "Planned visit", "child_name": "Sam Child", "child_born_on": day(-365 * 13),
                        "visit_type": "planned", "is_seen_alone": "yes", "risk_level": "medium",
                        "child_words": "Said he is fine"},
                       COMMON_WRONG + [
                           {"child_born_on": ""}, {"child_born_on": day(2)}, {"child_born_on": day(-365 * 19)},
                           {"is_seen_alone": "no"}, {"is_seen_alone": "no", "others_present": "Mother"},
                           {"is_mash_referral": "y"}, {"is_mash_referral": "y", "mash_reference": "MASH-1"},
                           {"next_visit_on": day(-3)}, {"next_visit_on": day(7)}, {"risk_level": ""},
                           {"child_name": ""}, {"visit_type": ""}]),
    "patrols": ({"mode": "foot", "purpose": "Tram stop", "postcode": "M15 4AD"},
                [{"occurred_at": ""}, {"occurred_at": london(timedelta(hours=3))}, {"purpose": ""}, {"mode": ""}]),
    "school-visits": ({"summary": "Assembly on knife crime", "visit_type": "assembly", "topic": "Knife crime",
                       "audience_size": "120", "school_id": "FIRST"},
                      COMMON_WRONG + [{"topic": ""}, {"visit_type": ""}, {"audience_size": "0"}, {"school_id": ""},
                                      {"audience_size": "6000"}, {"audience_size": "30"}]),
}

JS_CHECK = """([values, radios]) => {
    const form = document.querySelector('form[data-entry-form]');
    for (const [name, value] of Object.entries(values)) {
        const fields = form.querySelectorAll(`[name="${name}"]`);
        fields.forEach(f => {
            if (f.type === 'radio' || f.type === 'checkbox') f.checked = value !== '' && f.value === value;
            else if (value === 'FIRST') f.value = [...f.options].find(o => o.value).value;
            else f.value = value;
        });
    }
    return { pairs: BeatbookDrafts.pairs(form), errors: Object.keys(BeatbookRules.check(form)).sort() };
}"""


def scenarios(slug: str) -> list[dict]:
    valid, wrongs = KINDS[slug]
    rng = random.Random(slug)
    made = [dict(valid)] + [valid | wrong for wrong in wrongs]  # each wrong alone, then mixes
    while len(made) < len(wrongs) + 1 + SCENARIOS:
        mixed = dict(valid)
        for wrong in rng.sample(wrongs, rng.randint(2, 3)):
            mixed |= wrong
        made.append(mixed)
    return made


def server_errors(live_app, officer, slug: str, pairs: list) -> list[str]:
    with live_app.app_context():
        secret = token(db.session.get(User, officer.id))
        response = live_app.test_client().post(
            f"/api/v1/forms/{slug}?submit=true", json={"fields": pairs},
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code in (201, 422), (response.status_code, response.get_json())
        found = sorted(response.get_json().get("errors", {})) if response.status_code == 422 else []
        db.session.execute(sa.delete(Entry).where(Entry.author_id == officer.id))
        db.session.commit()
        db.session.remove()
    return found


@pytest.mark.parametrize("slug", sorted(KINDS))
def test_the_phone_and_the_server_refuse_the_same_fields(live_app, page, make_user, no_entries, slug):
    officer = make_user()
    login(page, officer)
    disagreements = []
    for values in scenarios(slug):
        page.goto(f"/{slug}/new")
        page.wait_for_function("() => window.BeatbookRules && window.BeatbookDrafts")
        checked = page.evaluate(JS_CHECK, [values, []])
        server = server_errors(live_app, officer, slug, checked["pairs"])
        phone = checked["errors"]
        if bool(phone) != bool(server) or not set(server) <= set(phone):
            disagreements.append(f"{values}: phone {phone} server {server}")
    assert not disagreements, "\n".join(disagreements)
