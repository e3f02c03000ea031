"""What bench/person_matching.py counts: the offers /people/suggest would make, by tier, for each typed name.

For each typed name the bench keeps every candidate the supervisor's suggest query scored (score, how the
dates compared, whether it was found only because its name begins as typed, and whether it is the planted
person, a namesake or someone else). `offers()` re-tiers them with matching.tier_matches() under given
thresholds and takes the top 8 as suggest.suggest_people does (likely, then possible, then "name begins"),
so a sweep of thresholds needs no new queries; the main figures use the app's own thresholds.

Counted:
- likely precision: planted person / every likely offer; a namesake offered as likely counts as wrong (a
  precision with namesakes left out is printed too). A likely offer for a new person is wrong.
- likely recall: planted duplicates whose person is among the likely offers.
- offered recall: planted duplicates whose person is among the offers, likely or possible (or "name begins").
- possible per query: how many possible offers each typed name got (mean, p95, max), and how many of them
  were the planted person, a namesake or someone else.
"""
from __future__ import annotations

import statistics
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

from pcso.pole import matching

LIMIT = 8
ORDER = {matching.LIKELY: 0, matching.POSSIBLE: 1, "begins": 2}


@dataclass
class Scored:
    score: float
    dates: str
    begins_only: bool  # found only by its name's beginning
    label: str  # "tp" (the planted person), "namesake" or "fp"


@contextmanager
def thresholds(**values):
    saved = {name: getattr(matching, name) for name in values}
    for name, value in values.items():
        setattr(matching, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(matching, name, value)


def offers(candidates: list[Scored]) -> list[tuple[str, Scored]]:
    """(tier, candidate) as suggest_people offers them, under matching's current thresholds."""
    matches = [matching.Match(c.score, [""], "", c.dates) for c in candidates]
    matching.tier_matches(matches)
    tiered = [(m.tier or ("begins" if c.begins_only else None), c) for m, c in zip(matches, candidates)]
    tiered = [(tier, c) for tier, c in tiered if tier is not None]
    tiered.sort(key=lambda pair: (ORDER[pair[0]], -pair[1].score))
    return tiered[:LIMIT]


def tally(queries: list[dict]) -> tuple[Counter, dict[str, Counter], list[int]]:
    """Counts over every typed name; the same by what was typed; possible offers per typed name."""
    total, by_kind, possible_counts = Counter(), {}, []
    for q in queries:
        offered = offers(q["scored"])
        planted = q["truth"] is not None
        kind = by_kind.setdefault(q["group"], Counter())
        for c in (total, kind):
            c["queries"] += 1
            c["planted"] += planted
        possible_counts.append(sum(1 for tier, _ in offered if tier == matching.POSSIBLE))
        likely_hit = any(tier == matching.LIKELY and s.label == "tp" for tier, s in offered)
        offered_hit = any(s.label == "tp" for _, s in offered)
        for c in (total, kind):
            c["likely hit"] += likely_hit
            c["offered hit"] += offered_hit
            for tier, s in offered:
                c[f"{tier} {s.label}"] += 1
                if tier == matching.LIKELY:
                    rule = "dated" if s.dates in matching.CORROBORATING else "alone"
                    c[f"{rule} {'tp' if s.label == 'tp' else 'wrong'}"] += 1
    return total, by_kind, possible_counts


def precision(c: Counter, *, namesakes_wrong: bool = True) -> float:
    wrong = c["likely fp"] + (c["likely namesake"] if namesakes_wrong else 0)
    return c["likely tp"] / max(1, c["likely tp"] + wrong)


def report(queries: list[dict]) -> None:
    total, by_kind, possible_counts = tally(queries)
    planted = total["planted"]
    print(f"\nthresholds: offered {matching.THRESHOLD}, likely with a date of birth {matching.DATED_THRESHOLD}, "
          f"a name alone {matching.ALONE_THRESHOLD} and {matching.MARGIN} clear of the next")
    print(f"  {planted:,} planted duplicates, {total['queries'] - planted:,} new people")
    print(f"  LIKELY: precision {precision(total):.3f} (namesakes counted wrong; left out: "
          f"{precision(total, namesakes_wrong=False):.3f});  recall {total['likely hit'] / planted:.3f}")
    print(f"          offers: {total['likely tp']:,} right, {total['likely fp']:,} wrong, "
          f"{total['likely namesake']:,} namesakes")
    for rule, what in (("dated", "date of birth typed and on record"), ("alone", "a name alone, clear by the margin")):
        right, wrong = total[f"{rule} tp"], total[f"{rule} wrong"]
        print(f"          by rule: {what}: {right:,} right, {wrong:,} wrong ({right / max(1, right + wrong):.3f})")
    print(f"  LIKELY + POSSIBLE (+ name begins): recall {total['offered hit'] / planted:.3f}")
    print(f"  POSSIBLE per typed name: mean {statistics.mean(possible_counts):.2f}, "
          f"p95 {sorted(possible_counts)[int(0.95 * (len(possible_counts) - 1))]}, max {max(possible_counts)}; "
          f"{sum(1 for n in possible_counts if n) / len(possible_counts):.0%} of typed names got any")
    print(f"          offers: {total['possible tp']:,} the planted person, {total['possible namesake']:,} namesakes, "
          f"{total['possible fp']:,} others;  name-begins offers: {sum(v for k, v in total.items() if k.startswith('begins'))}")
    print("\n  by what was typed besides the name:  queries  likely recall  offered recall  likely wrong  possible")
    for name, c in sorted(by_kind.items(), key=lambda kv: -kv[1]["queries"]):
        planted = c["planted"]
        likely = f"{c['likely hit'] / planted:.3f}" if planted else "  -  "
        offered = f"{c['offered hit'] / planted:.3f}" if planted else "  -  "
        possible = c["possible tp"] + c["possible fp"] + c["possible namesake"]
        print(f"    {name:<34} {c['queries']:>6}  {likely:>12}  {offered:>14}  "
              f"{c['likely fp'] + c['likely namesake']:>12}  {possible:>8}")


def sweep(queries: list[dict]) -> None:
    print("\n  sweep: dated  alone  margin  | likely precision  likely recall  offered recall  possible/query")
    for dated in (0.86, 0.88, 0.90, 0.92):
        for alone in (0.92, 0.95, 0.97):
            for margin in (0.03, 0.06, 0.10):
                with thresholds(DATED_THRESHOLD=dated, ALONE_THRESHOLD=alone, MARGIN=margin):
                    total, _, counts = tally(queries)
                print(f"         {dated:.2f}  {alone:.2f}   {margin:.2f}  | {precision(total):16.3f}  "
                      f"{total['likely hit'] / total['planted']:13.3f}  {total['offered hit'] / total['planted']:14.3f}"
                      f"  {statistics.mean(counts):14.2f}")
    print("\n  sweep of the offered floor: threshold | offered recall  possible/query  (likely as set)")
    for floor in (0.84, 0.86, 0.88, 0.90, 0.92):
        with thresholds(THRESHOLD=floor):
            total, _, counts = tally(queries)
        print(f"         {floor:.2f} | {total['offered hit'] / total['planted']:14.3f}  {statistics.mean(counts):14.2f}")
