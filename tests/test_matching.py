"""The person and vehicle matcher (pcso/pole/matching.py): pure functions, no database."""
from __future__ import annotations

import gc
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from pcso.pole import matching
from pcso.pole.matching import Query, is_match, person_keys, score

TODAY = date(2026, 12, 3)


def test_tokens_are_lower_case_letters_with_hyphens_split():
    assert matching.tokens(" Mary-Jane  O'Brien ") == ["mary", "jane", "obrien"]
    assert matching.tokens("") == [] and matching.tokens("123 !!") == []


def test_short_forms_stand_for_their_formal_names():
    assert {"john", "jonathan"} <= matching.formal_names("jon")
    assert "william" in matching.formal_names("bill")
    assert "elizabeth" in matching.formal_names("liz")
    assert matching.formal_names("zebedee") == {"zebedee"}


def test_jon_smyth_is_john_smith_and_the_reason_says_why():
    match = score(Query("Jon Smyth", today=TODAY), ["John Smith"], born_on=date(1998, 5, 1))
    assert is_match(match) and match.reasons[0] == "similar name (Jon for John)"
    with_dob = score(Query("Jon Smyth", born_on=date(1998, 5, 1), today=TODAY), ["John Smith"], born_on=date(1998, 5, 1))
    assert is_match(with_dob) and "same date of birth" in with_dob.reasons and with_dob.score > match.score


def test_swapped_names_match_and_say_so():
    match = score(Query("Smith John"), ["John Smith"])
    assert is_match(match) and match.reasons[0] == "same name, swapped"
    assert score(Query("Smyth Jon"), ["John Smith"]).reasons[0] == "similar name (Jon for John), first and last swapped"


def test_nicknames_match():
    match = score(Query("Bill Turner"), ["William Turner"])
    assert is_match(match) and match.reasons[0] == "similar name (Bill for William)"
    assert is_match(score(Query("Liz Hurst"), ["Elizabeth Hurst"]))


def test_siblings_sharing_a_surname_are_not_matched():
    assert not is_match(score(Query("Sam Wrigley"), ["Dan Wrigley"]))
    assert not is_match(score(Query("James Smith"), ["John Smith"]))


def test_a_different_date_of_birth_rules_out_the_same_name():
    match = score(Query("John Smith", born_on=date(1998, 5, 1)), ["John Smith"], born_on=date(1961, 2, 9))
    assert not is_match(match)


def test_a_date_of_birth_with_day_and_month_swapped_still_matches():
    match = score(Query("John Smith", born_on=date(1998, 1, 5)), ["John Smith"], born_on=date(1998, 5, 1))
    assert is_match(match) and "date of birth nearly the same" in match.reasons


def test_an_approximate_age_agrees_with_a_date_of_birth():
    match = score(Query("Jon Smith", age=28, today=TODAY), ["John Smith"], born_on=date(1998, 5, 1))
    assert is_match(match) and "age fits (28)" in match.reasons
    assert not is_match(score(Query("Jon Smith", age=60, today=TODAY), ["John Smith"], born_on=date(1998, 5, 1)))


def test_an_alias_matches_and_is_named():
    match = score(Query("Jonny Hart"), ["Jonathan Brown", "Jonny Hart"])
    assert is_match(match) and "alias “Jonny Hart”" in match.reasons


def test_a_typo_matches_and_a_typo_in_each_name_needs_the_date_of_birth():
    assert is_match(score(Query("Jonathan Whitworht"), ["Jonathan Whitworth"]))
    assert not is_match(score(Query("Jhon Smtih"), ["John Smith"]))
    born = date(1998, 5, 1)
    assert is_match(score(Query("Jhon Smtih", born_on=born), ["John Smith"], born_on=born))
    assert is_match(score(Query("Kirsty Mcdonald"), ["Kirsty MacDonald"]))


def test_a_different_person_is_not_matched():
    assert not is_match(score(Query("Aisha Khan"), ["John Smith"]))
    assert score(Query("Aisha Khan"), []).score == 0


