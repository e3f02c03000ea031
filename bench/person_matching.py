"""The person matcher at scale: precision and recall on planted duplicates, and the type-ahead's latency.

Generates BENCH_PEOPLE (default 500,000) people with names drawn Zipf-wise from a large vocabulary (the
demo's names, the nickname file's formal and short names, and made-up surnames), a date of birth for 70%,
an approximate age for 15%, nothing for the rest, 4% with an alias; each is linked to one ASB incident on
one of the 21 Trafford beats (one incident per 5 people). Rows go in with executemany (SQLite) or COPY
(PostgreSQL) into a scratch database migrated by the app's own migrations, match keys made by
pcso/pole/matching.py as the app makes them.

Then BENCH_QUERIES typed names (default 2,000) are run through the app's own suggest query
(pcso/pole/suggest.suggest_people, as /people/suggest runs it), as a supervisor who can see everyone:
- 80% planted duplicates of a random person: a typo (one letter substituted, dropped, doubled or two
  swapped), a sound-alike spelling, first and last names swapped, a short form (Bill for William), the
  name exactly, or two of these; typed with a date of birth (45%: the one on record, or, for a person whose
  record has none, one the person gives), nothing (30%), an approximate age (15%) or a date with day and
  month swapped (10%);
- 20% new people (a name and date of birth made afresh): any offer is wrong (or a namesake).
What is counted (recall and precision over the same offers, every one the form shows; the likely tier alone;
the ceiling an oracle reaches) is written out in bench/person_matching_report.py. A different person with the
very same name whom nothing typed tells apart (no date of birth or age typed, or none on their record) is a
*namesake*: precision is given with namesakes counted right and counted wrong.

Latency: the same queries' wall time in process (candidates, visibility, scoring and tiers, the offered
records loaded), p50/p95, for the supervisor and for a PCSO who sees one beat. A sweep of the tiers'
thresholds is printed from the scores of every candidate (no new queries).

    .venv/bin/python bench/person_matching.py                  # SQLite, /tmp/beatbook_person_matching.sqlite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bb_bench .venv/bin/python bench/person_matching.py

BENCH_PEOPLE=50000 for a quick run; BENCH_REUSE=1 measures a database already generated with the same size.
"""
from __future__ import annotations

import gc
import itertools
import json
import os
import pickle
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.search_1m import make_app, prepare  # noqa: E402
from pcso.config import normalise_database_url  # noqa: E402
from pcso.extensions import db  # noqa: E402
from pcso.access import visible_entries  # noqa: E402
from pcso.models import Entry, Link, User  # noqa: E402
from pcso.pole import matching, suggest  # noqa: E402
from bench import person_matching_report as report  # noqa: E402
from pcso.seed.words import NAME_GROUPS  # noqa: E402

N_PEOPLE = int(os.environ.get("BENCH_PEOPLE", "500000"))
N_QUERIES = int(os.environ.get("BENCH_QUERIES", "2000"))
PG_URL = os.environ.get("BENCH_DATABASE_URL")
SQLITE_PATH = Path(os.environ.get("BENCH_SQLITE_PATH", Path(tempfile.gettempdir()) / "beatbook_person_matching.sqlite"))
REUSE = os.environ.get("BENCH_REUSE") == "1"
TIMED = os.environ.get("BENCH_TIMED", "1") == "1"  # BENCH_TIMED=0: the counts only, no latency
DUMP = os.environ.get("BENCH_DUMP")  # a path: every typed name's scored candidates pickled there, for
# `python bench/person_matching_report.py DUMP` to count again under other rules without a database
SEED = 20261203
# The typed names: the thresholds were chosen on SEED + 1; BENCH_PLANT_SEED=20261205 is a second set, held out.
PLANT_SEED = int(os.environ.get("BENCH_PLANT_SEED", SEED + 1))
CHUNK = 25_000
PEOPLE_PER_ENTRY = 5
SWEEP_FROM = 0.75
TODAY = date.today()

HEADS = ("Ash", "Brad", "Black", "Hol", "Whit", "Crom", "Har", "Ken", "Mar", "Stan", "Wal", "Wood", "Fair", "Hamp",
         "Brook", "Clay", "Cold", "Dun", "Ever", "Fern", "Green", "Hart", "Lang", "Nor", "Pen", "Rad", "Shel",
         "Thorn", "Wen", "Win", "Ather", "Bar", "Cal", "Dal", "Ed", "Fen", "Gar", "Hay", "Kirk", "Lind", "Mel",
         "Old", "Pres", "Ross", "Sut", "Tod", "Ux", "Ver", "Wig", "York", "Ab", "Bel", "Car", "Dew", "Elm")
