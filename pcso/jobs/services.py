"""What the jobs pages ask of the jobs: the user's own (a job someone else asked for is not there for them),
its status for the page's script, and the download's record."""
from __future__ import annotations

import sqlalchemy as sa

from .. import audit
from ..extensions import db
from ..models import AuditAction, Job, JobState, User
from .runner import file_path, is_stale, reap, resend_if_lost

LISTED = 50


def own_job(job_id: str, user: User) -> Job | None:
    """The user's job, or None (not theirs, or no such job). A job whose worker died is started again (or
    marked failed) before it is shown; one asked for while Redis was down is sent once Redis is back."""
    job = db.session.get(Job, job_id) if len(job_id) <= 36 else None
    if job is None or job.requested_by_id != user.id:
        return None
    if is_stale(job):
        reap()
        db.session.refresh(job)
    elif resend_if_lost(job):  # asked for while Redis was down: sent now that it answers
        db.session.refresh(job)
    return job


def own_jobs(user: User) -> list[Job]:
    return list(db.session.scalars(sa.select(Job).where(Job.requested_by_id == user.id)
                                   .order_by(Job.created_at.desc()).limit(LISTED)))


def job_status(job: Job) -> dict:
    return {"id": job.id, "state": job.state.value, "label": job.state.label, "done": job.done, "total": job.total,
            "percent": job.percent, "message": job.message,
            "error": job.error if job.state == JobState.FAILED else None,
            "file": bool(job.state == JobState.DONE and file_path(job) is not None), "finished": job.state.finished}


def record_download(job: Job, *, actor: User) -> None:
    """The disclosure was recorded by the job before it wrote the file; this records the file's collection."""
    audit.record(AuditAction.VIEW, actor=actor, object_type="job", kind=job.kind, job=job.id,
                 audit_event=(job.result or {}).get("audit_event"), context=audit.endpoint())
