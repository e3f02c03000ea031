"""What bench/person_matching.py counts: the offers /people/suggest makes for each typed name, and how right they are.

For each typed name the bench keeps every candidate the supervisor's suggest query scored (score, how the
dates compared, whether it was found only because its name begins as typed, whether it is the planted person,
a namesake or someone else). `offers()` tiers them again with matching.tier_matches() and picks the offers
with suggest.choose_offers(), as suggest.suggest_people does, so a sweep of thresholds needs no new queries.

One operating point, one set of offers: precision and recall are counted over the same offers, every one the
form shows (likely, possible, and "name begins" when nothing else is offered):
- recall: planted duplicates whose person is among the offers;
- precision, namesakes wrong: offers that are the planted person / all offers;
- precision, namesakes right: offers that are the planted person or a namesake / all offers. A namesake is
  another person with the very same name whom nothing typed tells apart (no date of birth or age typed, or
  none on their record): no matcher can tell which of them was meant, and the form must show them all.
A new person (not on record) has no planted person: every offer is wrong (or a namesake).
The likely tier alone is counted too (what the form puts first), and the ceiling an oracle reaches: one that
knows which candidates nothing typed tells apart from the planted person, but not which of them it is.

    .venv/bin/python bench/person_matching_report.py /tmp/scores.pkl   # counts again from BENCH_DUMP's file
"""
from __future__ import annotations

import pickle
import statistics
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pcso.pole import matching, suggest  # noqa: E402

LIMIT = 8  # as /people/suggest asks (pole.views.MAX_SUGGESTIONS)


@dataclass
class Scored:
    score: float
    dates: str
    begins_only: bool  # found only by its name's beginning
    label: str  # "tp" (the planted person), "namesake" or "fp"
    person_id: int = 0
    name_key: str = ""


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
    found = [suggest.Candidate(i, c.name_key, matching.Match(c.score, [""], "", c.dates))
             for i, c in enumerate(candidates)]
    matching.tier_matches([c.match for c in found])
    found.sort(key=lambda c: (c.match.tier != matching.LIKELY, -c.match.score, c.name_key,
                              candidates[c.id].person_id))
    begins = {i for i, c in enumerate(candidates) if c.begins_only}
    return [(tier, candidates[c.id]) for c, tier in suggest.choose_offers(found, begins, limit=LIMIT)]


def tally(queries: list[dict]) -> tuple[Counter, dict[str, Counter], list[int]]:
    """Counts over every typed name; the same by what was typed; offers per typed name."""
    total, by_kind, per_query = Counter(), {}, []
    for q in queries:
        offered = offers(q["scored"])
        per_query.append(len(offered))
        kind = by_kind.setdefault(q["group"], Counter())
        for c in (total, kind):
            c["queries"] += 1
            c["planted"] += q["truth"] is not None
            c["offered hit"] += any(s.label == "tp" for _, s in offered)
            c["likely hit"] += any(tier == matching.LIKELY and s.label == "tp" for tier, s in offered)
            c["any offer"] += bool(offered)
            for tier, s in offered:
                c[s.label] += 1
                c[f"{tier} {s.label}"] += 1
                if tier == matching.LIKELY:
                    rule = "dated" if s.dates in matching.CORROBORATING else "alone"
                    c[f"{rule} {'tp' if s.label == 'tp' else 'wrong'}"] += 1
    return total, by_kind, per_query


def point(c: Counter) -> tuple[float, float, float]:
    """recall, precision with namesakes wrong, precision with namesakes right: all over the same offers."""
    offered = c["tp"] + c["namesake"] + c["fp"]
    return (c["offered hit"] / max(1, c["planted"]), c["tp"] / max(1, offered),
            (c["tp"] + c["namesake"]) / max(1, offered))


def likely_precision(c: Counter, *, namesakes_wrong: bool = True) -> float:
    wrong = c["likely fp"] + (c["likely namesake"] if namesakes_wrong else 0)
    return c["likely tp"] / max(1, c["likely tp"] + wrong)


def oracle(queries: list[dict]) -> None:
    """The ceiling on this set: the planted person among the candidates at all; and an oracle offering the
    planted person with its namesakes (at most LIMIT; with more, the planted one is among them LIMIT/k of the
    time). Namesakes counted wrong, its best precision at recall >= 0.9 drops the typed names with most namesakes."""
    planted = sum(q["truth"] is not None for q in queries)
    found = sum(any(s.label == "tp" for s in q["scored"]) for q in queries)
    per = []
    for q in queries:
        k = sum(s.label in ("tp", "namesake") for s in q["scored"])
        if k:
            per.append((min(1.0, LIMIT / k) if any(s.label == "tp" for s in q["scored"]) else 0.0, min(k, LIMIT)))
    hits, offered = sum(h for h, _ in per), sum(o for _, o in per)
    print(f"\n  CEILING on this set: the planted person among the candidates scored: {found / planted:.3f}")
    print(f"    an oracle offering the planted person and its namesakes: recall {hits / planted:.3f}, precision "
          f"{hits / offered:.3f} namesakes wrong, 1.000 namesakes right")
    per.sort(key=lambda p: -p[0] / p[1])
    hits = offered = 0.0
    for h, o in per:
        hits, offered = hits + h, offered + o
        if hits / planted >= 0.9:
            print(f"    ... namesakes wrong, at recall {hits / planted:.3f}: precision {hits / offered:.3f} at best "
                  "(offering nothing for the typed names with most namesakes)")
            break


