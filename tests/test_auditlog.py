"""The tamper-evident audit log: append-only tables, the RFC 6962 tree, sealing, checkpoints, witness, verify.

Tampering is done the way an attacker holding the database owner's rights would do it: behind the app's back, with
the one maintenance path (protection.maintenance) that the test teardown also uses. Every test runs on SQLite and,
with TEST_DATABASE_URL, on PostgreSQL.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pcso import audit
from pcso.auditlog import keys, merkle, protection
from pcso.auditlog.events import EVENTS, canonical_time, hash_row, rows_after
from pcso.auditlog.sealing import ADVISORY_LOCK, CHECKPOINTS, LEAVES, seal
from pcso.auditlog.verify import verify
from pcso.database import reads_only, wants_write_lock
from pcso.extensions import db
from pcso.models import AuditAction, AuditEvent
from pcso.timeutil import utcnow
from tests import factories
from tests.conftest import make_app

pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def signing(app, tmp_path, monkeypatch):
    """A signing key of this test's own, and no sealing lag (the lag has its own test)."""
    folder = tmp_path / "audit-keys"
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY_DIR", str(folder))
    monkeypatch.setitem(app.config, "AUDIT_SEAL_LAG_SECONDS", 0)
    return keys.make_key(folder, stamp="20261203T000000000000Z")


def make_events(count: int, *, step: int = 2, actor=None) -> list[int]:
    """`count` events with ids `step` apart (room to insert between them), above any id already used."""
    start = (db.session.execute(sa.select(sa.func.max(AuditEvent.id))).scalar() or 0) + 100
    ids = [start + step * i for i in range(count)]
    base = utcnow() - timedelta(hours=1)
    for number, event_id in enumerate(ids):
        db.session.add(AuditEvent(id=event_id, at=base + timedelta(seconds=number), actor_id=actor.id if actor else None,
                                  action=[AuditAction.VIEW, AuditAction.SEARCH, AuditAction.UPDATE][number % 3],
                                  object_type="entry", object_id=number + 1,
                                  details={"fields": ["summary"], "n": number, "note": f"é{number}"}))
    db.session.commit()
    _catch_up_sequence()
    return ids


def _catch_up_sequence() -> None:
    if db.engine.dialect.name == "postgresql":  # explicit ids do not move the sequence: audit.record must go above
        db.session.execute(sa.text("SELECT setval('audit_event_id_seq', (SELECT max(id) FROM audit_event))"))
        db.session.commit()


def behind_the_apps_back(*statements) -> None:
    """Run Core statements as the database owner would: through the maintenance path, in one transaction."""
    db.session.remove()
    with db.engine.begin() as conn, protection.maintenance(conn):
        for statement in statements:
            conn.execute(statement)


def cli(app, *args):
    db.session.remove()
    return app.test_cli_runner().invoke(args=list(args))


def event_row(event_id: int) -> dict:
    row = db.session.execute(sa.select(EVENTS).where(EVENTS.c.id == event_id)).mappings().one()
    db.session.rollback()
    return dict(row)


# --- Append-only -----------------------------------------------------------------------------------


def test_the_audit_tables_refuse_update_and_delete(app, signing):
    user = factories.user()
    event = audit.record(AuditAction.VIEW, actor=user, object_type="entry", object_id=7, rows=1)
    db.session.commit()
    assert seal().sealed >= 1
    statements = [
        EVENTS.update().where(EVENTS.c.id == event.id).values(details={"rows": 0}),
        EVENTS.delete().where(EVENTS.c.id == event.id),
        LEAVES.update().values(leaf_hash=b"\0" * 32),
        LEAVES.delete(),
        CHECKPOINTS.update().values(key_id="attacker"),
        CHECKPOINTS.delete(),
    ]
    for statement in statements:
        db.session.remove()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(statement)
    db.session.remove()
    assert event_row(event.id)["details"] == {"rows": 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LEAVES)) >= 1
    # the ORM's own path is refused too
    stored = db.session.get(AuditEvent, event.id)
    stored.details = {"rows": 99}
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert verify().clean


