"""The demo users: one per role, with fixed collar numbers and passwords (printed by the command)."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import click
import sqlalchemy as sa

from .. import audit
from ..auth import totp
from ..beats.services import assign_beats
from ..extensions import db
from ..models import AuditAction, Beat, Entry, Role, User


@dataclass(frozen=True)
class DemoUser:
    collar_number: str
    display_name: str
    role: Role
    password: str
    beat_names: tuple[str, ...] = ()


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("PC1001", "Priya Shah", Role.PCSO, "pcso-demo-pass",
             ("Stretford & Humphrey Park", "Gorse Hill & Cornbrook", "Old Trafford")),
    DemoUser("PC1002", "Tom Whitworth", Role.PCSO, "pcso2-demo-pass",
             ("Altrincham", "Timperley Central", "Broadheath")),
    DemoUser("SG2001", "Claire Holroyd", Role.SUPERVISOR, "sergeant-demo-pass"),  # beats: both PCSOs'
    DemoUser("AN3001", "Marcus Bell", Role.ANALYST, "analyst-demo-pass"),
    DemoUser("SL4001", "Fiona McLean", Role.SAFEGUARDING, "safeguarding-demo-pass"),
    DemoUser("AD5001", "Gareth Lloyd", Role.ADMIN, "admin-demo-pass"),
    DemoUser("PS6001", "Nadia Rahman", Role.AUDITOR, "auditor-demo-pass"),  # professional standards
)
DEMO_COLLARS: tuple[str, ...] = tuple(u.collar_number for u in DEMO_USERS)


def demo_totp_secret(collar_number: str) -> str:
    """A fixed second-factor secret per demo login (printed by seed-demo): demo data, never a real account's."""
    digest = hashlib.sha256(f"beatbook demo second factor {collar_number}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def real_data_counts() -> tuple[int, int]:
    """(users, entries) that are not demo data: non-demo collar numbers and their entries."""
    users = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.collar_number.not_in(DEMO_COLLARS)))
    entries = db.session.scalar(
        sa.select(sa.func.count(Entry.id)).join(User, Entry.author_id == User.id)
        .where(User.collar_number.not_in(DEMO_COLLARS))
    )
    return users or 0, entries or 0


def upsert_users(codes_by_name: dict[str, str], *, wards_file: str) -> dict[str, User]:
    """Create the demo users, or reset them (name, role, password, beats) if they exist."""
    beats = db.session.scalars(sa.select(Beat).where(Beat.code.in_(list(codes_by_name.values()))))
    beats_by_code = {b.code: b for b in beats}
    existing = {u.collar_number: u for u in
                db.session.scalars(sa.select(User).where(User.collar_number.in_(DEMO_COLLARS)))}
    users: dict[str, User] = {}
    for demo in DEMO_USERS:
        user = existing.get(demo.collar_number)
        created = user is None
        if created:
            user = User(collar_number=demo.collar_number)
            db.session.add(user)
        user.display_name, user.role, user.is_enabled = demo.display_name, demo.role, True
        user.set_password(demo.password)
        user.must_change_password = False
        user.failed_logins, user.failed_login_since, user.locked_at, user.lock_reason = 0, None, None, None
        if totp.required_for(user):  # enrolled already, with a secret `seed-demo` prints
            totp.set_secret(user, demo_totp_secret(demo.collar_number), confirmed=True)
        db.session.flush()
        if created:
            audit.record(AuditAction.CREATE, user, actor=None, source="seed-demo")
        else:
            audit.record(AuditAction.UPDATE, user, actor=None, source="seed-demo",
                         fields=["display_name", "role", "password", "is_enabled"])
        users[demo.collar_number] = user
    supervised: list[Beat] = []
    for demo in DEMO_USERS:
        missing = [name for name in demo.beat_names if name not in codes_by_name]
        if missing:
            raise click.ClickException(f"demo beats not found in {wards_file}: {', '.join(missing)}")
        beats = [beats_by_code[codes_by_name[name]] for name in demo.beat_names]
        supervised += beats
        if demo.role != Role.SUPERVISOR:
            assign_beats(users[demo.collar_number], beats, actor=None)
    for demo in DEMO_USERS:
        if demo.role == Role.SUPERVISOR:
            assign_beats(users[demo.collar_number], supervised, actor=None)
    return users
