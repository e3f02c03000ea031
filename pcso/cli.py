"""Operator commands: flask beats ..., flask schools ..., flask users ..., flask search ..., flask import ..., flask seed-demo,
flask pole ..., flask backup and flask restore-backup."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from .boundaries import BoundaryError, parse_boundaries
from .extensions import db
from .models import Beat, Role, User

beats_cli = AppGroup("beats", help="Import beat boundaries and find the beat for a point.")
schools_cli = AppGroup("schools", help="Import the school list.")
users_cli = AppGroup("users", help="Create users and assign them to beats.")
search_cli = AppGroup("search", help="Rebuild the search index; purge expired saved searches.")
import_cli = AppGroup("import", help="Import context layers from public data (data.police.uk).")
pole_cli = AppGroup("pole", help="People, vehicles and places: their match keys.")
seal_key_cli = AppGroup("seal-key", help="The key phones seal sensitive entries to (kept in SEAL_KEY_DIR).")


def _read(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror}") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{path} is not UTF-8 text") from error


@beats_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--code-property", default="code", show_default=True, help="GeoJSON property with the beat code")
@click.option("--name-property", default="name", show_default=True, help="GeoJSON property with the beat name")
@click.option("--code", help="Beat code, for a data.police.uk boundary (a list of points)")
@click.option("--name", help="Beat name, for a data.police.uk boundary")
@click.option("--district", help="District the beats belong to (e.g. a CSP area)")
def beats_import(path, code_property, name_property, code, name, district):
    """Import beats from a GeoJSON FeatureCollection or a data.police.uk boundary.

    Everything is checked before anything is written: a bad file changes nothing.
    Importing again updates beats with the same code.
    """
    from .beats.services import import_beats

    try:
        shapes = parse_boundaries(_read(path), code_property=code_property, name_property=name_property,
                                  code=code, name=name)
    except BoundaryError as error:
        raise click.ClickException(str(error)) from error
    summary = import_beats(shapes, district=district)
    db.session.commit()
    click.echo(f"{len(shapes)} beats read: {summary.created} created, {summary.updated} updated, "
               f"{summary.unchanged} unchanged.")


@beats_cli.command("locate", context_settings={"ignore_unknown_options": True})
@click.argument("lat", type=float)
@click.argument("lon", type=float)
def beats_locate(lat, lon):
    """Print the code of the beat containing LAT LON; exit 1 when no beat does."""
    from .beats.services import locate_beat

    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise click.BadParameter("latitude must be -90..90 and longitude -180..180")
    beat = locate_beat(lat, lon)
    db.session.rollback()
    if beat is None:
        click.echo(f"No beat contains {lat}, {lon}.", err=True)
        sys.exit(1)
    click.echo(beat.code)


@beats_cli.command("list")
def beats_list():
    """List beats with their officers."""
    for beat in db.session.scalars(sa.select(Beat).order_by(Beat.code)):
        officers = ", ".join(u.collar_number for u in beat.officers) or "-"
        click.echo(f"{beat.code}  {beat.name}  [{officers}]")


@schools_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
def schools_import(path):
    """Import schools from the GIAS extract CSV (URN, name, location); each placed on its beat."""
    from .schools.services import SchoolImportError, import_schools

    try:
        summary = import_schools(_read(path))
    except SchoolImportError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"{summary.created} schools created, {summary.updated} updated, {summary.unchanged} unchanged, "
               f"{summary.outside_beats} outside every beat.")
    for problem in summary.problems:
        click.echo(f"skipped {problem}", err=True)


def _beats_by_code(codes) -> list[Beat]:
    beats = []
    for code in codes:
        beat = db.session.scalar(sa.select(Beat).where(Beat.code == code))
        if beat is None:
            raise click.ClickException(f"no beat with code {code}")
        beats.append(beat)
    return beats


@users_cli.command("create")
@click.option("--collar", "collar_number", required=True, help="Collar number, the login name")
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--beat", "beat_codes", multiple=True, help="Beat code to assign (repeatable)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given (at least 12 characters)")
def users_create(collar_number, display_name, role, beat_codes, password):
    """Create a user. The password is asked for, never echoed."""
    collar_number, display_name = collar_number.strip().upper(), display_name.strip()
    if not collar_number or len(collar_number) > 16:
        raise click.ClickException("the collar number must be 1 to 16 characters")
    if not display_name or len(display_name) > 120:
        raise click.ClickException("the name must be 1 to 120 characters")
    if len(password) < 12:
        raise click.ClickException("the password must be at least 12 characters")
    if db.session.scalar(sa.select(User).where(User.collar_number == collar_number)):
        raise click.ClickException(f"collar number {collar_number} is already in use")
    user = User(collar_number=collar_number, display_name=display_name, role=Role(role))
    user.set_password(password)
    user.beats = _beats_by_code(beat_codes)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {user.collar_number} ({user.role.label}).")


@users_cli.command("assign")
@click.argument("collar_number")
@click.argument("beat_codes", nargs=-1, required=True)
def users_assign(collar_number, beat_codes):
    """Assign a user to beats (replacing their current beats)."""
    from .beats.services import assign_beats

    user = db.session.scalar(sa.select(User).where(User.collar_number == collar_number.upper()))
    if user is None:
        raise click.ClickException(f"no user with collar number {collar_number}")
    assign_beats(user, _beats_by_code(beat_codes), actor=None)
    db.session.commit()
    click.echo(f"{user.collar_number}: {', '.join(b.code for b in user.beats)}")


@users_cli.command("totp-code")
@click.argument("collar_number")
def users_totp_code(collar_number):
    """Print a user's current two-step sign-in code (development and demo only; refused in production)."""
    import pyotp

    from .auth import totp

    if current_app.config.get("BEATBOOK_ENV") == "production":
        raise click.ClickException("totp-code is for development and the demo: refused with BEATBOOK_ENV=production")
    user = db.session.scalar(sa.select(User).where(User.collar_number == collar_number.strip().upper()))
    secret = totp.secret_of(user) if user is not None and totp.is_enrolled(user) else None
    if secret is None:
        raise click.ClickException(f"{collar_number.upper()} has no two-step sign-in set up")
    click.echo(pyotp.TOTP(secret).now())