def test_emptying_a_table_at_once_is_refused_too(app, signing):
    """PostgreSQL: TRUNCATE (row triggers do not fire on it). SQLite: a DELETE without WHERE (its "truncate
    optimisation" skips row-by-row deletion, and so row triggers, unless there are triggers)."""
    audit.record(AuditAction.VIEW, actor=None, object_type="entry", object_id=1)
    db.session.commit()
    seal()  # a row in each of the three tables
    db.session.remove()
    postgres = db.engine.dialect.name == "postgresql"
    for table in protection.TABLES:
        with pytest.raises(sa.exc.DBAPIError, match="append-only: (TRUNCATE|DELETE) refused"):
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {table}" if postgres else f"DELETE FROM {table}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EVENTS)) >= 1


def test_the_app_role_may_insert_and_select_audit_events_and_nothing_else(app):
    """The grants docs/DEPLOY.md and migration 0011 give: INSERT and SELECT only (PostgreSQL)."""
    db.session.remove()
    if db.engine.dialect.name != "postgresql":
        with db.engine.begin() as conn:
            assert protection.grant_app_role(conn, "beatbook_app") is False
        return
    role = f"bb_test_app_{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as conn:
        assert protection.grant_app_role(conn, role) is False  # no such role yet: harmless, nothing done
        conn.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")  # as docs/DEPLOY.md sets the app role up
        assert protection.grant_app_role(conn, role) is True
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
            new_id = conn.execute(EVENTS.insert().values(at=utcnow(), action="view", object_type="entry",
                                                         object_id=1, details={}).returning(EVENTS.c.id)).scalar()
            assert conn.execute(sa.select(EVENTS.c.id).where(EVENTS.c.id == new_id)).scalar() == new_id
        for sql in (f"UPDATE audit_event SET details = '{{}}' WHERE id = {new_id}",
                    f"DELETE FROM audit_event WHERE id = {new_id}", "TRUNCATE audit_event",
                    "UPDATE audit_checkpoint SET key_id = 'x'", "DELETE FROM audit_leaf"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
                    conn.exec_driver_sql(f"SET LOCAL {protection.MAINTENANCE_SETTING} = 'on'")  # no help to it
                    conn.exec_driver_sql(sql)
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


def test_the_maintenance_path_lasts_one_transaction(app):
    event = audit.record(AuditAction.VIEW, actor=None, object_type="entry", object_id=1)
    db.session.commit()
    behind_the_apps_back(EVENTS.update().where(EVENTS.c.id == event.id).values(object_id=2))
    assert event_row(event.id)["object_id"] == 2
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):  # the triggers are back
        with db.engine.begin() as conn:
            conn.execute(EVENTS.update().where(EVENTS.c.id == event.id).values(object_id=3))


# --- The tree --------------------------------------------------------------------------------------

# RFC 6962 test vectors as published by transparency-dev/merkle (testonly/constants.go, Apache-2.0; the same as
# google/certificate-transparency's): leaf inputs, the root of every tree size 0..8, and each size's compact range.
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_COMPACT_7 = ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",  # nh[2][0]
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",  # nh[1][2]
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"]  # nh[0][6]


def test_merkle_roots_match_the_published_rfc6962_vectors():
    leaves = [merkle.leaf_hash(data) for data in CT_LEAVES]
    for size, expected in enumerate(CT_ROOTS):
        assert merkle.root(leaves[:size]).hex() == expected, size
    frontier = merkle.Frontier()
    frontier.extend(leaves[:7])
    assert [node.hex() for node in frontier.nodes] == CT_COMPACT_7


def reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written as the RFC says it."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def test_the_frontier_agrees_with_the_recursive_definition_at_every_size():
    leaves = [merkle.leaf_hash(bytes([i, i * 7 % 256])) for i in range(70)]
    frontier = merkle.Frontier()
    for size in range(71):
        assert frontier.root() == reference_mth(leaves[:size]), size
        again = merkle.Frontier.from_bytes(size, frontier.to_bytes())  # as a checkpoint stores it
        assert again.root() == frontier.root()
        if size < 70:
            frontier.append(leaves[size])
    assert merkle.leaf_hash(b"a") != merkle.node_hash(b"", b"a")  # the prefixes keep leaves and nodes apart
    with pytest.raises(ValueError):
        merkle.Frontier.from_bytes(6, b"\0" * 32)  # 6 leaves have two frontier nodes


