"""The test factories themselves: a made-up collar number never meets one a test chose (the browser tests' live
database lasts the whole session, and the count of users made passed PC7201, chosen by a browser test)."""
from __future__ import annotations

import itertools

from pcso.extensions import db
from pcso.models import Role
from tests import factories


def test_a_collar_number_a_test_chose_is_skipped(app, monkeypatch):
    factories.user(Role.PCSO, collar="PC7201")
    monkeypatch.setattr(factories, "_numbers", itertools.count(7200))
    made = [factories.user(Role.PCSO).collar_number for _ in range(3)]
    db.session.commit()
    assert made == ["PC7200", "PC7202", "PC7203"]