@users_cli.command("list")
def users_list():
    for user in db.session.scalars(sa.select(User).order_by(User.collar_number)):
        state = "" if user.is_enabled else " (disabled)"
        click.echo(f"{user.collar_number}  {user.role.value:<12} {user.display_name}{state}")


@search_cli.command("reindex")
def search_reindex():
    """Rebuild every entry's search text with the current rules (after changing them, or after a restore)."""
    from .search.index import reindex_entries

    count = reindex_entries()
    db.session.commit()
    click.echo(f"Reindexed {count} entries.")


@search_cli.command("purge")
def search_purge():
    """Delete expired saved searches (results pages past SEARCH_RESULTS_TTL_HOURS; new searches do it too)."""
    from .search.saved import purge_saved_searches

    count = purge_saved_searches()
    db.session.commit()
    click.echo(f"Deleted {count} expired saved searches.")


@pole_cli.command("rebuild-match-keys")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1, 50_000),
              help="Records read, compared and committed at a time.")
def pole_rebuild_match_keys(batch_size):
    """Make every person's and vehicle's match keys again from the record (after a change to the matching
    rules, a restore, or rows written around the app). Only keys that differ are rewritten; run it again
    and nothing changes. Each batch is committed, so it can be stopped and run again."""
    from .models import Person, Vehicle
    from .pole.match_keys import rebuild_match_keys

    for kind, model in (("person", Person), ("vehicle", Vehicle)):
        total = db.session.scalar(sa.select(sa.func.count(model.id)))
        read = rewritten = 0
        after_id = 0
        with click.progressbar(length=total, label=f"{kind.title()} match keys") as bar:
            while (done := rebuild_match_keys(kind, after_id=after_id, batch_size=batch_size)).last_id is not None:
                db.session.commit()
                read, rewritten, after_id = read + done.records, rewritten + done.rewritten, done.last_id
                bar.update(done.records)
        click.echo(f"{read} {'people' if kind == 'person' else 'vehicles'} read: {rewritten} rewritten, "
                   f"{read - rewritten} already right.")