def test_an_events_leaf_hash_covers_every_field_as_read_back(app):
    event = audit.record(AuditAction.DISCLOSE, actor=None, object_type="entry", object_id=3,
                         recipient="Ms Ø'Brien", rows=2, purpose="court")
    db.session.commit()
    row = db.session.execute(sa.select(*EVENTS.c).where(EVENTS.c.id == event.id)).one()
    at = row.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    expected = (f'{{"action":"disclose","actor_id":null,"at":"{at}","details":{{"purpose":"court","recipient":'
                f'"Ms \\u00d8\'Brien","rows":2}},"id":{event.id},"object_id":3,"object_type":"entry"}}')
    assert hash_row(row) == hashlib.sha256(b"\x00" + expected.encode()).digest()
    assert hash_row(row, as_id=event.id + 1) != hash_row(row)
    (as_sealed,) = [r for r in rows_after(db.session.connection(), event.id - 1, limit=1)]  # the sealer's fast path
    assert hash_row(as_sealed) == hash_row(row)
    assert canonical_time("2026-12-03 09:54:19.000001") == "2026-12-03T09:54:19.000001Z"
    assert canonical_time("2026-12-03T09:54:19") == "unparsed:2026-12-03T09:54:19"  # not the app's: cannot match


# --- Sealing and verifying -------------------------------------------------------------------------


def test_seal_then_verify_is_clean_and_later_events_are_not_yet_sealed(app, signing):
    make_events(12)
    result = cli(app, "audit", "seal")
    assert result.exit_code == 0, result.output
    assert "Sealed" in result.output and "checkpoint" in result.output
    leaves = db.session.execute(sa.select(LEAVES.c.leaf_index, LEAVES.c.event_id).order_by(LEAVES.c.leaf_index)).all()
    event_ids = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    assert [leaf.event_id for leaf in leaves] == event_ids and [leaf.leaf_index for leaf in leaves] == list(
        range(len(event_ids)))
    checkpoint = db.session.execute(sa.select(CHECKPOINTS)).one()
    assert checkpoint.key_id == signing.key_id and checkpoint.tree_size == len(event_ids)
    db.session.rollback()

    result = cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "Audit log intact" in result.output and "Not yet sealed: 0." in result.output

    audit.record(AuditAction.VIEW, actor=None, object_type="entry", object_id=1)
    audit.record(AuditAction.VIEW, actor=None, object_type="entry", object_id=2)
    db.session.commit()
    result = cli(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "Not yet sealed: 2." in result.output

    result = cli(app, "audit", "seal")
    assert result.exit_code == 0 and "Sealed 2 events" in result.output
    assert "Nothing new to seal" in cli(app, "audit", "seal").output
    report = verify()
    assert report.clean and report.unsealed == 0 and len(report.checkpoints) == 2


def test_verify_names_each_edited_deleted_inserted_and_reordered_event(app, signing):
    user = factories.user()
    ids = make_events(20, actor=user)
    assert seal().sealed >= 20
    assert verify().clean
    edited, deleted, swapped = ids[4], ids[9], (ids[14], ids[16])
    inserted = ids[12] + 1  # between two sealed events, with an id of the attacker's choosing
    first, second = event_row(swapped[0]), event_row(swapped[1])
    contents = lambda row: {k: v for k, v in row.items() if k != "id"}  # noqa: E731
    behind_the_apps_back(
        EVENTS.update().where(EVENTS.c.id == edited).values(details={"fields": ["summary"], "n": 999}),
        EVENTS.delete().where(EVENTS.c.id == deleted),
        EVENTS.insert().values(id=inserted, at=utcnow() - timedelta(minutes=30), actor_id=user.id, action="view",
                               object_type="welfare_check", object_id=5, details={}),
        EVENTS.update().where(EVENTS.c.id == swapped[0]).values(**contents(second)),
        EVENTS.update().where(EVENTS.c.id == swapped[1]).values(**contents(first)),
    )
    report = verify()
    assert report.event_ids("edited") == [edited]
    assert report.event_ids("deleted") == [deleted]
    assert report.event_ids("inserted") == [inserted]
    assert report.event_ids("reordered") == sorted(swapped)
    assert {finding.kind for finding in report.findings} == {"edited", "deleted", "inserted", "reordered"}

    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"EDITED: event {edited}:" in result.output
    assert f"DELETED: event {deleted}:" in result.output
    assert f"INSERTED: event {inserted}:" in result.output
    assert f"REORDERED: event {swapped[0]}: holds what was sealed as event {swapped[1]}" in result.output
    assert "Audit log NOT intact: 1 edited, 1 deleted, 1 inserted, 2 reordered." in result.output


def test_an_event_moved_to_another_id_is_reported_as_moved(app, signing):
    ids = make_events(6)
    seal()
    row = event_row(ids[2])
    behind_the_apps_back(EVENTS.delete().where(EVENTS.c.id == ids[2]),
                         EVENTS.insert().values(**{**row, "id": ids[3] + 1}))
    report = verify()
    assert report.event_ids("reordered") == [ids[3] + 1]
    assert "holds what was sealed as event" in str(report.findings[0]) and "its own row is gone" in str(
        report.findings[0])
    assert report.event_ids("deleted") == [] and report.event_ids("inserted") == []


def test_an_edit_that_also_rewrites_the_leaf_is_caught_by_the_signed_root(app, signing):
    ids = make_events(20)
    seal(batch=5)  # checkpoints at 5, 10, 15, 20 (plus any events already there)
    leaf = db.session.execute(sa.select(LEAVES).where(LEAVES.c.event_id == ids[7])).one()
    db.session.rollback()
    behind_the_apps_back(EVENTS.update().where(EVENTS.c.id == ids[7]).values(details={"n": -1}))
    changed = hash_row(db.session.execute(sa.select(*EVENTS.c).where(EVENTS.c.id == ids[7])).one())
    behind_the_apps_back(LEAVES.update().where(LEAVES.c.leaf_index == leaf.leaf_index).values(leaf_hash=changed))
    report = verify()
    assert report.event_ids("edited") == []  # row and leaf agree now...
    messages = [str(finding) for finding in report.findings if finding.kind == "leaves"]
    assert messages, report.findings  # ...but the signed roots from that leaf on do not
    low = leaf.leaf_index - leaf.leaf_index % 5
    assert f"a leaf in positions {low}..{low + 4} was changed" in messages[0]


def test_a_bad_signature_is_caught_and_the_sealer_will_not_build_on_it(app, signing):
    make_events(5)
    seal()
    checkpoint = db.session.execute(sa.select(CHECKPOINTS)).one()
    db.session.rollback()
    forged = bytes([checkpoint.signature[0] ^ 1]) + checkpoint.signature[1:]
    behind_the_apps_back(CHECKPOINTS.update().values(signature=forged))
    result = cli(app, "audit", "verify")
    assert result.exit_code == 1
    assert f"CHECKPOINT: checkpoint {checkpoint.tree_size}: bad signature (key {signing.key_id})" in result.output
    make_events(2)
    refused = cli(app, "audit", "seal")
    assert refused.exit_code == 1 and "Refusing to seal: checkpoint" in refused.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CHECKPOINTS)) == 1


