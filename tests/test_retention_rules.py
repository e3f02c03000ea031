"""The retention rules file: the provisional defaults, a force's own file, and every way a file is refused."""
from __future__ import annotations

from datetime import date

import pytest

from pcso.models import EntryKind, SecurityMarking
from pcso.retention.rules import DEFAULT_RULES_FILE, RetentionRulesError, add_years, load_rules, parse_rules
from tests.conftest import make_app

DEFAULTS = DEFAULT_RULES_FILE.read_text()


def test_the_defaults_load_and_say_what_the_docs_say():
    rules = load_rules()
    assert rules.minimum_review_years == 6 and set(rules.groups) == {"1", "2", "3", "4"}
    welfare = rules.rule_for("entry", kind=EntryKind.WELFARE_CHECK, marking=SecurityMarking.OFFICIAL_SENSITIVE)
    assert (welfare.name, welfare.safeguarding, welfare.automatic_disposal, welfare.until_age) == (
        "welfare-check", True, False, 25)
    child = rules.rule_for("person", linked_kinds={EntryKind.WELFARE_CHECK})
    assert child.name == "welfare-child" and child.safeguarding and not child.automatic_disposal
    assert rules.rule_for("person").name == "person" and not rules.rule_for("person").automatic_disposal
    patrol = rules.rule_for("entry", kind=EntryKind.PATROL, marking=SecurityMarking.OFFICIAL)
    assert (patrol.group, patrol.review_years, patrol.automatic_disposal) == ("3", 7, True)
    # An OFFICIAL-SENSITIVE ASB incident is caught by the sensitive rule before the ASB one.
    assert rules.rule_for("entry", kind=EntryKind.ASB_INCIDENT,
                          marking=SecurityMarking.OFFICIAL_SENSITIVE).name == "sensitive-entry"
    assert all(rule.review_years >= 6 and rule.source for rule in rules.rules)
    documented = (DEFAULT_RULES_FILE.parents[2] / "docs" / "RETENTION.md").read_text()
    assert all(f"`{rule.name}`" in documented for rule in rules.rules)  # every default is written up


def test_add_years_keeps_the_day_and_moves_29_february():
    assert add_years(date(2020, 2, 29), 6) == date(2026, 2, 28)
    assert add_years(date(2019, 4, 3), 7) == date(2026, 4, 3)


def _without(text: str, rule: str) -> str:
    """The defaults with one [[rules]] block taken out."""
    blocks = text.split("[[rules]]")
    return "[[rules]]".join(block for block in blocks if f'name = "{rule}"' not in block)


@pytest.mark.parametrize("text, message", [
    (DEFAULTS.replace('name = "patrol"\nrecord = "entry"\nkind = "patrol"\ngroup = 3\nreview_years = 7',
                      'name = "patrol"\nrecord = "entry"\nkind = "patrol"\ngroup = 3\nreview_years = 3'),
     "rule 6 (patrol): review_years is 3; it must be a whole number of years from 6"),
    (DEFAULTS.replace("minimum_review_years = 6", "minimum_review_years = 4"),
     "minimum_review_years is 4; it can't be below 6"),
    (DEFAULTS.replace('name = "vehicle"\nrecord = "vehicle"', 'name = "vehicle"\nrecord = "vehicles"'),
     "rule 9 (vehicle): record 'vehicles' is not one of entry, person"),
    (DEFAULTS.replace('kind = "school_visit"', 'kind = "school_trip"'),
     "rule 7 (school-visit): kind 'school_trip' is not one of patrol"),
    (DEFAULTS.replace('name = "location"\nrecord = "location"\ngroup = 3',
                      'name = "location"\nrecord = "location"\ngroup = 5'),
     "rule 10 (location): group 5 is not a MoPI group"),
    (DEFAULTS.replace("safeguarding = true\nsource = \"IICSA",
                      "safeguarding = true\nretain_forever = true\nsource = \"IICSA"),
     "rule 1 (welfare-check): unknown setting retain_forever"),
    (DEFAULTS.replace('until_age = 25\nautomatic_disposal = false\nsafeguarding = true\nsource = "IICSA',
                      'until_age = 25\nautomatic_disposal = true\nsafeguarding = true\nsource = "IICSA'),
     "rule 1 (welfare-check): a safeguarding rule can never allow automatic disposal"),
    (DEFAULTS.replace('until_age = 25\nautomatic_disposal = false\nsafeguarding = true\nsource = "IICSA',
                      'until_age = 25\nautomatic_disposal = false\nsource = "IICSA'),
     "rule welfare-check is the first for welfare checks and must say safeguarding = true"),
    (_without(DEFAULTS, "welfare-child"), "rule person is the first for a person named in a welfare check"),
    (_without(DEFAULTS, "organisation"), "no rule for every organisation"),
    (_without(_without(DEFAULTS, "patrol"), "sensitive-entry"), "no rule for an entry of kind patrol marked"),
    (DEFAULTS.replace('name = "vehicle"', 'name = "person"'), "two rules are called 'person'"),
    (DEFAULTS.replace("automatic_disposal = true\nsource = \"An object",
                      "automatic_disposal = \"yes\"\nsource = \"An object"),
     "rule 9 (vehicle): automatic_disposal is true or false, not 'yes'"),
    (DEFAULTS.replace('record = "person"\nlinked_to = "welfare_check"', 'record = "person"\nkind = "welfare_check"'),
     "rule 2 (welfare-child): kind and marking are for entries, not person records"),
    (DEFAULTS.replace('source = "As the welfare check', 'sourc = "As the welfare check'),
     "rule 2 (welfare-child): unknown setting sourc"),
    (DEFAULTS + "\n[[rules]\n", "not valid TOML"),
    (DEFAULTS.replace("[groups]\n1 = ", "[groups]\n0 = "), "[groups] must name the MoPI groups 1, 2, 3 and 4"),
])
def test_a_file_that_cant_be_applied_is_refused_naming_the_rule(text, message):
    with pytest.raises(RetentionRulesError) as refused:
        parse_rules(text, path="force.toml")
    assert message in str(refused.value) and str(refused.value).startswith("force.toml")


def test_a_force_file_replaces_the_defaults(tmp_path):
    own = tmp_path / "force.toml"
    own.write_text(DEFAULTS.replace('name = "patrol"\nrecord = "entry"\nkind = "patrol"\ngroup = 3\nreview_years = 7',
                                    'name = "patrol"\nrecord = "entry"\nkind = "patrol"\ngroup = 3\nreview_years = 9'))
    app = make_app("sqlite://", RETENTION_RULES_FILE=str(own))
    rules = app.extensions["beatbook_retention_rules"]
    assert rules.path == str(own)
    assert rules.rule_for("entry", kind=EntryKind.PATROL, marking=SecurityMarking.OFFICIAL).review_years == 9


def test_the_app_refuses_to_start_with_a_bad_file(tmp_path):
    bad = tmp_path / "force.toml"
    bad.write_text(DEFAULTS.replace("review_years = 7", "review_years = 2", 1))
    with pytest.raises(RetentionRulesError, match=r"rule 6 \(patrol\): review_years is 2"):
        make_app("sqlite://", RETENTION_RULES_FILE=str(bad))
    with pytest.raises(RetentionRulesError, match="can't be read"):
        make_app("sqlite://", RETENTION_RULES_FILE=str(tmp_path / "missing.toml"))