def _check_police_uk(path: str) -> int:
    """Check one street-level crime file before anything is written; return its line count."""
    from .context.police_uk import PoliceUkFileError, check_file

    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return check_file(handle)
    except OSError as error:
        raise click.ClickException(f"cannot read {path}: {error.strerror}") from error
    except PoliceUkFileError as error:
        raise click.ClickException(f"{path}: {error}") from error


@import_cli.command("police-uk")
@click.argument("paths", metavar="FILE.csv [FILE ...]", nargs=-1, required=True,
                type=click.Path(dir_okay=False))
def import_police_uk(paths):
    """Import data.police.uk monthly street-level crime files as a context layer on the beats.

    Every file is checked first (header, UTF-8): a bad one stops the command before anything is
    written. Importing a file again adds nothing. Rows without coordinates or outside every beat
    are counted, not stored; a malformed row is reported with its line number and skipped.
    """
    from .context.police_uk import PoliceUkFileError
    from .context.police_uk_import import ImportSummary, import_street_crimes

    lines = {path: _check_police_uk(path) for path in paths}
    total = ImportSummary(file="Total")
    for path in paths:
        name = Path(path).name
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle, click.progressbar(
                    length=max(lines[path] - 1, 0), label=name, file=sys.stderr) as bar:
                summary = import_street_crimes(handle, source_file=name, progress=bar.update)
        except (OSError, PoliceUkFileError) as error:
            db.session.rollback()
            reason = error.strerror if isinstance(error, OSError) else error
            raise click.ClickException(f"{path}: {reason} (nothing from this file was imported)") from error
        db.session.commit()
        for line, reason in summary.problems:
            click.echo(f"{path} line {line}: {reason}", err=True)
        click.echo(f"{name}: {summary.describe()}")
        total.add(summary)
    if len(paths) > 1:
        click.echo(f"Total: {total.describe()}")


def _new_seal_key(action: str):
    from . import seal
    from .timeutil import utcnow

    folder = seal.key_dir()
    key = seal.make_key(folder, stamp=utcnow().strftime("%Y%m%dT%H%M%S%fZ"))
    click.echo(f"Sealing key {key.kid} {action} in {folder}.")


@seal_key_cli.command("init")
def seal_key_init():
    """Make the sealing key if there is none (does nothing if one exists); prints the current kid."""
    from . import seal

    try:
        key = seal.current_key()
    except seal.SealingNotSetUp:
        _new_seal_key("made")
        return
    click.echo(f"Sealing key {key.kid} already set up in {seal.key_dir()}.")


@seal_key_cli.command("rotate")
def seal_key_rotate():
    """Make a new current sealing key. The old ones stay: entries still waiting on phones were sealed to them."""
    _new_seal_key("made current (older keys kept for what was sealed to them)")


@click.command("backup")
@click.option("--to", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="The new file (default instance/backups/beatbook-<UTC time>.sqlite)")
def backup_command(target):
    """Back up the SQLite database while the app runs (0600 file, integrity-checked); PostgreSQL: prints pg_dump."""
    from . import backup

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        click.echo("PostgreSQL is backed up with pg_dump, as the migration role (docs/DEPLOY.md):")
        click.echo("  " + backup.pg_dump_command(url))
        raise SystemExit(2)
    try:
        result = backup.backup_sqlite(url, target or backup.default_target(Path(current_app.instance_path)))
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up {result.tables} tables ({result.bytes:,} bytes) to {result.path}; integrity check ok.")


@click.command("restore-backup")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the database is replaced (stop every app server first)")
def restore_backup_command(backup_file, yes):
    """Replace the SQLite database with a backup made by `flask backup` (checked first)."""
    from . import backup

    if not yes:
        raise click.ClickException("this replaces the whole database: stop the app servers, then add --yes")
    try:
        result = backup.restore_sqlite(backup_file, current_app.config["SQLALCHEMY_DATABASE_URI"])
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {result.tables} tables into {result.path}; integrity check ok.")


def register_cli(app: Flask) -> None:
    from .auditlog.cli import audit_cli
    from .jobs.cli import jobs_cli
    from .retention.command import retention_cli
    from .seed.command import seed_demo_command

    app.cli.add_command(beats_cli)
    app.cli.add_command(schools_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(seal_key_cli)
    app.cli.add_command(pole_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_backup_command)
