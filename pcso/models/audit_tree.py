"""The Merkle log over the audit events (pcso/auditlog/): its leaves and its signed checkpoints.

Both tables are append-only, like audit_event (migration 0011's triggers). A leaf is one sealed event, in event id
order: its position in the tree and the RFC 6962 leaf hash of the event's canonical bytes as they were when sealed.
A checkpoint is a signed tree head: tree size, root, the frontier that lets the next seal carry on without
re-reading old leaves, when and with which key it was signed.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class AuditLeaf(db.Model):
    __tablename__ = "audit_leaf"

    leaf_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(unique=True)  # no foreign key: a leaf outlives its event's row
    leaf_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))


class AuditCheckpoint(db.Model):
    __tablename__ = "audit_checkpoint"

    tree_size: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(sa.LargeBinary)
    last_event_id: Mapped[int]
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(sa.String(16))
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary(64))