def tiered(query: Query, *people: tuple[str, date | None]) -> list[matching.Match]:
    matches = [score(query, [name], born_on=born_on) for name, born_on in people]
    matching.tier_matches(matches)
    return matches


def test_a_typed_date_of_birth_and_a_similar_name_is_likely():
    born = date(1998, 5, 1)
    (match,) = tiered(Query("Jon Smyth", born_on=born, today=TODAY), ("John Smith", born))
    assert match.tier == matching.LIKELY and match.reason == "similar name (Jon for John), same date of birth"
    (slip,) = tiered(Query("John Smith", born_on=date(1998, 1, 5), today=TODAY), ("John Smith", born))
    assert slip.tier == matching.LIKELY  # day and month swapped: a slip of the pen
    (near,) = tiered(Query("John Smith", born_on=date(1999, 6, 2), today=TODAY), ("John Smith", born))
    assert near.tier == matching.POSSIBLE and near.reason == "same name, born within a year"  # not the same date


def test_a_namesake_is_possible_not_likely():
    born = date(1998, 5, 1)
    one, two = tiered(Query("John Smith", today=TODAY), ("John Smith", born), ("John Smith", None))
    assert one.tier == two.tier == matching.POSSIBLE
    assert one.reason == "same name, no date of birth or age typed, another record as close"
    (undated,) = tiered(Query("John Smith", born_on=born, today=TODAY), ("John Smith", None))
    assert undated.tier == matching.POSSIBLE and undated.reason == "same name, no date of birth on record to compare"
    slip, undated = tiered(Query("John Smith", born_on=date(1998, 1, 5), today=TODAY), ("John Smith", born),
                           ("John Smith", None))
    assert slip.tier == matching.LIKELY and undated.tier == matching.POSSIBLE  # a slip of the date: still possible
    (aged,) = tiered(Query("John Smith", age=28, today=TODAY), ("John Smith", born))
    assert aged.tier == matching.POSSIBLE and aged.reason == "same name, age fits (28), only an age to compare"


def test_a_name_typed_alone_is_likely_only_clear_of_the_next_by_the_margin():
    (alone,) = tiered(Query("Kirsty Macdonald", today=TODAY), ("Kirsty MacDonald", None))
    assert alone.tier == matching.LIKELY and alone.reason == "same name, no other record comes close"
    clear, far = tiered(Query("Kirsty Macdonald", today=TODAY), ("Kirsty MacDonald", None), ("Kirsty Donald", None))
    assert far.score <= clear.score - matching.MARGIN and clear.tier == matching.LIKELY
    close, near = tiered(Query("Kirsty Macdonald", today=TODAY), ("Kirsty MacDonald", None), ("Kirsty Mcdonald", None))
    assert close.score - near.score < matching.MARGIN and close.tier == matching.POSSIBLE  # not clear by the margin
    assert near.tier is None and close.reason == "same name, no date of birth or age typed"  # far below, not offered
    (weak,) = tiered(Query("Jhon Smtih", today=TODAY), ("John Smith", None))
    assert weak.tier is None  # a typo in each name and nothing else typed: not offered at all


def test_the_very_date_of_birth_typed_on_record_leaves_nothing_merely_possible():
    born = date(1998, 5, 1)
    dated, undated, aged = tiered(Query("Jon Smith", born_on=born, today=TODAY), ("John Smith", born),
                                  ("John Smith", None), ("Jon Smith", None))
    assert dated.tier == matching.LIKELY and dated.reason == "similar name (Jon for John), same date of birth"
    assert undated.tier is None and aged.tier is None and aged.score > dated.score - 0.1  # close, but not offered