TAILS = ("worth", "shaw", "ley", "ton", "wood", "field", "ford", "by", "well", "more", "ridge", "hurst", "combe",
         "stead", "dale", "ham", "wick", "den", "cliffe", "bury", "gate", "man", "son", "er")
MIDDLES = ("", "ing", "er", "en", "el", "ers")
SOUND_ALIKE = (("ph", "f"), ("ck", "k"), ("th", "t"), ("ie", "y"), ("y", "ie"), ("ll", "l"), ("i", "y"),
               ("mc", "mac"), ("mac", "mc"), ("ou", "ow"), ("ey", "y"), ("s", "z"), ("c", "k"), ("ee", "ea"))


def vocabulary(rng: random.Random) -> tuple[list[str], list[float], list[str], list[float]]:
    """First names and surnames with Zipf weights (a few very common, a long tail)."""
    first = sorted({n for group in NAME_GROUPS for n in group[1] + group[2]}
                   | {n.title() for n in matching.nicknames() if len(n) > 2})
    surnames = sorted({n for group in NAME_GROUPS for n in group[3]}
                      | {h + m + t for h in HEADS for m in MIDDLES for t in TAILS})
    rng.shuffle(first)
    rng.shuffle(surnames)
    # The most common first name ~4% of people, the most common surname ~1.4% (as David and Smith in the UK).
    return first, [1 / (i + 1) ** 0.6 for i in range(len(first))], surnames, [1 / (i + 1) ** 0.55 for i in range(len(surnames))]


class People:
    def __init__(self):
        self.rng = random.Random(SEED)
        self.first, first_w, self.surnames, surname_w = vocabulary(self.rng)
        self.first_w = list(itertools.accumulate(first_w))  # cumulative: choices() is then a bisect, not a sum
        self.surname_w = list(itertools.accumulate(surname_w))

    def name(self) -> str:
        first = self.rng.choices(self.first, cum_weights=self.first_w)[0]
        middle = " " + self.rng.choices(self.first, cum_weights=self.first_w)[0] if self.rng.random() < 0.1 else ""
        return f"{first}{middle} {self.rng.choices(self.surnames, cum_weights=self.surname_w)[0]}"

    def born(self) -> tuple[date | None, int | None]:
        roll = self.rng.random()
        if roll < 0.70:
            return date(self.rng.randint(1945, 2012), self.rng.randint(1, 12), self.rng.randint(1, 28)), None
        if roll < 0.85:
            return None, self.rng.randint(12, 75)
        return None, None

    def person(self, person_id: int) -> dict:
        born_on, age = self.born()
        aliases = [self.name()] if self.rng.random() < 0.04 else []
        return {"id": person_id, "full_name": self.name(), "aliases": aliases, "born_on": born_on, "approx_age": age}


# --- the database ---------------------------------------------------------------------------------------

def database() -> tuple[str, str]:
    if PG_URL:
        return normalise_database_url(PG_URL), "postgresql"
    return f"sqlite:///{SQLITE_PATH}", "sqlite"


def key_rows(person: dict, created: date) -> list[tuple]:
    year = matching.birth_year(person["born_on"], person["approx_age"], created)
    return [(key, person["id"]) for key in matching.person_keys([person["full_name"], *person["aliases"]], year)]


