"""Matching what an officer types against the people and vehicles already on record.

Pure functions, no database: pcso/models/match_key.py stores the keys made here, and
pcso/pole/queries.py uses them to find candidates through an index, then scores them here.

People: a name is split into tokens; each token has a phonetic code (Metaphone, from jellyfish)
of itself and of the formal names it is short for (pcso/data/nicknames.csv: Jon -> John). Keys:
- ``p:A|B``: every unordered pair of token codes (so "Smith John" finds "John Smith");
- ``d:A|bbb``: a token's code with one of another token's heads (its first four letters, each with one left
  out: a typo anywhere in that name);
- ``y:1998:A``: a token code with the year of birth (known, or estimated from an approximate age);
- ``c:A``: a token code alone, and ``t:smith``: a token itself, for typing a name in part.
A candidate is scored by Jaro-Winkler (with the edit distance) over its best-matched tokens (the weakest token counts as
much as the average, so two brothers with one surname stay apart) and by date of birth agreement;
a candidate at or over THRESHOLD is offered with its reasons ("similar name, same date of birth"), in one of
two tiers (tier_matches): LIKELY when a date of birth typed is the one on record (or a slip of it), or when a
name typed alone stands clear of every other candidate by MARGIN; POSSIBLE when nothing typed tells it apart
from others (a namesake, no date of birth on record to compare, an age only) and it is within WINDOW of the
best of them (a near name further down is noise); nothing is merely possible beside a record holding the name
and the very date of birth typed.

Vehicles: a registration is normalised (upper case, no spaces) and put in the shape of its
look-alike characters (0/O/D/Q, 1/I, 2/Z, 5/S, 6/G, 8/B), so "A812 CDE" finds "AB12 CDE".
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import jellyfish

from ..models.asb import normalise_vrm

# Calibrated at 500,000 people by bench/person_matching.py (docs/PERFORMANCE.md, "the person matcher"):
THRESHOLD = 0.88  # a candidate scoring this or more is offered, as likely or possible
DATED_THRESHOLD = 0.92  # it is likely if the date of birth typed is the one on record (or a slip of it) and it scores this
ALONE_THRESHOLD = 0.92  # ... or, only a name typed, if it scores this and stands MARGIN above every other candidate
MARGIN = 0.10
WINDOW = 0.005  # a possible candidate is offered only this close to the best possible one: further below, it is noise
POSSIBLE_LIMIT = 8  # possible offers at most (suggest.choose_offers), best first
LIKELY, POSSIBLE = "likely", "possible"
MAX_TOKENS = 4  # tokens of a name used for keys (first and last names and two middle names)
NICKNAMES_FILE = Path(__file__).resolve().parent.parent / "data" / "nicknames.csv"


# --- names ---------------------------------------------------------------------------------------

SEPARATORS, NOT_LETTERS = re.compile(r"[\s\-]+"), re.compile(r"[^a-z]")


def tokens(name: str) -> list[str]:
    """'Mary-Jane O'Brien ' -> ['mary', 'jane', 'obrien']: lower-case letters only, hyphens split."""
    return list(_tokens(name or ""))


@lru_cache(maxsize=65536)
def _tokens(name: str) -> tuple[str, ...]:
    return tuple(t for t in (NOT_LETTERS.sub("", p) for p in SEPARATORS.split(name.lower())) if t)


@lru_cache(maxsize=1)
def nicknames() -> dict[str, frozenset[str]]:
    """Each name in the file -> the formal names it may stand for (a formal name stands for itself)."""
    found: dict[str, set[str]] = {}
    with NICKNAMES_FILE.open(encoding="utf-8") as handle:
        rows = csv.reader(line for line in handle if not line.startswith("#"))
        next(rows)  # header
        for formal, shorts in rows:
            formal = formal.strip()
            found.setdefault(formal, set()).add(formal)
            for short in tokens(shorts):
                found.setdefault(short, set()).add(formal)
    return {name: frozenset(formals) for name, formals in found.items()}


@lru_cache(maxsize=65536)
def formal_names(token: str) -> frozenset[str]:
    """The token and every formal name it is short for: 'jon' -> {'jon', 'john', 'jonathan'}."""
    return frozenset({token, *nicknames().get(token, ())})


@lru_cache(maxsize=65536)
def code(token: str) -> str:
    """The Metaphone code of a token (letters only), at most 6 characters."""
    return (jellyfish.metaphone(token) or token)[:6].upper() if token else ""


@lru_cache(maxsize=65536)
def token_codes(token: str) -> frozenset[str]:
    return frozenset(code(name) for name in formal_names(token))


