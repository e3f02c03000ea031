"""`flask audit ...`: the signing key, sealing (for cron or a systemd timer), the witness file, verification."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..extensions import db
from ..timeutil import utcnow
from . import keys, partitions, witness
from .protection import app_role as protection_role
from .sealing import CHECKPOINTS, TreeBroken, seal
from .verify import verify

audit_cli = AppGroup("audit", help="The tamper-evident audit log: seal it, export checkpoints, verify it.")
key_cli = AppGroup("key", help="The Ed25519 key that signs checkpoints (kept in AUDIT_SIGNING_KEY_DIR).")
checkpoint_cli = AppGroup("checkpoint", help="Signed checkpoints, for a witness kept outside the database.")
audit_cli.add_command(key_cli)
audit_cli.add_command(checkpoint_cli)


def _new_key(action: str) -> None:
    folder = keys.key_dir()
    key = keys.make_key(folder, stamp=utcnow().strftime("%Y%m%dT%H%M%S%fZ"))
    click.echo(f"Audit signing key {key.key_id} {action} in {folder} (public key beside it, .pub).")


@key_cli.command("init")
def key_init():
    """Make the signing key if there is none (does nothing if one exists); prints its key id."""
    try:
        key = keys.current_key()
    except keys.SigningNotSetUp:
        _new_key("made")
        return
    click.echo(f"Audit signing key {key.key_id} already set up in {key.path.parent}.")


@key_cli.command("rotate")
def key_rotate():
    """Make a new signing key; the old public keys stay, so older checkpoints still verify."""
    _new_key("made current (older public keys kept: their checkpoints still verify)")


@audit_cli.command("seal")
@click.option("--batch", type=click.IntRange(1, 1_000_000), default=None,
              help="Events per transaction and checkpoint (default AUDIT_SEAL_BATCH, 10,000).")
def seal_command(batch):
    """Add every new event to the Merkle tree and sign a checkpoint. Safe to run from cron on every server."""
    try:
        result = seal(batch=batch)
    except keys.SigningNotSetUp as error:
        raise click.ClickException(str(error)) from None
    except TreeBroken as error:
        click.echo(f"Refusing to seal: {error}. Run `flask audit verify`.", err=True)
        sys.exit(1)
    if result.sealed:
        size, root = result.checkpoints[-1]
        click.echo(f"Sealed {result.sealed:,} events in {len(result.checkpoints)} checkpoint(s): tree size {size:,}, "
                   f"root {root.hex()}.")
    if result.busy:
        click.echo("Another sealer is running; this one stops here (the next run carries on).")
    elif not result.sealed:
        click.echo(f"Nothing new to seal: tree size {result.tree_size:,}.")
    if result.held_back:
        click.echo(f"Not yet sealed: {result.held_back:,} (too recent, or written since; the next run takes them).")


@checkpoint_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def checkpoint_export(path):
    """Append the latest signed checkpoint to PATH as one JSON line (a witness file kept outside the database)."""
    latest = db.session.execute(sa.select(CHECKPOINTS).order_by(CHECKPOINTS.c.tree_size.desc()).limit(1)).first()
    db.session.rollback()
    if latest is None:
        raise click.ClickException("No checkpoint yet: run `flask audit seal` first.")
    written = witness.append(path, latest)
    state = "appended to" if written else "already the last line of"
    click.echo(f"Checkpoint of size {latest.tree_size:,} (root {latest.root_hash.hex()}) {state} {path}.")


@audit_cli.command("verify")
@click.option("--checkpoint", "witness_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A witness file of exported checkpoints to check the database against.")
def verify_command(witness_path):
    """Recompute the tree from the rows and check every checkpoint; exit 1 on any finding."""
    report = verify(witness_path)
    for finding in report.findings:
        click.echo(str(finding))
    if not report.clean:
        counts = ", ".join(f"{sum(f.kind == kind for f in report.findings)} {kind}"
                           for kind in dict.fromkeys(f.kind for f in report.findings))
        click.echo(f"Audit log NOT intact: {counts}. Not yet sealed: {report.unsealed:,}.")
        sys.exit(1)
    if report.checkpoints:
        latest = report.checkpoints[-1]
        click.echo(f"Audit log intact: {report.tree_size:,} events in the tree, {len(report.checkpoints):,} "
                   f"checkpoint(s), the latest (size {latest.tree_size:,}) signed {keys.format_time(latest.signed_at)}"
                   f" by key {latest.key_id}.")
    else:
        click.echo("Audit log intact: nothing sealed yet.")
    if witness_path is not None:
        click.echo(f"Witness {witness_path.name}: {report.witnessed:,} checkpoint(s), all agree.")
    click.echo(f"Not yet sealed: {report.unsealed:,}.")


@audit_cli.command("partitions")
@click.option("--months", type=click.IntRange(0, 60), default=3, show_default=True,
              help="Months ahead of this one to make partitions for.")
def partitions_command(months):
    """PostgreSQL: make audit_event's monthly partitions for this month and the next ones (cron, monthly)."""
    with db.engine.begin() as conn:
        if not partitions.is_partitioned(conn):
            click.echo("audit_event is not partitioned here (SQLite, or not migrated to 0027): nothing to do.")
            return
        made, skipped = partitions.ensure_ahead(conn, utcnow().date(), months, app_role=protection_role())
        names = partitions.partitions(conn)
    for name in made:
        click.echo(f"Made {name}.")
    for month in skipped:
        click.echo(f"{month:%Y-%m}: its events are already in {partitions.DEFAULT}; left there, no partition made.")
    click.echo(f"audit_event has {len(names)} partitions, {names[0]} to {names[-2] if len(names) > 1 else names[0]}, "
               f"and {partitions.DEFAULT}.")