def test_a_checkpoint_signed_by_an_unknown_key_is_reported(app, signing, tmp_path):
    make_events(3)
    other = keys.make_key(tmp_path / "elsewhere", stamp="20261203T000000000000Z")
    seal()
    checkpoint = db.session.execute(sa.select(CHECKPOINTS)).one()
    db.session.rollback()
    signature = keys.sign(other, checkpoint.tree_size, checkpoint.root_hash, checkpoint.signed_at)
    behind_the_apps_back(CHECKPOINTS.update().values(signature=signature, key_id=other.key_id))
    assert [str(f) for f in verify().findings] == [
        f"CHECKPOINT: checkpoint {checkpoint.tree_size}: signed with key {other.key_id}, not in the key folder"]


def _rewrite_history_with_the_key(key, event_id: int) -> None:
    """The strongest attacker short of the witness: owner rights AND the signing key. Edit an event, its leaf, and
    re-sign every checkpoint so the database is consistent with itself again."""
    behind_the_apps_back(EVENTS.update().where(EVENTS.c.id == event_id).values(details={"n": "rewritten"}))
    new_hash = hash_row(db.session.execute(sa.select(*EVENTS.c).where(EVENTS.c.id == event_id)).one())
    db.session.rollback()
    leaves = db.session.execute(sa.select(LEAVES).order_by(LEAVES.c.leaf_index)).all()
    db.session.rollback()
    frontier = merkle.Frontier()
    frontier.extend(new_hash if leaf.event_id == event_id else leaf.leaf_hash for leaf in leaves)
    signed_at = utcnow()
    behind_the_apps_back(
        LEAVES.update().where(LEAVES.c.event_id == event_id).values(leaf_hash=new_hash),
        CHECKPOINTS.delete(),
        CHECKPOINTS.insert().values(tree_size=frontier.size, root_hash=frontier.root(), frontier=frontier.to_bytes(),
                                    last_event_id=leaves[-1].event_id, signed_at=signed_at, key_id=key.key_id,
                                    signature=keys.sign(key, frontier.size, frontier.root(), signed_at)))


