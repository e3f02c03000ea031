"""Entries from JSON: every kind through the same services as the forms, its rules named by field, and back out."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from pcso.entries.errors import EntryRejected
from pcso.entries.schema import dump_entry, load_entry_input
from pcso.entries.services import log_entry, update_entry
from pcso.extensions import db
from pcso.models import EntryKind, LinkRole, Role, School, SecurityMarking
from pcso.timeutil import utcnow
from tests import factories

NOW = lambda: (utcnow() - timedelta(minutes=5)).isoformat()  # noqa: E731


def body(kind: EntryKind, **extra) -> dict:
    spoc = factories.user(Role.PCSO)
    school = db.session.scalar(sa.select(School).limit(1))
    own = {
        EntryKind.PATROL: {"mode": "foot", "purpose": "Car crime on Shrewsbury St"},
        EntryKind.ASB_INCIDENT: {"nsir_category": "nuisance", "asb_type": "noise", "description": "Loud music",
                                 "people": [{"name": "Sam Reed", "role": "victim"}], "victim_risk": "low",
                                 "vehicles": [{"vrm": "ab12 cde", "colour": "Red"}]},
        EntryKind.SCHOOL_VISIT: {"school_id": school.id, "visit_type": "assembly", "topic": "Knife crime",
                                 "year_groups": ["Y9", "Y10"], "audience_size": 120},
        EntryKind.WELFARE_CHECK: {"child_name": "Riley Morgan", "child_born_on": "2012-03-04", "spoc_id": spoc.id,
                                  "visit_type": "planned", "is_seen_alone": True, "risk_level": "medium",
                                  "indicators": ["new_phone"]},
        EntryKind.INTELLIGENCE_REPORT: {"source_evaluation": "2", "assessment": "B", "handling_code": "P",
                                        "sanitised_text": "Red Audi at the precinct most evenings",
                                        "source_details": "Shop worker", "people": [{"name": "Dale Wrigley",
                                                                                     "role": "suspect"}]},
    }[kind]
    return {"occurred_at": NOW(), "summary": f"A {kind.noun}", "lat": 53.464903, "lon": -2.260757,
            "accuracy_m": 12, "location_source": "gps", **own, **extra}


@pytest.mark.parametrize("kind", list(EntryKind), ids=str)
def test_every_kind_can_be_logged_from_json_and_reads_back(app, kind):
    author = factories.user(Role.PCSO, beats=[factories.OLD_TRAFFORD])
    entry, created = log_entry(load_entry_input(kind, body(kind), str(uuid.uuid4())), actor=author)
    assert created and entry.kind == kind and entry.beat.code == factories.OLD_TRAFFORD
    out = dump_entry(entry, viewer=author)
    assert (out["kind"], out["summary"], out["beat_code"]) == (kind.value, f"A {kind.noun}", factories.OLD_TRAFFORD)
    assert out["occurred_at"].endswith("Z")
    if kind == EntryKind.ASB_INCIDENT:
        assert out["people"] == [{"name": "Sam Reed", "role": "victim", "person_id": entry.people_links[0].person.id,
                                  "born_on": None, "description": None}]
        assert out["vehicles"][0]["vrm"] == "AB12CDE"
    if kind == EntryKind.WELFARE_CHECK:
        assert entry.marking == SecurityMarking.OFFICIAL_SENSITIVE and out["child_name"] == "Riley Morgan"
        assert [link.role for link in entry.links] == [LinkRole.SUBJECT]
    if kind == EntryKind.SCHOOL_VISIT:
        assert out["year_groups"] == ["Y9", "Y10"]


def test_the_source_is_read_back_only_by_those_who_may_see_it(app):
    author, analyst = factories.user(Role.PCSO), factories.user(Role.ANALYST)
    report, _ = log_entry(load_entry_input(EntryKind.INTELLIGENCE_REPORT, body(EntryKind.INTELLIGENCE_REPORT),
                                           str(uuid.uuid4())), actor=author, submit=True)
    assert dump_entry(report, viewer=analyst)["source_details"] == "Shop worker"
    assert "source_details" not in dump_entry(report, viewer=author)  # no longer a draft: supervisors, analysts


@pytest.mark.parametrize("kind, extra, field", [
    (EntryKind.ASB_INCIDENT, {"victim_risk": None}, "victim_risk"),
    (EntryKind.WELFARE_CHECK, {"child_born_on": "2001-01-01"}, "child_born_on"),
    (EntryKind.WELFARE_CHECK, {"is_seen_alone": False}, "is_seen_alone"),
    (EntryKind.WELFARE_CHECK, {"is_mash_referral": True}, "mash_reference"),
    (EntryKind.WELFARE_CHECK, {"spoc_id": 999_999}, "spoc_id"),
    (EntryKind.INTELLIGENCE_REPORT, {"handling_code": "C"}, "handling_conditions"),
    (EntryKind.INTELLIGENCE_REPORT, {"marking": "OFFICIAL", "handling_code": "C", "handling_conditions": "x"},
     "marking"),
    (EntryKind.SCHOOL_VISIT, {"school_id": 999_999}, "school_id"),
    (EntryKind.PATROL, {"lat": None, "lon": None, "postcode": "ZZ99 9ZZ"}, "postcode"),
    (EntryKind.PATROL, {"lat": 51.5, "lon": -0.12}, "beat_id"),
    (EntryKind.PATROL, {"beat_id": 999_999}, "beat_id"),
    (EntryKind.PATROL, {"occurred_at": (utcnow() + timedelta(hours=1)).isoformat()}, "occurred_at"),
    (EntryKind.ASB_INCIDENT, {"summary": ""}, "summary"),
    (EntryKind.PATROL, {"accuracy_m": 5000}, "postcode"),
])
def test_the_rules_the_forms_keep_hold_for_json_and_name_the_field(app, kind, extra, field):
    author = factories.user(Role.PCSO)
    with pytest.raises(EntryRejected) as refused:
        log_entry(load_entry_input(kind, body(kind, **extra), str(uuid.uuid4())), actor=author)
    assert field in refused.value.errors, refused.value.errors


@pytest.mark.parametrize("bad", [
    {"occurred_at": "2026-12-02T10:00:00"},  # no offset
    {"mode": "hovercraft"}, {"purpose": ""}, {"lat": "north"}, {"lat": 91}, {"beat_id": "1"}, {"colour": "red"},
])
def test_malformed_json_is_refused_by_the_schema_with_the_field_named(app, bad):
    with pytest.raises(ValidationError) as refused:
        load_entry_input(EntryKind.PATROL, body(EntryKind.PATROL, **bad), "k" * 12)
    assert set(bad) <= set(refused.value.messages) | {"_schema"}


def test_a_kind_can_not_be_changed_by_an_update(app):
    author = factories.user(Role.PCSO)
    entry, _ = log_entry(load_entry_input(EntryKind.PATROL, body(EntryKind.PATROL), str(uuid.uuid4())), actor=author)
    with pytest.raises(EntryRejected) as refused:
        update_entry(entry, load_entry_input(EntryKind.ASB_INCIDENT, body(EntryKind.ASB_INCIDENT), "x" * 12),
                     actor=author)
    assert "kind" in refused.value.errors
