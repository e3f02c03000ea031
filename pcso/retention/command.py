"""`flask retention run [--apply]`: the MoPI review as an operator (or a scheduled job) sees it.

Without --apply it changes nothing: it prints what is due, by group and rule, and the dispose decisions
waiting to be carried out. With --apply it carries out those decisions, and only those: one transaction per
record (a failure rolls back and leaves that record whole, and the run goes on), then deletes the erased
entries' photo files. Nothing is disposed of without a decision recorded by a records manager.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from .dates import current_rules
from .erase import DisposalRefused, carry_out, delete_files, pending_disposals
from .services import due_counts

retention_cli = AppGroup("retention", help="MoPI review: what is due, and carry out recorded disposals.")


def _print_due() -> int:
    rules, counts = current_rules(), due_counts()
    total = sum(sum(by_rule.values()) for by_rule in counts.values())
    click.echo(f"Retention rules: {rules.path}")
    for group in sorted(counts):
        click.echo(f"  {rules.group_label(group)}: {sum(counts[group].values())} due")
        for name, number in sorted(counts[group].items()):
            rule = rules.by_name(name)
            flag = "; child safeguarding: never automatic" if rule.safeguarding else ""
            click.echo(f"    {name}: {number} ({rule.path}{flag})")
    return total


def _apply(waiting) -> tuple[int, list[str]]:
    disposed, failures = 0, []
    with click.progressbar(waiting, label="Disposing", show_pos=True,
                           item_show_func=lambda d: d and f"{d.record_type} {d.record_id}") as decisions:
        for decision in decisions:
            try:
                carry_out(decision)
                db.session.commit()
                disposed += 1
            except DisposalRefused as error:
                db.session.rollback()
                failures.append(f"decision {decision.id}: {error}")
            except Exception as error:  # noqa: BLE001 (the record stays whole; the run goes on)
                db.session.rollback()
                failures.append(f"decision {decision.id} ({decision.record_type} {decision.record_id}): "
                                f"{type(error).__name__}, nothing of it was erased")
    return disposed, failures


@retention_cli.command("run")
@click.option("--apply", "apply_", is_flag=True, help="Carry out the dispose decisions already recorded.")
def run_command(apply_: bool) -> None:
    """Print the records due for review; with --apply, carry out recorded dispose decisions."""
    total = _print_due()
    waiting = pending_disposals()
    db.session.rollback()  # nothing written yet: let go of the read
    click.echo(f"{len(waiting)} dispose decision{'s' if len(waiting) != 1 else ''} recorded and not yet carried out")
    if not apply_:
        click.echo(f"{total} due, 0 disposed: disposal needs a recorded decision"
                   + (" (run with --apply to carry out those recorded)" if waiting else ""))
        return
    waiting = pending_disposals()
    disposed, failures = _apply(waiting)
    deleted, failed = delete_files()
    db.session.commit()
    for line in failures:
        click.echo(f"  not disposed: {line}", err=True)
    click.echo(f"{total} due, {disposed} disposed ({deleted} photo files deleted"
               + (f", {failed} left for the next run" if failed else "") + ")")
    if failures:
        raise SystemExit(1)