def test_a_rewrite_of_the_checkpoint_table_is_caught_by_the_witness_file(app, signing, tmp_path):
    ids = make_events(8)
    seal()
    witness_file = tmp_path / "witness" / "beatbook-checkpoints.jsonl"
    witness_file.parent.mkdir()
    result = cli(app, "audit", "checkpoint", "export", str(witness_file))
    assert result.exit_code == 0 and "appended to" in result.output
    assert "already the last line" in cli(app, "audit", "checkpoint", "export", str(witness_file)).output
    make_events(3)
    seal()
    cli(app, "audit", "checkpoint", "export", str(witness_file))
    lines = witness_file.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["tree_size"] < json.loads(lines[1])["tree_size"]
    result = cli(app, "audit", "verify", "--checkpoint", str(witness_file))
    assert result.exit_code == 0, result.output
    assert "2 checkpoint(s), all agree" in result.output

    _rewrite_history_with_the_key(signing, ids[3])
    assert verify().clean  # the database alone now looks intact: this is what the witness is for
    result = cli(app, "audit", "verify", "--checkpoint", str(witness_file))
    assert result.exit_code == 1
    assert "WITNESS: beatbook-checkpoints.jsonl line 1" in result.output
    assert "the database has no checkpoint of this size (the checkpoint table was rewritten" in result.output
    assert "the stored leaves no longer give the root the witness saw" in result.output


def test_a_witness_line_that_was_tampered_with_is_reported(app, signing, tmp_path):
    make_events(3)
    seal()
    witness_file = tmp_path / "witness.jsonl"
    cli(app, "audit", "checkpoint", "export", str(witness_file))
    line = json.loads(witness_file.read_text())
    line["root_hash"] = "00" * 32
    witness_file.write_text(json.dumps(line) + "\nnot json\n")
    messages = [str(f) for f in verify(witness_file).findings]
    assert any("line 1" in m and "signature does not verify" in m for m in messages), messages
    assert any("line 2 is not a checkpoint" in m for m in messages), messages


def test_two_sealers_at_once_make_one_series_of_checkpoints(app, signing):
    db.session.execute(EVENTS.insert(), [
        {"at": utcnow() - timedelta(minutes=5), "action": "view", "object_type": "entry", "object_id": n,
         "details": {"n": n}} for n in range(3000)])
    db.session.commit()
    db.session.remove()
    start, results, errors = threading.Barrier(2), [], []

    def sealer():
        try:
            with app.app_context():
                start.wait()
                results.append(seal(batch=400))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    total = db.session.scalar(sa.select(sa.func.count()).select_from(EVENTS))
    assert sum(result.sealed for result in results) == total
    leaves = db.session.execute(sa.select(LEAVES.c.leaf_index, LEAVES.c.event_id).order_by(LEAVES.c.leaf_index)).all()
    assert [leaf.leaf_index for leaf in leaves] == list(range(total))
    assert len({leaf.event_id for leaf in leaves}) == total
    sizes = db.session.scalars(sa.select(CHECKPOINTS.c.tree_size).order_by(CHECKPOINTS.c.tree_size)).all()
    assert sizes[-1] == total and sizes == sorted(set(sizes))
    assert len(sizes) == sum(len(result.checkpoints) for result in results)
    db.session.rollback()
    assert verify().clean


def test_a_second_sealer_reports_another_sealer_is_running_and_exits_0(app, signing, database_url):
    make_events(4)
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        other_app = app
        holder = db.engine.connect()
        holder.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK)))
    else:  # the write transaction is the lock: hold it, and give the second sealer a short busy timeout
        other_app = make_app(database_url, SQLITE_BUSY_TIMEOUT_MS=100, AUDIT_SIGNING_KEY_DIR=str(signing.path.parent),
                             AUDIT_SEAL_LAG_SECONDS=0)
        holder = db.engine.connect()
        holder.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE
    try:
        with other_app.app_context():
            result = other_app.test_cli_runner().invoke(args=["audit", "seal"])
            if other_app is not app:
                db.engine.dispose()
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 0, result.output
    assert "Another sealer is running" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CHECKPOINTS)) == 0
    db.session.rollback()
    assert "Sealed" in cli(app, "audit", "seal").output  # the lock released, the next run carries on
    assert verify().clean and verify().unsealed == 0