def pair_keys(name: str) -> set[str]:
    """'p:A|B' for every unordered pair of the name's token codes."""
    codes = [token_codes(t) for t in tokens(name)[:MAX_TOKENS]]
    keys = set()
    for one, other in combinations(codes, 2):
        for a in one:
            for b in other:
                keys.add("p:" + "|".join(sorted((a, b))))
    return keys


def heads(token: str) -> set[str]:
    """A token's first four letters, and each of them with one letter left out ('asher' -> ashe, she, ahe, ase,
    ash): two tokens one typo apart (a letter changed, dropped, added, two swapped) share one of these (a
    deletion neighbourhood, as SymSpell's), wherever the typo is; a typo past the fourth letter keeps the head."""
    head = token[:4]
    return {head, *(head[:i] + head[i + 1:] for i in range(len(head)))} - {""}


def typo_keys(name: str) -> set[str]:
    """'d:A|bbb' for every ordered pair of tokens: the first's code, one of the second's heads. A typo in one
    name keeps a key (its code from the other name, a head from this one), even early in the name, where it
    changes the typed token's code and first letters ('Alfie Ahser' meets 'Alfie Asher' by d:ALF|ase)."""
    name_tokens = tokens(name)[:MAX_TOKENS]
    return {f"d:{a}|{h}" for i, one in enumerate(name_tokens) for j, other in enumerate(name_tokens)
            if i != j for a in token_codes(one) for h in heads(other)}


def person_keys(names: list[str], birth_year: int | None) -> set[str]:
    """Every key stored for a person with these names (full name first, then aliases)."""
    keys: set[str] = set()
    for name in names:
        name_tokens = tokens(name)[:MAX_TOKENS]
        keys |= pair_keys(name) | typo_keys(name)
        for token in name_tokens:
            keys.add("t:" + token[:30])
            for token_code in token_codes(token):
                keys.add("c:" + token_code)
                if birth_year is not None:
                    keys.add(f"y:{birth_year}:{token_code}")
    return keys


def birth_year(born_on: date | None, approx_age: int | None, on: date | None) -> int | None:
    """The year of birth, or one estimated from an approximate age given on a day."""
    if born_on is not None:
        return born_on.year
    if approx_age is not None and on is not None:
        return on.year - approx_age
    return None


def age_given_on(approx_age_on: date | None, created_at) -> date | None:
    """The day an approximate age was given: as recorded, or else the day the record was made."""
    return approx_age_on or (created_at.date() if created_at is not None else None)


# --- scoring -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """What the officer typed: a name, and a date of birth or an approximate age if they gave one."""

    text: str
    born_on: date | None = None
    age: int | None = None
    today: date = field(default_factory=date.today)

    @property
    def tokens(self) -> list[str]:
        return tokens(self.text)[:MAX_TOKENS]

    @property
    def birth_year(self) -> int | None:
        return birth_year(self.born_on, self.age, self.today)

    def typo_keys(self) -> set[str]:
        return typo_keys(self.text)

    def keys(self) -> set[str]:
        """Keys that find candidates: token pairs, and each token with a year of birth near the one given."""
        keys = pair_keys(self.text)
        year = self.birth_year
        if year is not None:
            spread = 1 if self.born_on is not None else 2
            for token in self.tokens:
                for token_code in token_codes(token):
                    keys |= {f"y:{y}:{token_code}" for y in range(year - spread, year + spread + 1)}
        return keys


# How the dates of birth compared (Match.dates): only SAME_DATE and CLOSE_DATE tell one person from another.
SAME_DATE, CLOSE_DATE, NEAR_YEAR, AGE_FITS, DIFFERENT = "same", "close", "near year", "age fits", "different"
NONE_ON_RECORD, NOTHING_TYPED = "none on record", "nothing typed"
CORROBORATING = frozenset({SAME_DATE, CLOSE_DATE})


@dataclass
class Match:
    score: float
    reasons: list[str]
    name: str  # the name (full name or alias) that matched
    dates: str = NOTHING_TYPED  # how the dates of birth or ages compared
    tier: str | None = None  # LIKELY, POSSIBLE or None (not offered), set by tier_matches()

    @property
    def reason(self) -> str:
        return ", ".join(self.reasons)


@lru_cache(maxsize=262144)
def token_similarity(typed: str, known: str) -> tuple[float, str]:
    """How alike two name tokens are (0..1), and how: 'same', 'nickname', 'sounds', 'initial' or 'similar'."""
    if typed == known:
        return 1.0, "same"
    if len(typed) == 1 or len(known) == 1:
        return (0.88, "initial") if typed[0] == known[0] else (0.0, "similar")
    shared = formal_names(typed) & formal_names(known)
    if typed in shared or known in shared:  # one is the other's short form: Jon for John
        return 0.97, "nickname"
    if shared:  # two short forms of one name (Alec and Xander): a weaker sign
        return 0.9, "nickname"
    similarity = edit_similarity(typed, known)
    if code(typed) == code(known) and similarity >= 0.6:
        return max(similarity, 0.94), "sounds"
    return similarity, "similar"


