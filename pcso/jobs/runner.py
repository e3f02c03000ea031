"""Background jobs: long work out of the request, with progress, on RQ when Redis is there and in process when not.

    job_id = runner.launch("briefing_pdf", {"purpose": ..., "recipient": ...}, actor=current_user)
    return redirect(url_for("jobs.show", job_id=job_id))

launch() puts the job's row on record (submit), commits, then tells a worker, or this process, its id (start).
A job kind (pcso/jobs/kinds.py) is a plain function registered with @job_kind("name"); it takes the running
job's context and its parameters (ids and plain values, never objects), reads what it needs with the
requester's access at that moment, and is idempotent: run twice, it makes the same result (a killed worker's
job is run again). Its writes are one transaction at the end, or steps that are each complete (never
half-applied). Pages poll /jobs/<id>/status and offer the file (pcso/jobs/views.py) only to the user who
asked, until it expires. `flask jobs worker` (pcso/jobs/cli.py) runs them from Redis.

This module: submitting, starting and running them.

Modes (JOBS_MODE; by default "rq" when JOBS_REDIS_URL or REDIS_URL is set, else "thread"):
- rq      the job's id goes on the RQ queue "beatbook"; `flask jobs worker` runs it (pcso/jobs/cli.py)
- thread  a thread of this process runs it (`make run` with nothing else installed)
- inline  the request runs it before answering (tests; a tiny deployment)

Whatever the mode, the job's row in the database is the truth: its state, progress, heartbeat and file.
A job whose worker died (killed, out of memory, the server restarted) stops beating; `reap()` finds it and
runs it again while attempts remain (a job is idempotent), else marks it failed. Nothing is half-applied:
a job's writes are one transaction at its end, or steps each complete in itself.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from flask import Flask, current_app, g

from ..extensions import db
from ..models import Job, JobState, User
from ..timeutil import utcnow
from .registry import Kind, job_kind, kind_label, registered_kinds  # noqa: F401 (the kinds are registered here)

log = logging.getLogger(__name__)

QUEUE = "beatbook"
HEARTBEAT_SECONDS = 1.0  # progress is written at most this often
_forked_worker = False  # set by `flask jobs worker`: each job runs in a fork, which needs its own connections


class JobFailed(Exception):
    """A failure to tell the user in so many words (the message is shown): not retried."""


# --- submitting and starting ------------------------------------------------------------------------

def submit(kind: str, params: dict[str, Any], *, actor: User | None) -> Job:
    """A job on record (flushed, not committed: the caller commits, then calls start())."""
    if kind not in registered_kinds():
        raise KeyError(f"no such job kind: {kind}")
    json.dumps(params)  # plain values only: ids, strings, numbers (a TypeError here is a programming error)
    job = Job(id=str(uuid4()), kind=kind, params=params, requested_by_id=actor.id if actor is not None else None,
              state=JobState.QUEUED, done=0, attempts=0)
    db.session.add(job)
    db.session.flush()
    return job


def launch(kind: str, params: dict[str, Any], *, actor: User | None) -> str:
    """For a view: submit the job, commit (the request's other writes too), start it; returns its id."""
    job_id = submit(kind, params, actor=actor).id
    db.session.commit()
    start(job_id)
    return job_id


def mode(app: Flask | None = None) -> str:
    config = (app or current_app).config
    return config.get("JOBS_MODE") or ("rq" if config.get("JOBS_REDIS_URL") else "thread")


def redis_connection(app: Flask | None = None):
    from redis import Redis

    config = (app or current_app).config
    return Redis.from_url(config["JOBS_REDIS_URL"], socket_timeout=5, socket_connect_timeout=2)


def queue(app: Flask | None = None):
    from rq import Queue

    return Queue(QUEUE, connection=redis_connection(app))


def start(job: Job | str) -> None:
    """Tell a worker (or this process) to run a committed job. Safe to call twice: a job runs once."""
    job_id = job if isinstance(job, str) else job.id
    app = current_app._get_current_object()
    how = mode(app)
    if how == "rq":
        from rq import Retry

        from redis.exceptions import RedisError

        extra = app.config["JOB_MAX_ATTEMPTS"] - 1
        try:
            queue(app).enqueue_call("pcso.jobs.runner.perform", args=(job_id,), job_id=job_id,
                                    timeout=app.config["JOB_TIMEOUT_SECONDS"], result_ttl=3600, failure_ttl=86400,
                                    retry=Retry(max=extra) if extra > 0 else None,
                                    description=f"beatbook job {job_id}")
        except RedisError:  # Redis is down: the job waits in the database; a worker's start-up (reap) sends it
            log.warning("job %s: Redis unreachable, the job waits", job_id)
    elif how == "thread":
        threading.Thread(target=_in_thread, args=(app, job_id), name=f"job-{job_id[:8]}", daemon=True).start()
    elif how == "inline":
        db.session.rollback()  # the caller has committed: end any read begun since (SQLite: it takes the lock)
        with app.app_context():  # a session of its own: the request's stays as it was
            run_job(job_id)
    else:
        raise ValueError(f"JOBS_MODE must be rq, thread or inline, not {how!r}")


def _in_thread(app: Flask, job_id: str) -> None:
    with app.app_context():
        try:
            run_job(job_id)
        finally:
            db.session.remove()


def perform(job_id: str) -> None:
    """What the RQ worker runs (by name: the queue carries only the id)."""
    if _forked_worker:
        db.engine.dispose(close=False)  # the parent's pooled connections are not this fork's to use
    run_job(job_id, raise_errors=True)


# --- running ----------------------------------------------------------------------------------------

class JobContext:
    """What a running job's function is handed: its id, who asked, progress reporting and its output file."""

    def __init__(self, job: Job, actor: User | None):
        self.job_id = job.id
        self.kind = job.kind
        self.actor = actor
        self._last_beat = 0.0
        self._file: Path | None = None
        self.file_name: str | None = None
        self.file_type: str | None = None

    def progress(self, done: int, total: int | None = None, message: str | None = None, *, force: bool = False):
        """How far the job has got, for the page and the terminal (at most once a second, on a connection of its
        own so the job's own transaction is untouched). Also the heartbeat a stale job is told by."""
        now = time.monotonic()
        if not force and now - self._last_beat < HEARTBEAT_SECONDS:
            return
        self._last_beat = now
        values: dict[str, Any] = {"done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message[:200]
        try:
            # Best effort: never wait long for SQLite's write lock (the job's own transaction may hold it).
            with db.engine.connect().execution_options(busy_timeout_ms=200) as connection, connection.begin():
                connection.execute(sa.update(Job).where(Job.id == self.job_id).values(**values))
        except sa.exc.OperationalError:  # the database is busy: the next beat will say it
            log.info("job %s: progress not written (database busy)", self.job_id)

    def output(self, file_name: str, file_type: str) -> Path:
        """The path to write the job's file to; it is offered to the requester once the job is done."""
        directory = Path(current_app.config["JOBS_DIR"])
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._file = directory / f"{self.job_id}.part"
        self._file.unlink(missing_ok=True)  # a dead attempt's leftovers
        self._file.touch(mode=0o600)
        self.file_name, self.file_type = file_name, file_type
        return self._file

    def _keep_file(self) -> str | None:
        if self._file is None:
            return None
        key = f"{secrets.token_urlsafe(24)}.out"
        self._file.rename(self._file.with_name(key))
        return key


@contextmanager
def _job_request(kind: str) -> Iterator[None]:
    """What the job's code expects of a request: url_for() for the links it builds (relative, as on a page).
    Its transactions take the write lock as a command's do, and its audit events say "job:<kind>"."""
    with current_app.test_request_context("/", base_url=current_app.config.get("JOBS_BASE_URL") or None):
        g.beatbook_job_kind = kind
        try:
            yield
        finally:
            g.pop("beatbook_job_kind", None)


def _fail(job_id: str, error: str, *, final: bool) -> None:
    db.session.rollback()
    job = db.session.get(Job, job_id)
    if job is None:
        return
    job.state, job.error, job.finished_at = JobState.FAILED, error[:300], utcnow()
    if final:
        job.attempts = max(job.attempts, current_app.config["JOB_MAX_ATTEMPTS"])
    db.session.commit()
    part = Path(current_app.config["JOBS_DIR"]) / f"{job_id}.part"
    part.unlink(missing_ok=True)


def run_job(job_id: str, *, raise_errors: bool = False) -> JobState | None:
    """Run one job to its end. Idempotent: a job done is not run again; a job whose last attempt died is run
    again while attempts remain."""
    job = db.session.get(Job, job_id)
    if job is None:
        log.warning("job %s: no such job", job_id)
        return None
    limit = current_app.config["JOB_MAX_ATTEMPTS"]
    if job.state == JobState.DONE or (job.state == JobState.FAILED and job.attempts >= limit) or (
            job.state == JobState.RUNNING and _attempt_alive(job.owner) is not False and not is_stale(job)):
        return job.state  # done, or a live attempt has it (a second copy of it on the queue waits its end)
    if job.attempts >= limit:  # its last attempt died (running or queued again): no more
        _fail(job_id, "The job stopped before it finished, too many times.", final=True)
        return JobState.FAILED
    kind = registered_kinds().get(job.kind)
    actor = db.session.get(User, job.requested_by_id) if job.requested_by_id is not None else None
    if kind is None or (job.requested_by_id is not None and (actor is None or not actor.is_active)):
        _fail(job_id, "This job can no longer run." if kind else f"Unknown job kind {job.kind}.", final=True)
        return JobState.FAILED
    now = utcnow()  # claimed by one UPDATE on what was read: of two workers sent the job at once, one wins
    claimed = db.session.execute(sa.update(Job).where(Job.id == job_id, Job.state == job.state,
                                                      Job.attempts == job.attempts).values(
        state=JobState.RUNNING, attempts=Job.attempts + 1, started_at=now, heartbeat_at=now, error=None, done=0,
        finished_at=None, owner=_this_attempt()).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(job)
    if not claimed:
        state = job.state
        db.session.rollback()
        return state
    params, attempt = dict(job.params or {}), job.attempts
    context = JobContext(job, actor)  # plain values, read before the commit (after it they would be read again)
    db.session.commit()
    log.info("job %s (%s): attempt %s started", job_id, kind.name, attempt)
    try:
        with _job_request(kind.name):
            result = kind.fn(context, **params)
        key = context._keep_file()
    except JobFailed as refused:
        _fail(job_id, str(refused), final=True)
        return JobState.FAILED
    except Exception as error:
        log.exception("job %s (%s) failed", job_id, kind.name)  # the traceback names code, not people
        _fail(job_id, f"{type(error).__name__}: the job failed. Try again, or ask an administrator.", final=False)
        if raise_errors:
            raise
        return JobState.FAILED
    db.session.rollback()  # whatever the job's session was reading
    job = db.session.get(Job, job_id)
    job.state, job.finished_at, job.heartbeat_at = JobState.DONE, utcnow(), utcnow()
    job.result = result or {}
    if key is not None:
        job.file_key, job.file_name, job.file_type = key, context.file_name, context.file_type
        job.file_expires_at = utcnow() + timedelta(minutes=current_app.config["JOB_RESULT_MINUTES"])
    db.session.commit()
    log.info("job %s (%s): done", job_id, kind.name)
    return JobState.DONE


# --- the dead and the expired -------------------------------------------------------------------------

def _this_attempt() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def _attempt_alive(owner: str | None) -> bool | None:
    """Whether the process an attempt runs in is alive: known only on this host (RQ retries a killed
    work-horse's job at once, from its parent). Elsewhere, or unknown: None, and only a stale heartbeat tells."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname()[:60] or not pid.isascii() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def is_stale(job: Job) -> bool:
    if job.state != JobState.RUNNING:
        return False
    beat = job.heartbeat_at or job.started_at or job.created_at
    return utcnow() - beat > timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])


def reap(*, queued_after: timedelta | None = None) -> tuple[int, int]:
    """Jobs whose worker died mid-job: run again while attempts remain, else failed; and jobs still waiting
    `queued_after` (JOB_STALE_SECONDS) after they were asked for (Redis was down): sent again. A job sent twice
    runs once. Returns (started again, failed)."""
    stale_after = timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    cutoff = utcnow() - stale_after
    queued_cutoff = utcnow() - (stale_after if queued_after is None else queued_after)
    stale = db.session.scalars(sa.select(Job).where(Job.state == JobState.RUNNING, Job.heartbeat_at < cutoff)
                               .with_for_update(skip_locked=True)).all()
    again, failed = [], 0
    for job in stale:
        if _attempt_alive(job.owner):  # silent, but its process is alive (a long step): not run twice at once
            continue
        if job.attempts < current_app.config["JOB_MAX_ATTEMPTS"]:
            job.state, job.message = JobState.QUEUED, "Starting again: the last attempt stopped"
            again.append(job.id)
        else:
            job.state, job.finished_at = JobState.FAILED, utcnow()
            job.error = "The job stopped before it finished (its worker ended)."
            failed += 1
    waiting = db.session.scalars(sa.select(Job.id).where(Job.state == JobState.QUEUED,
                                                        Job.created_at <= queued_cutoff)).all()
    again += [job_id for job_id in waiting if job_id not in again]
    db.session.commit()
    for job_id in again:
        start(job_id)
    return len(again), failed


RESEND_AFTER = timedelta(seconds=5)  # a job queued this long that Redis does not know was never sent, or lost


def _unknown_to_redis(job_ids: list[str]) -> list[str]:
    from rq.job import Job as QueuedJob

    connection = redis_connection()
    return [job_id for job_id in job_ids if not QueuedJob.exists(job_id, connection=connection)]


def resend_lost(*, older_than: timedelta = RESEND_AFTER) -> int:
    """rq: jobs queued in the database that Redis does not know (asked for while Redis was down, or it restarted
    empty) are sent again; one Redis knows waits its turn (sent twice, the second copy would run nothing). How many."""
    if mode() != "rq":
        return 0
    waiting = list(db.session.scalars(sa.select(Job.id).where(Job.state == JobState.QUEUED,
                                                             Job.created_at <= utcnow() - older_than)))
    db.session.rollback()  # hold nothing while Redis is asked
    lost = _unknown_to_redis(waiting) if waiting else []
    for job_id in lost:
        start(job_id)
    return len(lost)


def resend_if_lost(job: Job) -> bool:
    """For the job's page, which polls its status: a job waiting since Redis was down is sent once Redis is back."""
    if mode() != "rq" or job.state != JobState.QUEUED or job.created_at > utcnow() - RESEND_AFTER:
        return False
    from redis.exceptions import RedisError
    try:
        lost = _unknown_to_redis([job.id])
    except RedisError:  # still down: it waits
        return False
    for job_id in lost:
        start(job_id)
    return bool(lost)


def purge_files() -> int:
    """Delete the files of jobs past their time (JOB_RESULT_MINUTES); the rows stay, as a record."""
    expired = db.session.scalars(sa.select(Job).where(Job.file_key.is_not(None), Job.file_expires_at < utcnow())).all()
    directory = Path(current_app.config["JOBS_DIR"])
    for job in expired:
        (directory / job.file_key).unlink(missing_ok=True)
        job.file_key = None
    db.session.commit()
    return len(expired)


def file_path(job: Job) -> Path | None:
    if job.file_key is None or job.file_expires_at is None or job.file_expires_at < utcnow():
        return None
    path = Path(current_app.config["JOBS_DIR"]) / job.file_key
    return path if path.is_file() else None


def mark_worker_process() -> None:
    global _forked_worker
    _forked_worker = True
    os.environ.setdefault("BEATBOOK_JOB_WORKER", "1")