def test_a_possible_candidate_far_below_the_best_possible_one_is_not_offered():
    query = Query("Kath Brookercliffe", today=TODAY)
    best, near, far = tiered(query, ("Kath Brookercliffe", None), ("Kath Brookercliffe", None),
                             ("Cathy Brookercliffe", None))
    assert best.tier == near.tier == matching.POSSIBLE  # namesakes: nothing typed tells them apart
    assert matching.THRESHOLD <= far.score < best.score - matching.WINDOW and far.tier is None
    (alone,) = tiered(query, ("Cathy Brookercliffe", None))
    assert alone.tier is not None  # alone, it is offered
    one, other = tiered(Query("Kath Brookercliff", today=TODAY), ("Kath Brookercliffe", None),
                        ("Kath Brookercliffs", None))  # a letter dropped from either: as near as each other
    assert one.score == other.score and one.tier == other.tier == matching.POSSIBLE
    assert one.reason == "similar name, no date of birth or age typed, another record as close"


def test_cached_name_comparisons_hold_nothing_the_garbage_collector_keeps_tracking():
    result = matching.name_similarity(["jon", "smyth"], ["john", "smith"])
    assert result[1] == ("nickname", "sounds")
    for _ in range(3):  # tuples of strings and numbers are untracked once the collector has seen them (one level
        gc.collect()    # of nesting a pass); sets never are
    assert not any(gc.is_tracked(part) for part in (result, *result, *result[3]))


names = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12), min_size=2, max_size=3)


@settings(max_examples=200, deadline=None)
@given(names, st.one_of(st.none(), st.dates(date(1920, 1, 1), date(2025, 12, 31))))
def test_a_name_typed_as_recorded_matches_and_is_found_by_its_keys(parts, born_on):
    name = " ".join(parts)
    query = Query(name, born_on=born_on, today=TODAY)
    assert is_match(score(query, [name], born_on=born_on))
    stored = person_keys([name], born_on.year if born_on else None)
    assert query.keys() & stored  # candidate generation finds it
    swapped = Query(" ".join(reversed(parts)), born_on=born_on, today=TODAY)
    assert swapped.keys() & stored and is_match(score(swapped, [name], born_on=born_on))


def one_typo(word: str, at: int, edit: int, letter: str) -> str:
    at = 1 + at % (len(word) - 1)  # never the first letter, as the bench's typos
    return [word[:at] + letter + word[at + 1:], word[:at] + word[at + 1:], word[:at] + letter + word[at:],
            word[:at - 1] + word[at] + word[at - 1] + word[at + 1:]][edit]


@settings(max_examples=300, deadline=None)
@given(names, st.integers(0, 2), st.integers(0, 50), st.integers(0, 3), st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
def test_one_typo_anywhere_in_one_name_still_shares_a_key(parts, which, at, edit, letter):
    stored = person_keys([" ".join(parts)], None)
    which %= len(parts)
    typed = Query(" ".join(one_typo(p, at, edit, letter) if i == which else p for i, p in enumerate(parts)))
    assert (typed.keys() | typed.typo_keys()) & stored


def test_a_typo_early_in_a_name_changes_its_code_and_first_letters_but_not_its_keys():
    assert matching.code("ahser") != matching.code("asher") and "ahs" != "ash"
    assert matching.typo_keys("Alfie Ahser") & matching.typo_keys("Alfie Asher") >= {"d:ALF|ase", "d:ALF|ahe"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_scores_are_between_0_and_1_whatever_is_typed(typed, known):
    match = score(Query(typed), [known])
    assert 0 <= match.score <= 1


def test_look_alike_registrations():
    assert matching.vrm_shape("AB12 CDE") == matching.vrm_shape("a812cde") == matching.vrm_shape("A8IZ C0E") == "A812C0E"
    assert matching.vrm_reason("A812 CDE", "AB12CDE") == "looks like AB12 CDE"
    assert matching.vrm_reason("AB5 1OO", "ABS1OO") == "looks like ABS1OO"
    assert matching.vrm_reason("ab12cde", "AB12CDE") == "same registration"
    assert matching.vrm_reason("12CD", "AB12CDE") == "registration contains 12CD"
    assert matching.vrm_reason("XY99ZZZ", "AB12CDE") is None