def edit_similarity(a: str, b: str) -> float:
    """Jaro-Winkler weighed 3:2 with 1 - Damerau-Levenshtein distance / length: Jaro-Winkler alone rates long
    shared beginnings too highly ('everelson' and 'evererscombe' 0.85), the edit distance keeps them apart."""
    distance = jellyfish.damerau_levenshtein_distance(a, b)
    return 0.6 * jellyfish.jaro_winkler_similarity(a, b) + 0.4 * max(0.0, 1 - distance / max(len(a), len(b)))


def name_similarity(typed: list[str], known: list[str]) -> tuple[float, tuple[str, ...], bool, tuple[tuple[str, str], ...]]:
    """Best one-to-one pairing of the typed tokens with the known ones (in any order).

    Returns the score (half the mean, half the weakest pair: one very different token sinks it),
    the kinds of token match used (sorted, each once), whether the order was swapped, and the (typed, known)
    short forms. Tuples of strings only: the garbage collector stops tracking them once it has seen them, so a
    full cache adds next to nothing to its full passes (with frozensets it added ~130,000 tracked objects, and
    those passes were the bench's rare 0.2-0.7 s outliers: docs/PERFORMANCE.md)."""
    return _name_similarity(tuple(typed), tuple(known))


@lru_cache(maxsize=65536)  # names repeat: a typed name meets the same common names again and again
def _name_similarity(typed: tuple[str, ...], known: tuple[str, ...]):
    if not typed or not known:
        return 0.0, (), False, ()
    pairs = sorted(((token_similarity(t, k), i, j) for i, t in enumerate(typed) for j, k in enumerate(known)),
                   key=lambda p: (-p[0][0], abs(p[1] - p[2]), p[1]))
    used_typed, used_known, chosen = set(), set(), []
    for (similarity, kind), i, j in pairs:
        if i not in used_typed and j not in used_known:
            used_typed.add(i)
            used_known.add(j)
            chosen.append((similarity, kind, i, j))
    scores = [c[0] for c in chosen]
    unmatched = len(typed) - len(chosen)  # more tokens typed than known: a middle name not on record
    score = 0.5 * (sum(scores) / len(scores)) + 0.5 * min(scores) - 0.03 * unmatched - 0.02 * (len(known) - len(chosen))
    if len(typed) == 1 or len(known) == 1:
        score -= 0.1  # one name alone says little
    by_typed = sorted(chosen, key=lambda c: c[2])
    swapped = len(chosen) > 1 and [c[3] for c in by_typed] != sorted(c[3] for c in by_typed)
    short_forms = tuple((typed[c[2]], known[c[3]]) for c in by_typed if c[1] == "nickname")
    return score, tuple(sorted({c[1] for c in chosen})), swapped, short_forms


def _age_on(born_on: date, today: date) -> int:
    return today.year - born_on.year - ((today.month, today.day) < (born_on.month, born_on.day))


def _close_dates(a: date, b: date) -> bool:
    """A likely slip of the pen: day and month swapped, or one of day, month or year different."""
    if (a.day, a.month, a.year) == (b.month, b.day, b.year):
        return True
    return sum((a.day != b.day, a.month != b.month, a.year != b.year)) == 1 and abs(a.year - b.year) <= 10


def birth_agreement(query: Query, born_on: date | None, approx_age: int | None,
                    recorded_on: date | None) -> tuple[float, str | None, str]:
    """A score adjustment, its reason and how the dates compared, from the dates of birth and ages both sides have."""
    if query.born_on is not None and born_on is not None:
        if query.born_on == born_on:
            return 0.08, "same date of birth", SAME_DATE
        if _close_dates(query.born_on, born_on):
            return 0.0, "date of birth nearly the same", CLOSE_DATE
        if abs(query.born_on.year - born_on.year) <= 1:
            return -0.06, "born within a year", NEAR_YEAR
        return -0.4, None, DIFFERENT
    typed_year = query.birth_year
    known_year = birth_year(born_on, approx_age, recorded_on)
    if typed_year is None:
        return 0.0, None, NOTHING_TYPED
    if known_year is None:
        return 0.0, "no date of birth on record to compare", NONE_ON_RECORD
    age = _age_on(born_on, query.today) if born_on is not None else query.today.year - known_year
    if abs(typed_year - known_year) <= 2:
        return 0.02, f"age fits ({age})", AGE_FITS
    return -0.3, None, DIFFERENT