def report(queries: list[dict]) -> None:
    total, by_kind, per_query = tally(queries)
    planted = total["planted"]
    recall, wrong, right = point(total)
    print(f"\nthresholds: offered {matching.THRESHOLD}, within {matching.WINDOW} of the best possible, at most "
          f"{matching.POSSIBLE_LIMIT} possible; likely with a date of birth {matching.DATED_THRESHOLD}, a name alone "
          f"{matching.ALONE_THRESHOLD} and {matching.MARGIN} clear of the next")
    print(f"  {planted:,} planted duplicates, {total['queries'] - planted:,} new people")
    print(f"  EVERY OFFER (likely + possible + name begins): recall {recall:.3f}, precision {right:.3f} namesakes "
          f"right, {wrong:.3f} namesakes wrong")
    print(f"          offers: {total['tp']:,} the planted person, {total['namesake']:,} namesakes, {total['fp']:,} "
          f"others; per typed name mean {statistics.mean(per_query):.2f}, p95 "
          f"{sorted(per_query)[int(0.95 * (len(per_query) - 1))]}; {total['any offer'] / total['queries']:.0%} got any")
    print(f"  LIKELY alone: precision {likely_precision(total):.3f} (namesakes wrong; right: "
          f"{likely_precision(total, namesakes_wrong=False):.3f});  recall {total['likely hit'] / planted:.3f};  "
          f"{total['likely tp']:,} right, {total['likely fp']:,} wrong, {total['likely namesake']:,} namesakes")
    for rule, what in (("dated", "date of birth typed and on record"), ("alone", "a name alone, clear by the margin")):
        good, bad = total[f"{rule} tp"], total[f"{rule} wrong"]
        print(f"          by rule: {what}: {good:,} right, {bad:,} wrong ({good / max(1, good + bad):.3f})")
    print(f"  POSSIBLE: {total['possible tp']:,} the planted person, {total['possible namesake']:,} namesakes, "
          f"{total['possible fp']:,} others;  name-begins offers: {sum(v for k, v in total.items() if k.startswith('begins '))}")
    print("\n  by what was typed besides the name:   queries  recall  precision (ns right / wrong)  likely recall  offers")
    for name, c in sorted(by_kind.items(), key=lambda kv: -kv[1]["queries"]):
        r, w, g = point(c)
        likely = f"{c['likely hit'] / c['planted']:.3f}" if c["planted"] else "  -  "
        print(f"    {name:<34} {c['queries']:>6}  {r if c['planted'] else 0:.3f}  {g:10.3f} / {w:.3f}  "
              f"{likely:>13}  {c['tp'] + c['namesake'] + c['fp']:>6}")
    oracle(queries)


def sweep(queries: list[dict]) -> None:
    print("\n  PR sweep over every offer: floor  window  possible at most | recall  precision (ns right)  (ns wrong)"
          "  offers/typed name")
    for floor in (0.86, 0.88, 0.90, 0.92):
        for window in (0.0, 0.005, 0.01, 0.02, 0.05, 1.0):
            for most in (2, 3, 8):
                with thresholds(THRESHOLD=floor, WINDOW=window, POSSIBLE_LIMIT=most):
                    total, _, per_query = tally(queries)
                recall, wrong, right = point(total)
                print(f"         {floor:.2f}  {window:5.3f}  {most:>3} | {recall:.3f}  {right:9.3f}  {wrong:9.3f}"
                      f"  {statistics.mean(per_query):6.2f}")
    print("\n  sweep of the likely tier: dated  alone  margin | likely precision  likely recall")
    for dated in (0.88, 0.92):
        for alone in (0.92, 0.97):
            for margin in (0.03, 0.06, 0.10):
                with thresholds(DATED_THRESHOLD=dated, ALONE_THRESHOLD=alone, MARGIN=margin):
                    total, _, _ = tally(queries)
                print(f"         {dated:.2f}  {alone:.2f}   {margin:.2f}  | {likely_precision(total):16.3f}  "
                      f"{total['likely hit'] / total['planted']:13.3f}")


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as handle:
        dumped = pickle.load(handle)
    report(dumped)
    if "--sweep" in sys.argv:
        sweep(dumped)
