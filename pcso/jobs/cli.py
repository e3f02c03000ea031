"""`flask jobs ...`: the RQ worker, and running a job from a terminal with its progress shown.

    flask jobs worker [--burst]         work the "beatbook" queue on Redis (JOBS_REDIS_URL or REDIS_URL)
    flask jobs run KIND [--no-wait]     submit a job (audit_seal, search_reindex, retention_apply) and follow it
    flask jobs reap                     jobs whose worker died: run again while attempts remain, else failed
    flask jobs purge                    delete job files past JOB_RESULT_MINUTES
    flask jobs list                     the latest jobs
"""
from __future__ import annotations

import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..extensions import db
from . import kinds  # noqa: F401  (registers the app's job kinds)
from ..models import Job, JobState
from .runner import (mark_worker_process, mode, purge_files, queue, reap, redis_connection, registered_kinds,
                     resend_lost, start, submit)

jobs_cli = AppGroup("jobs", help="Background jobs: the worker, and running jobs from a terminal.")

# The kinds a terminal may start (the others need a user: their pages start them). The imports take the server's
# file paths (--file), and their options as --param name=value.
TERMINAL_KINDS = ("audit_seal", "audit_partitions", "search_reindex", "retention_apply", "police_uk_import", "beats_import",
                  "schools_import")
FILE_PARAMS = {"police_uk_import": "paths", "beats_import": "path", "schools_import": "path"}


def _params(kind: str, files: tuple[str, ...], pairs: tuple[str, ...]) -> dict:
    params: dict = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"{pair!r}: give --param name=value")
        params[name] = value
    if kind in FILE_PARAMS:
        if not files:
            raise click.BadParameter(f"{kind} needs --file")
        missing = [path for path in files if not Path(path).is_file()]
        if missing:
            raise click.BadParameter(f"no such file: {', '.join(missing)}")
        absolute = [str(Path(path).resolve()) for path in files]
        params[FILE_PARAMS[kind]] = absolute if FILE_PARAMS[kind] == "paths" else absolute[0]
    return params


MAINTENANCE_SECONDS = 15  # how often an idle worker sends the jobs Redis lost (RQ's own default: 10 minutes)


def _worker_class():
    from rq import Worker
    from redis.exceptions import RedisError

    class BeatbookWorker(Worker):
        """RQ's worker, whose periodic upkeep also sends again the jobs Redis does not know (pcso/jobs/runner.py
        resend_lost): after Redis was down or restarted empty, they run without waiting for a restart."""

        def run_maintenance_tasks(self):
            super().run_maintenance_tasks()
            try:
                sent = resend_lost()
                if sent:
                    click.echo(f"Jobs Redis had lost: {sent} sent again.")
            except (RedisError, sa.exc.SQLAlchemyError):  # down again: the next round tries
                pass
            finally:
                db.session.remove()  # the worker forks for each job: no connection is carried into it
                db.engine.dispose()

    return BeatbookWorker


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, one-off runs).")
def worker(burst: bool) -> None:
    """Run jobs from the Redis queue until stopped (systemd: deploy/beatbook-worker.service)."""
    if mode() != "rq":
        raise click.ClickException("No Redis: set REDIS_URL (or JOBS_REDIS_URL). Without it jobs run in the app.")
    restarted, failed = reap()
    if restarted or failed:
        click.echo(f"Jobs whose worker had died: {restarted} started again, {failed} failed.")
    purge_files()
    db.session.remove()  # the worker forks for each job: no connection is carried into it
    db.engine.dispose()
    mark_worker_process()
    # A short TTL: the idle worker wakes (and runs its upkeep) every worker_ttl - 15 s, not every 405 s.
    _worker_class()([queue()], connection=redis_connection(), maintenance_interval=MAINTENANCE_SECONDS,
                    worker_ttl=MAINTENANCE_SECONDS + 15).work(burst=burst, with_scheduler=False,
                                                              logging_level="WARNING")


@jobs_cli.command("run")
@click.argument("kind", type=click.Choice(TERMINAL_KINDS))
@click.option("--file", "files", multiple=True, help="A file to import (the server's path; repeat for several).")
@click.option("--param", "pairs", multiple=True, help="An import option, name=value (e.g. district=Trafford).")
@click.option("--wait/--no-wait", default=True, help="Follow the job to its end (the default).")
def run(kind: str, files: tuple[str, ...], pairs: tuple[str, ...], wait: bool) -> None:
    """Submit a job and show its progress; exits 1 if it fails."""
    job = submit(kind, _params(kind, files, pairs), actor=None)
    job_id = job.id
    db.session.commit()
    click.echo(f"Job {job_id}: {registered_kinds()[kind].label} ({mode()})")
    start(job_id)
    if not wait:
        return
    last = -1
    with click.progressbar(length=100, label=registered_kinds()[kind].label, show_percent=True) as bar:
        while True:
            db.session.rollback()
            job = db.session.get(Job, job_id)
            percent = job.percent or 0
            if percent > last:
                bar.update(percent - max(last, 0))
                last = percent
            if job.state.finished:
                break
            time.sleep(0.5)
    if job.state == JobState.FAILED:
        raise click.ClickException(job.error or "The job failed.")
    for name, value in (job.result or {}).items():
        click.echo(f"  {name}: {value}")


@jobs_cli.command("reap")
def reap_command() -> None:
    """Find jobs whose worker died mid-job (no heartbeat for JOB_STALE_SECONDS)."""
    restarted, failed = reap()
    click.echo(f"{restarted} started again, {failed} marked failed.")


@jobs_cli.command("purge")
def purge_command() -> None:
    """Delete the files of jobs past JOB_RESULT_MINUTES."""
    click.echo(f"Deleted {purge_files()} expired job files.")


@jobs_cli.command("list")
@click.option("--limit", default=20, show_default=True)
def list_command(limit: int) -> None:
    """The latest jobs, newest first."""
    for job in db.session.scalars(sa.select(Job).order_by(Job.created_at.desc()).limit(limit)):
        who = job.requested_by.collar_number if job.requested_by else "-"
        click.echo(f"{job.id}  {job.kind:<16} {job.state.value:<8} {job.percent or 0:>3}%  {who}")