def test_the_sealer_leaves_recent_events_and_stops_at_the_first_of_them(app, signing, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_SEAL_LAG_SECONDS", 60)
    old, recent = utcnow() - timedelta(minutes=5), utcnow()
    ids = make_events(4)
    behind_the_apps_back(EVENTS.update().where(EVENTS.c.id < ids[0]).values(at=old),
                         EVENTS.update().where(EVENTS.c.id == ids[2]).values(at=recent))
    result = seal()
    sealed = db.session.scalars(sa.select(LEAVES.c.event_id).order_by(LEAVES.c.leaf_index)).all()
    assert ids[0] in sealed and ids[1] in sealed
    assert ids[2] not in sealed and ids[3] not in sealed  # ids[3] is old, but after a recent one: it waits
    assert result.held_back == 2
    db.session.rollback()
    assert verify().clean and verify().unsealed == 2


def test_verify_takes_no_write_lock(app):
    assert wants_write_lock()  # a command otherwise begins IMMEDIATE on SQLite
    with reads_only():
        assert not wants_write_lock()
    assert wants_write_lock()


# --- Keys ------------------------------------------------------------------------------------------


def test_key_init_makes_a_0600_key_once_with_its_public_key_beside_it(app, tmp_path, monkeypatch):
    folder = tmp_path / "keys"
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY_DIR", str(folder))
    result = cli(app, "audit", "key", "init")
    assert result.exit_code == 0 and "made in" in result.output
    (private,) = folder.glob("*.key")
    (public,) = folder.glob("*.pub")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    key = keys.current_key()
    raw = key.private.public_key().public_bytes_raw()
    assert key.key_id == hashlib.sha256(raw).hexdigest()[:16] and key.key_id in result.output
    assert list(keys.public_keys()) == [key.key_id]
    again = cli(app, "audit", "key", "init")
    assert again.exit_code == 0 and "already set up" in again.output
    assert len(list(folder.glob("*.key"))) == 1


def test_seal_without_a_key_says_how_to_make_one(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_SIGNING_KEY_DIR", str(tmp_path / "none"))
    result = cli(app, "audit", "seal")
    assert result.exit_code == 1 and "flask audit key init" in result.output


def test_after_a_key_rotation_old_checkpoints_still_verify_and_new_ones_use_the_new_key(app, signing):
    make_events(3)
    seal()
    result = cli(app, "audit", "key", "rotate")
    assert result.exit_code == 0 and "made current" in result.output
    new_key = keys.current_key()
    assert new_key.key_id != signing.key_id
    make_events(2)
    seal()
    used = db.session.scalars(sa.select(CHECKPOINTS.c.key_id).order_by(CHECKPOINTS.c.tree_size)).all()
    db.session.rollback()
    assert used == [signing.key_id, new_key.key_id]
    assert verify().clean


def test_leaves_taken_off_the_end_are_reported_and_the_sealer_stops(app, signing):
    ids = make_events(5)
    seal()
    behind_the_apps_back(EVENTS.delete().where(EVENTS.c.id == ids[-1]),
                         LEAVES.delete().where(LEAVES.c.event_id == ids[-1]))
    report = verify()
    size = report.checkpoints[-1].tree_size
    assert f"LEAVES: checkpoint {size}: the tree has only {size - 1} leaves (leaves removed)" in map(
        str, report.findings)
    make_events(1)
    refused = cli(app, "audit", "seal")
    assert refused.exit_code == 1 and f"{size - 1} leaves, but the last checkpoint was signed over {size}" in refused.output


def test_details_that_are_not_json_are_reported_not_a_crash(app, signing):
    """Only SQLite would store it (PostgreSQL's json type refuses): an edit, like any other."""
    ids = make_events(3)
    seal()
    if db.engine.dialect.name != "sqlite":
        with pytest.raises(sa.exc.DataError):
            behind_the_apps_back(sa.text(f"UPDATE audit_event SET details = 'not json' WHERE id = {ids[1]}"))
        return
    behind_the_apps_back(sa.text(f"UPDATE audit_event SET details = 'not json' WHERE id = {ids[1]}"))
    assert verify().event_ids("edited") == [ids[1]]
