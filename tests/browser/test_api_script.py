"""A client outside the app logs every kind through /api/v1 over HTTP with a token, and a replay is no duplicate."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from pcso.api.tokens import create_token
from pcso.extensions import db
from pcso.models import Entry, Role, TokenScope, User

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "log_every_kind.py"


def test_a_script_logs_every_kind_with_a_token_and_a_replay_makes_no_duplicate(live_server, make_user, in_db):
    officer = make_user(Role.PCSO)

    def token():
        user = db.session.get(User, officer.id)
        return create_token(user, name="script", scope=TokenScope.WRITE, days=7, actor=user)[1]

    secret = in_db(token)
    run = subprocess.run([sys.executable, str(SCRIPT), live_server], env=os.environ | {"BEATBOOK_TOKEN": secret},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count(": 201 ") == 5 and "same entry: True" in run.stdout
    kinds = in_db(lambda: sorted(db.session.scalars(sa.select(Entry.kind).where(Entry.author_id == officer.id))))
    assert kinds == sorted(["patrol", "asb_incident", "school_visit", "welfare_check", "intelligence_report"])
