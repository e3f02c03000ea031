"""A background job: long work (a large export, the briefing PDF, sealing the audit log...) taken out of the request.

The row is the job's state for every app server and worker: who asked, what for (ids and plain values, never
objects), how far it has got, and the file it made. RQ (Redis) only carries the job's id to a worker; without
Redis the app runs the same job in its own process (pcso/jobs/runner.py).
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow
from .types import UTCDateTime, enum_type
from .user import User


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "Waiting to start", "running": "Working", "done": "Ready", "failed": "Failed"}[self.value]

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED)


class Job(db.Model):
    __tablename__ = "job"
    __table_args__ = (
        sa.Index("ix_job_requested_by_created", "requested_by_id", "created_at"),
        sa.Index("ix_job_state_heartbeat", "state", "heartbeat_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)  # a random UUID, also the RQ job id
    kind: Mapped[str] = mapped_column(sa.String(40))
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))  # None: a command or schedule
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[JobState] = mapped_column(enum_type(JobState), default=JobState.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(sa.String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.String(300))  # the exception's class and a safe message
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # progress or a beat, while running
    owner: Mapped[str | None] = mapped_column(sa.String(80))  # "host:pid" of the attempt running it
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # counts and the like, for the page and CLI
    file_key: Mapped[str | None] = mapped_column(sa.String(80))  # under JOBS_DIR; random, never a user's input
    file_name: Mapped[str | None] = mapped_column(sa.String(120))  # offered to the browser
    file_type: Mapped[str | None] = mapped_column(sa.String(80))
    file_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by: Mapped[User | None] = relationship()

    @property
    def percent(self) -> int | None:
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return None
        return max(0, min(99, int(100 * self.done / self.total)))