def generate(app, dialect: str) -> list[dict]:
    """Load the people, their incidents and links and keys; return the people (for planting duplicates)."""
    from bench.search_1m import review_due
    from pcso.models import name_key

    people = People()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with app.app_context():
        beats = db.session.execute(sa.text("SELECT id FROM beat ORDER BY id")).scalars().all()
        officers = {b: db.session.execute(sa.text(
            "SELECT u.id FROM \"user\" u JOIN beat_assignment a ON a.user_id = u.id WHERE a.beat_id = :b "
            "AND u.role = 'pcso' ORDER BY u.id LIMIT 1"), {"b": b}).scalar_one() for b in beats}
        raw = db.engine.raw_connection()
    conn = raw.driver_connection
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else now
    person_due, entry_due = review_due(now, "person"), review_due(now, "entry", "asb_incident", "OFFICIAL")
    everyone = []
    started = time.perf_counter()
    if dialect == "sqlite":
        conn.isolation_level = None
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=OFF")
        for name, in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='person'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")  # the person full-text triggers: not what is measured here
    for first in range(1, N_PEOPLE + 1, CHUNK):
        batch = [people.person(i) for i in range(first, min(first + CHUNK, N_PEOPLE + 1))]
        everyone += batch
        rows = {"entry": [], "asb_incident": [], "person": [], "link": [], "person_match_key": []}
        for p in batch:
            if (p["id"] - 1) % PEOPLE_PER_ENTRY == 0:
                entry_id = (p["id"] - 1) // PEOPLE_PER_ENTRY + 1
                beat = beats[entry_id % len(beats)]
                rows["entry"].append((entry_id, "asb_incident", officers[beat], beat, beat, False, stamp, stamp, stamp,
                                      stamp, 53.45, -2.3, "map", "Bench incident", "submitted", "OFFICIAL",
                                      f"bench-{entry_id}", entry_due))
                rows["asb_incident"].append((entry_id, "nuisance", "rowdy_behaviour", "Bench"))
            rows["person"].append((p["id"], p["full_name"], name_key(p["full_name"]), json.dumps(p["aliases"]),
                                   p["born_on"], p["approx_age"], stamp, person_due, "[]"))
            rows["link"].append((p["id"], (p["id"] - 1) // PEOPLE_PER_ENTRY + 1, p["id"], "witness", 0, stamp))
            rows["person_match_key"] += key_rows(p, now.date())
        columns = {
            "entry": ("id", "kind", "author_id", "beat_id", "located_beat_id", "is_beat_overridden", "occurred_at",
                      "recorded_at", "updated_at", "submitted_at", "lat", "lon", "location_source", "summary",
                      "status", "marking", "client_key", "review_due"),
            "asb_incident": ("id", "nsir_category", "asb_type", "description"),
            "person": ("id", "full_name", "name_key", "aliases", "born_on", "approx_age", "created_at", "review_due",
                       "warning_markers"),
            "link": ("id", "entry_id", "person_id", "role", "position", "created_at"),
            "person_match_key": ("key", "person_id"),
        }
        if dialect == "sqlite":
            conn.execute("BEGIN")
            for table, cols in columns.items():
                conn.executemany(f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
                                 [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows[table]])
            conn.execute("COMMIT")
        else:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SET session_replication_role = replica")
                for table, cols in columns.items():
                    with cur.copy(f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as copy:
                        for row in rows[table]:
                            copy.write_row(row)
        done = len(everyone)
        print(f"\r  {done:>8,} / {N_PEOPLE:,} people ({done / (time.perf_counter() - started):,.0f}/s)   ",
              end="", flush=True)
    print(f"\n  loaded in {time.perf_counter() - started:.0f} s; ANALYZE...", flush=True)
    if dialect == "sqlite":
        conn.execute("ANALYZE")
        conn.execute("PRAGMA foreign_keys=ON")
    else:
        conn.commit()
        conn.autocommit = True
        for table in ("entry", "person", "link"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("VACUUM ANALYZE")
    raw.close()
    return everyone


def people_from_db(app) -> list[dict]:
    with app.app_context():
        return [{"id": r.id, "full_name": r.full_name, "aliases": json.loads(r.aliases) if isinstance(r.aliases, str)
                 else (r.aliases or []), "born_on": date.fromisoformat(str(r.born_on)) if r.born_on else None,
                 "approx_age": r.approx_age}
                for r in db.session.execute(sa.text(
                    "SELECT id, full_name, aliases, born_on, approx_age FROM person ORDER BY id"))]


# --- planted duplicates ---------------------------------------------------------------------------------

def typo(rng: random.Random, name: str) -> str:
    parts = name.split()
    i = rng.randrange(len(parts))
    word = parts[i]
    if len(word) < 3:
        return name
    at = rng.randrange(1, len(word))  # the first letter is rarely the one mistyped
    edit = rng.choice(("substitute", "drop", "double", "swap"))
    if edit == "substitute":
        word = word[:at] + rng.choice("aeiourstnlm") + word[at + 1:]
    elif edit == "drop":
        word = word[:at] + word[at + 1:]
    elif edit == "double":
        word = word[:at] + word[at] + word[at:]
    elif at < len(word) - 1:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    parts[i] = word
    return " ".join(parts)


def sound_alike(rng: random.Random, name: str) -> str:
    lower = name.lower()
    options = [(a, b) for a, b in SOUND_ALIKE if a in lower]
    if not options:
        return typo(rng, name)
    a, b = rng.choice(options)
    return lower.replace(a, b, 1).title()


def swapped(rng: random.Random, name: str) -> str:
    parts = name.split()
    return " ".join([parts[-1], *parts[:-1]])


def short_form(rng: random.Random, name: str) -> str:
    parts = name.split()
    shorts = [s for s, formals in matching.nicknames().items() if parts[0].lower() in formals and s != parts[0].lower()]
    if not shorts:
        return typo(rng, name)
    parts[0] = rng.choice(shorts).title()
    return " ".join(parts)


DISTORTIONS = {"typo": typo, "sound-alike": sound_alike, "swapped": swapped, "short form": short_form,
               "exact": lambda rng, name: name}


def plant(rng: random.Random, everyone: list[dict], generator: People) -> list[dict]:
    queries_ = []
    for _ in range(N_QUERIES):
        if rng.random() < 0.2:
            born_on, _ = generator.born()
            queries_.append({"kind": "new person", "text": generator.name(), "born_on": born_on, "age": None,
                             "truth": None, "typed_dob": "date" if born_on else "nothing"})
            continue
        person = rng.choice(everyone)
        kinds = [rng.choice(list(DISTORTIONS))]
        if rng.random() < 0.25:
            kinds.append(rng.choice(["typo", "swapped", "short form"]))
        text = person["full_name"]
        for kind in kinds:
            text = DISTORTIONS[kind](rng, text)
        year = matching.birth_year(person["born_on"], person["approx_age"], TODAY)
        roll, born_on, age, typed_dob = rng.random(), None, None, "nothing"
        if person["born_on"] and roll < 0.45:
            born_on, typed_dob = person["born_on"], "date"
        elif roll < 0.45:  # the person gives a date of birth that their record doesn't hold (until 4 Dec never
            # typed: a matcher dropping "no date of birth on record" whenever a date was typed lost nothing here)
            near = year if year is not None else rng.randint(1945, 2012)
            born_on = date(near + rng.randint(-2, 2), rng.randint(1, 12), rng.randint(1, 28))
            typed_dob = "date, none on record"
        elif person["born_on"] and roll < 0.55 and person["born_on"].day <= 12 and person["born_on"].day != person["born_on"].month:
            b = person["born_on"]
            born_on, typed_dob = date(b.year, b.day, b.month), "day/month swapped"
        elif year is not None and roll < 0.70:
            age, typed_dob = max(0, TODAY.year - year + rng.randint(-2, 2)), "approximate age"
        queries_.append({"kind": "+".join(kinds), "text": text, "born_on": born_on, "age": age, "truth": person,
                         "typed_dob": typed_dob})
    return queries_


def namesake(q: dict, found, truth_name: str) -> bool:
    """Another person with the very same name, whom nothing typed tells apart."""
    same = matching.tokens(found.full_name) == matching.tokens(truth_name) or any(
        matching.tokens(a) == matching.tokens(truth_name) for a in found.aliases or [])
    nothing_typed = q["born_on"] is None and q["age"] is None
    nothing_known = found.born_on is None and found.approx_age is None
    return same and (nothing_typed or nothing_known)


def scored_for(user, query: matching.Query, q: dict, truth: dict | None, by_id: dict) -> list:
    """Every candidate the user's suggest query scores, labelled: the planted person, a namesake or another."""
    found, begins = suggest.scored_people(user, query)
    truth_name = truth["full_name"] if truth else q["text"]
    return [report.Scored(c.match.score, c.match.dates, c.id in begins,
                          "tp" if truth is not None and c.id == truth["id"]
                          else "namesake" if namesake(q, by_id[c.id], truth_name) else "fp", c.id, c.name_key)
            for c in found]


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def measure(app, planted: list[dict], everyone: list[dict]) -> None:
    by_id = {p["id"]: SimpleNamespace(**p) for p in everyone}
    # The bench holds the whole population (a million objects) that an app server doesn't: left to the garbage
    # collector, each of its full passes over them (~0.5 s) landed inside some timed query. Frozen, it skips them.
    gc.collect()
    gc.freeze()
    collecting = {"since": 0.0, "ms": 0.0, "full": 0}  # the collector's own time, to tell it from the query's

    def collector(phase: str, info: dict) -> None:
        if phase == "start":
            collecting["since"] = time.perf_counter()
        else:
            collecting["ms"] += (time.perf_counter() - collecting["since"]) * 1000
            collecting["full"] += info["generation"] == 2

    gc.callbacks.append(collector)
    with app.app_context():
        supervisor = db.session.scalars(sa.select(User).where(User.role == "supervisor").order_by(User.id)).first()
        pcso = db.session.scalars(sa.select(User).where(User.role == "pcso").order_by(User.id)).first()
        supervisor.beat_ids, pcso.beat_ids  # loaded once
        for q in planted[:50]:  # warm the caches
            suggest.suggest_people(supervisor, matching.Query(q["text"], q["born_on"], q["age"]), limit=8)
        timings = {"supervisor": [], "pcso": [], "supervisor, CPU": [], "pcso, CPU": []}
        in_gc = {"supervisor": [], "pcso": []}
        # Timed first, keeping nothing: the counts below hold ~150 objects a typed name (300,000 for 2,000), and
        # with them in the heap the collector's full passes grew as no app server's would.
        for q in planted if TIMED else ():
            query = matching.Query(q["text"], born_on=q["born_on"], age=q["age"])
            for who, user in (("supervisor", supervisor), ("pcso", pcso)):
                started, cpu, gc_before = time.perf_counter(), time.process_time(), collecting["ms"]
                suggest.suggest_people(user, query, limit=8)  # as /people/suggest asks
                timings[who].append((time.perf_counter() - started) * 1000)
                in_gc[who].append(collecting["ms"] - gc_before)
                timings[f"{who}, CPU"].append((time.process_time() - cpu) * 1000)
            db.session.expunge_all()
        gc.callbacks.remove(collector)
        # The PCSO sees one beat's people: a planted person on another beat is, for them, a new person.
        seen = set(db.session.scalars(sa.select(Link.person_id).join(Entry, Entry.id == Link.entry_id)
                                      .where(visible_entries(pcso))))
        as_pcso = []
        for q in planted:
            query = matching.Query(q["text"], born_on=q["born_on"], age=q["age"])
            q["group"] = f'{q["typed_dob"]}' if q["truth"] else "new person"
            q["scored"] = scored_for(supervisor, query, q, q["truth"], by_id)  # every candidate, for the counts
            truth = q["truth"] if q["truth"] and q["truth"]["id"] in seen else None
            as_pcso.append(q | {"truth": truth, "group": q["group"] if truth else "new to the PCSO",
                                "scored": scored_for(pcso, query, q, truth, by_id)})
            db.session.expunge_all()
    if DUMP:
        with open(DUMP, "wb") as handle:
            pickle.dump([{k: v for k, v in q.items() if k != "truth"} | {"truth": q["truth"] and q["truth"]["id"]}
                         for q in planted], handle)
    report.report(planted)
    report.sweep(planted)
    print(f"\n  as the PCSO (one beat; {sum(q['truth'] is not None for q in as_pcso):,} planted people they can see):")
    own = [p for p, q in zip(as_pcso, planted) if p["truth"] is not None or q["truth"] is None]
    for what, typed in (("every typed name (most are people of other beats: new to them)", as_pcso),
                        ("people of their beat and new people only", own)):
        recall, wrong, right = report.point(report.tally(typed)[0])
        print(f"    {what}: {len(typed):,} typed names, recall {recall:.3f}, precision {right:.3f} namesakes right, "
              f"{wrong:.3f} namesakes wrong")
    if not TIMED:
        return
    print(f"\n  latency in process (ms; CPU: this process's CPU time, which the machine's load hardly changes; "
          f"with PostgreSQL the server's is not in it), load average {os.getloadavg()[0]:.1f}:")
    print("                                 p50     p95     max")
    for who, values in timings.items():
        print(f"    {who:<24} {statistics.median(values):7.1f} {percentile(values, 95):7.1f} {max(values):7.1f}")
    slowest = sorted(range(len(planted)), key=lambda i: -timings["supervisor"][i])[:3]
    print(f"  the garbage collector: {collecting['full']} full collections, {collecting['ms']:.0f} ms in all; slowest "
          "(supervisor wall / CPU / in the collector, ms, what was typed): " + "; ".join(
              f'{timings["supervisor"][i]:.0f} / {timings["supervisor, CPU"][i]:.0f} / {in_gc["supervisor"][i]:.0f} '
              f'{planted[i]["text"]!r} {planted[i]["born_on"] or planted[i]["age"] or ""}' for i in slowest))


def main() -> None:
    url, dialect = database()
    print(f"person matching: {N_PEOPLE:,} people, {N_QUERIES:,} typed names, {dialect}")
    app = make_app(url)
    if REUSE:
        everyone = people_from_db(app)
        if len(everyone) != N_PEOPLE:
            sys.exit(f"BENCH_REUSE=1 but the database has {len(everyone):,} people, not {N_PEOPLE:,}")
    else:
        if dialect == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        else:
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
            engine.dispose()
        prepare(app, dialect)
        everyone = generate(app, dialect)
    rng = random.Random(PLANT_SEED)
    generator = People()  # its vocabulary; its new people made afresh for a held-out set too
    if PLANT_SEED != SEED + 1:
        generator.rng.seed(PLANT_SEED)
    planted = plant(rng, everyone, generator)
    measure(app, planted, everyone)


if __name__ == "__main__":
    main()