def score(query: Query, names: list[str], *, born_on: date | None = None, approx_age: int | None = None,
          recorded_on: date | None = None) -> Match:
    """How likely a person with these names (full name first, then aliases) is the one typed."""
    typed = query.tokens
    best = None
    for name in names:
        similarity, kinds, swapped, short_forms = name_similarity(typed, tokens(name)[:MAX_TOKENS])
        if best is None or similarity > best[0]:
            best = (similarity, kinds, swapped, short_forms, name)
    if best is None:
        return Match(0.0, [], "")
    similarity, kinds, swapped, short_forms, name = best
    adjustment, dob_reason, dates = birth_agreement(query, born_on, approx_age, recorded_on)
    reasons = []
    if kinds == ("same",):
        reasons.append("same name" + (", swapped" if swapped else ""))
    else:
        forms = "; ".join(f"{a.title()} for {b.title()}" for a, b in short_forms)
        reasons.append("similar name" + (f" ({forms})" if forms else "")
                       + (", first and last swapped" if swapped else ""))
    if names and name != names[0]:
        reasons.append(f"alias “{name}”")
    if dob_reason:
        reasons.append(dob_reason)
    return Match(round(max(0.0, min(1.0, similarity + adjustment)), 4), reasons, name, dates)


def is_match(match: Match) -> bool:
    """Close enough to be offered at all (as likely or possible: tier_matches() tells which)."""
    return match.score >= THRESHOLD


def tier_matches(matches: list[Match]) -> None:
    """Set each candidate's tier, and add to its reasons why, from the scores of all the candidates found
    (the ones the officer may see: a record they can't see neither helps nor hurts).

    LIKELY: the date of birth typed is the one on record (or a slip of it) and the score is DATED_THRESHOLD or
    more; or only a name was typed and it scores ALONE_THRESHOLD or more, MARGIN above every other candidate.
    POSSIBLE: scored THRESHOLD or more, within WINDOW of the best such candidate, but nothing typed tells it
    apart: a namesake, no date of birth on record to compare, an age only. None (not offered): a near name
    further below the best possible one, anything below THRESHOLD, and every candidate not likely when one is
    likely by the very date of birth typed (a record with the name and that date leaves the rest far behind)."""
    ranked = sorted(m.score for m in matches)
    best, second = ([0.0, 0.0] + ranked)[-1:-3:-1]
    for match in matches:
        rival = second if match.score == best else best  # the best score of the others
        if match.dates in CORROBORATING and match.score >= DATED_THRESHOLD:
            match.tier = LIKELY
        elif match.score < THRESHOLD:
            match.tier = None
        elif match.dates == NOTHING_TYPED and match.score >= ALONE_THRESHOLD and match.score - rival >= MARGIN:
            match.tier = LIKELY
            match.reasons.append("no other record comes close")
        else:
            match.tier = POSSIBLE
    possible = [m for m in matches if m.tier == POSSIBLE]
    if any(m.tier == LIKELY and m.dates == SAME_DATE for m in matches):
        floor = 2.0  # the date of birth typed is on record with the name: nothing merely possible is offered
    else:
        floor = max((m.score for m in possible), default=0.0) - WINDOW
    offered = [m for m in possible if m.score >= floor]
    for match in possible:
        if match.score < floor:
            match.tier = None
        elif match.dates == NOTHING_TYPED:
            close = len(offered) - 1  # the others offered: all within WINDOW
            match.reasons.append("no date of birth or age typed" + (
                "" if not close else ", another record as close" if close == 1 else f", {close} other records as close"))
        elif match.dates == AGE_FITS:
            match.reasons.append("only an age to compare")


# --- vehicles ------------------------------------------------------------------------------------

LOOK_ALIKE = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6",
                            "B": "8"})


def vrm_shape(vrm: str) -> str:
    """The registration with each look-alike character replaced by one of its group: 'AB12 CDE' -> 'A812C0E'."""
    return normalise_vrm(vrm).translate(LOOK_ALIKE)


def format_vrm(vrm: str) -> str:
    """'AB12CDE' -> 'AB12 CDE' (a current-style plate: the last three letters apart); others as they are."""
    return f"{vrm[:4]} {vrm[4:]}" if re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z]{3}", vrm) else vrm


def vrm_reason(typed: str, known: str) -> str | None:
    """Why a registration is offered for what was typed, or None if it doesn't match."""
    typed = normalise_vrm(typed)
    if typed == known:
        return "same registration"
    if vrm_shape(typed) == vrm_shape(known):
        return f"looks like {format_vrm(known)}"
    if typed in known:
        return f"registration contains {typed}"
    return None
