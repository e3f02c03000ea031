"""`flask seed-demo`: deterministic demo data, refused on real data and in production without --force.

Imports the 21 Trafford wards as beats and the Trafford schools, creates one demo user per
role (fixed collar numbers and passwords, printed at the end) and N entries of every kind
over the last D days. The same --seed on the same day gives the same data: every choice
comes from one random.Random(seed), and time is anchored to the latest 06:00 UTC (so the
"demo day" runs from 06:00 to 06:00 UTC).

Safety: a database holding anything but demo data (a user whose collar number is not a
demo one, or an entry by such a user) is refused without --force, and so is
BEATBOOK_ENV=production. Running again on a demo-only database replaces the demo entries.
"""
from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..models import EntryKind, User
from ..timeutil import utcnow
from .demo import DISTRICT, demo_anchor, seed_demo
from ..auth import totp
from .people import DEMO_COLLARS, DEMO_USERS, demo_totp_secret, real_data_counts


def _echo_logins() -> None:
    present = {user.collar_number: user for user in
               db.session.scalars(sa.select(User).where(User.collar_number.in_(DEMO_COLLARS)))}
    if not present:
        click.echo("No demo logins in this database.")
        return
    click.echo("Demo logins:")
    click.echo(f"  {'collar':<8} {'role':<18} {'name':<16} {'password':<24} two-step key (TOTP, base32)")
    for user in DEMO_USERS:
        if user.collar_number in present:
            enrolled = totp.is_enrolled(present[user.collar_number])
            key = demo_totp_secret(user.collar_number) if enrolled else "-"
            click.echo(f"  {user.collar_number:<8} {user.role.label:<18} {user.display_name:<16} {user.password:<24} "
                       f"{key}")
    click.echo("The roles with a key sign in with a code after the password: add the key to an authenticator app, "
               "or run\n  flask --app app users totp-code COLLAR   (development only) for the current code.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has users.")
@click.option("--force", is_flag=True, help="Seed even into a database holding real (non-demo) data, "
              "or when BEATBOOK_ENV=production.")
@click.option("--entries", "n_entries", type=click.IntRange(0, 20_000), default=400, show_default=True,
              help="How many entries to create.")
@click.option("--days", type=click.IntRange(7, 365), default=60, show_default=True,
              help="Spread the entries over this many days before today.")
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed: same seed, same data.")
@with_appcontext
def seed_demo_command(if_empty, force, n_entries, days, seed):
    """Load demo beats, schools, users and entries (deterministic for a given --seed and day)."""
    if if_empty:
        users = db.session.scalar(sa.select(sa.func.count(User.id)))
        if users:
            click.echo(f"Data already present ({users} users): nothing seeded.")
            _echo_logins()
            db.session.rollback()
            return
    if current_app.config.get("BEATBOOK_ENV") == "production" and not force:
        raise click.ClickException("BEATBOOK_ENV is production: refusing to load demo data (use --force "
                                   "if you really mean to).")
    real_users, real_entries = real_data_counts()
    if (real_users or real_entries) and not force:
        db.session.rollback()
        raise click.ClickException(
            f"This database holds real data ({real_users} non-demo users, {real_entries} entries by them): "
            "refusing to add demo data. Use --force to add it anyway (nothing real is deleted)."
        )
    started = time.perf_counter()
    try:
        summary = seed_demo(n_entries=n_entries, days=days, seed=seed, anchor=demo_anchor(utcnow()),
                            demo_only=not (real_users or real_entries))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    elapsed = time.perf_counter() - started
    if summary.replaced:
        click.echo(f"Replaced {summary.replaced} demo entries from an earlier run.")
    click.echo(f"Seeded in {elapsed:.1f} s: {summary.beats} beats ({DISTRICT}), {summary.schools} schools, "
               f"{summary.users} users.")
    for kind in EntryKind:
        click.echo(f"  {kind.label + 's':<21} {summary.kinds[kind]:>5}")
    click.echo(f"  {'total':<21} {sum(summary.kinds.values()):>5}  ({summary.drafts} drafts; "
               f"{summary.asb_people} people and {summary.asb_vehicles} vehicles on ASB incidents; "
               f"{summary.repeat_victims} repeat victims; {summary.children} children on SPOC lists; "
               f"{summary.intel_raised} intelligence reports raised from incidents and checks)")
    click.echo(f"  Reviewed: {summary.reviewed['approved']} approved, {summary.reviewed['returned']} returned; "
               f"{summary.priorities} beat priorities; {summary.risk_assessments} victim risk assessments, "
               f"{summary.risk_reviews} risk reviews; {summary.case_reviews} ASB Case Review applications.")
    _echo_logins()
