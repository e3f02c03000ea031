"""Background jobs (pcso/jobs/): long work out of the request, its progress, its file for the requester alone,
idempotent runs, jobs whose worker died, and the RQ queue on a real Redis (TEST_REDIS_URL)."""
from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pcso.extensions import db
from pcso.jobs import registry, runner
from pcso.jobs import runner as jobs
from pcso.models import AuditAction, AuditEvent, Job, JobState, Role
from pcso.timeutil import utcnow
from tests import factories
from tests.factories import signed_in, soup
from tests.job_files import download_from_job, job_page
from tests.test_exports import PURPOSE, RECIPIENT, read_csv

OLD_TRAFFORD = factories.OLD_TRAFFORD

pytestmark = pytest.mark.usefixtures("memoised_hashing")


@pytest.fixture
def sergeant(app):
    person = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], collar="PS7101")
    db.session.commit()
    return person


def disclosures() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.DISCLOSE)
                                   .order_by(AuditEvent.id)))


def only_job() -> Job:
    db.session.expire_all()
    (job,) = db.session.scalars(sa.select(Job)).all()
    return job


def asb_entries(author, count: int) -> list[int]:
    ids = [factories.asb(author, OLD_TRAFFORD, summary=f"Noise report {n}").id for n in range(count)]
    db.session.commit()
    return ids


# --- large exports and the briefing run as jobs ---------------------------------------------------------

def test_a_list_export_over_the_limit_runs_as_a_job_that_records_the_disclosure_it_writes(app, sergeant):
    app.config["EXPORT_JOB_ROWS"] = 2
    try:
        ids = asb_entries(sergeant, 3)
        browser = signed_in(app, sergeant)
        started = browser.post("/lists/entries/export?kind=asb-incidents", data={
            "format": "csv", "purpose": PURPOSE, "recipient": RECIPIENT})
        page = job_page(browser, started)
        assert page.status_code == 200 and page.headers["Cache-Control"].startswith("no-store")
        assert soup(page).select_one("[data-testid=job-state]").text.strip() == "Ready"
        (event,) = disclosures()  # the job's, on record before it wrote a byte
        assert event.actor_id == sergeant.id and event.details["job"] == only_job().id
        assert sorted(event.details["records"]["entry"]["ids"]) == sorted(ids)
        response = download_from_job(browser, started)
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Cache-Control"] == "no-store"
        meta, rows = read_csv(response.get_data())
        assert sorted(int(row["id"]) for row in rows) == sorted(ids)
        assert ["# audit_event", str(event.id)] in meta
        assert only_job().result["rows"] == 3
    finally:
        app.config["EXPORT_JOB_ROWS"] = 20_000


def test_a_list_export_under_the_limit_still_streams_at_once(app, sergeant):
    asb_entries(sergeant, 2)
    response = signed_in(app, sergeant).post("/lists/entries/export?kind=asb-incidents", data={
        "format": "csv", "purpose": PURPOSE, "recipient": RECIPIENT})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_a_jobs_page_status_and_file_are_only_for_the_user_who_asked(app, sergeant):
    browser = signed_in(app, sergeant)
    started = browser.post("/briefing.pdf", data={"purpose": PURPOSE, "recipient": RECIPIENT})
    job = only_job()
    status = browser.get(f"/jobs/{job.id}/status", headers={"Accept": "application/json"})
    assert status.status_code == 200
    assert status.json | {"id": None} == {"id": None, "state": "done", "label": "Ready", "done": 3, "total": 3,
                                          "percent": 100, "message": "Ready", "error": None, "file": True,
                                          "finished": True}
    other = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], collar="PS7102")
    db.session.commit()
    stranger = signed_in(app, other)
    assert stranger.get(f"/jobs/{job.id}").status_code == 404
    assert stranger.get(f"/jobs/{job.id}/status").status_code == 404
    assert stranger.post(f"/jobs/{job.id}/download").status_code == 404
    assert stranger.get("/jobs/not-a-job").status_code == 404
    assert stranger.get("/jobs/" + "x" * 300).status_code == 404
    assert "Briefing PDF" not in soup(stranger.get("/jobs")).text
    assert "Briefing PDF" in soup(browser.get("/jobs")).select_one("[data-testid=jobs]").text
    assert download_from_job(browser, started).get_data().startswith(b"%PDF")
    viewed = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "job")).all()
    assert [(e.action, e.actor_id, e.details["job"]) for e in viewed] == [(AuditAction.VIEW, sergeant.id, job.id)]


def test_a_jobs_file_is_deleted_when_its_time_is_up(app, sergeant):
    browser = signed_in(app, sergeant)
    browser.post("/briefing.pdf", data={"purpose": PURPOSE, "recipient": RECIPIENT})
    job = only_job()
    path = Path(app.config["JOBS_DIR"]) / job.file_key
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    job.file_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert browser.post(f"/jobs/{job.id}/download").status_code == 410
    assert soup(browser.get(f"/jobs/{job.id}")).select_one("[data-testid=job-expired]") is not None
    assert runner.purge_files() == 1
    assert not path.exists() and only_job().file_key is None


# --- running: idempotent, failures, dead workers ----------------------------------------------------------

def test_a_job_done_is_not_run_again(app, sergeant):
    signed_in(app, sergeant).post("/briefing.pdf", data={"purpose": PURPOSE, "recipient": RECIPIENT})
    job_id = only_job().id
    assert len(disclosures()) == 1
    assert jobs.run_job(job_id) == JobState.DONE
    jobs.start(job_id)  # told twice (a queue redelivering it): still one disclosure, one file
    assert len(disclosures()) == 1 and only_job().attempts == 1


def test_a_job_that_fails_says_so_and_leaves_no_file(app, sergeant, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("fpdf2 fell over: Riley Child")  # a message with a name: never shown, never stored

    monkeypatch.setattr(importlib.import_module("pcso.jobs.kinds"), "briefing_pdf", broken)
    browser = signed_in(app, sergeant)
    page = job_page(browser, browser.post("/briefing.pdf", data={"purpose": PURPOSE, "recipient": RECIPIENT}))
    job = only_job()
    assert job.state == JobState.FAILED and job.file_key is None and "Riley" not in job.error
    assert "RuntimeError" in soup(page).select_one("[data-testid=job-error]").text
    assert list(Path(app.config["JOBS_DIR"]).glob(f"{job.id}*")) == []


def test_a_job_whose_worker_died_is_run_again_then_given_up(app, sergeant):
    job = jobs.submit("briefing_pdf", {"purpose": PURPOSE, "recipient": RECIPIENT}, actor=sergeant)
    job.state, job.attempts = JobState.RUNNING, 1  # a worker took it, then was killed
    job.heartbeat_at = utcnow() - timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 5)
    db.session.commit()
    job_id = job.id
    browser = signed_in(app, sergeant)
    page = browser.get(f"/jobs/{job_id}")  # seeing it stale starts it again (inline here)
    assert soup(page).select_one("[data-testid=job-state]").text.strip() == "Ready"
    assert only_job().attempts == 2 and len(disclosures()) == 1

    second = jobs.submit("briefing_pdf", {"purpose": PURPOSE, "recipient": RECIPIENT}, actor=sergeant)
    second.state, second.attempts = JobState.RUNNING, app.config["JOB_MAX_ATTEMPTS"]
    second.heartbeat_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert runner.reap() == (0, 1)
    db.session.expire_all()
    gave_up = db.session.get(Job, second.id)
    assert gave_up.state == JobState.FAILED and "stopped before it finished" in gave_up.error


def test_a_disabled_officers_job_does_not_run(app, sergeant):
    job = jobs.submit("briefing_pdf", {"purpose": PURPOSE, "recipient": RECIPIENT}, actor=sergeant)
    sergeant.is_enabled = False
    db.session.commit()
    assert jobs.run_job(job.id) == JobState.FAILED
    assert disclosures() == []


def test_in_thread_mode_the_page_answers_at_once_and_the_job_finishes_behind_it(app, sergeant):
    app.config["JOBS_MODE"] = "thread"
    try:
        browser = signed_in(app, sergeant)
        started = browser.post("/briefing.pdf", data={"purpose": PURPOSE, "recipient": RECIPIENT})
        assert started.status_code == 303
        job_id = started.headers["Location"].rsplit("/", 1)[1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = browser.get(f"/jobs/{job_id}/status").json["state"]
            db.session.rollback()  # the test's own session (kept across requests here) holds nothing
            if state in ("done", "failed"):
                break
            time.sleep(0.1)
        assert state == "done"
        assert download_from_job(browser, started).get_data().startswith(b"%PDF")
    finally:
        app.config["JOBS_MODE"] = "inline"
        for thread in threading.enumerate():
            if thread.name.startswith("job-"):
                thread.join(10)


# --- terminal ----------------------------------------------------------------------------------------------

def test_the_terminal_runs_a_job_and_shows_its_progress_and_result(app, runner, sergeant):
    asb_entries(sergeant, 3)
    result = runner.invoke(args=["jobs", "run", "search_reindex"])
    assert result.exit_code == 0, result.output
    assert "Rebuild the search index" in result.output and "entries: 3" in result.output
    job = only_job()
    assert job.state == JobState.DONE and job.requested_by_id is None
    assert runner.invoke(args=["jobs", "list"]).output.startswith(job.id)


def test_the_worker_command_needs_redis(app, runner):
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "No Redis" in result.output


# --- RQ on a real Redis --------------------------------------------------------------------------------------

@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set (.ci/run sets it): RQ needs a real Redis")
    return url


def test_on_redis_a_job_waits_on_the_queue_until_a_worker_runs_it(app, sergeant, redis_url):
    from rq import SimpleWorker

    app.config.update(JOBS_MODE="rq", JOBS_REDIS_URL=redis_url)
    try:
        runner.queue().empty()
        browser = signed_in(app, sergeant)
        started = browser.post("/briefing.pdf", data={"purpose": PURPOSE, "recipient": RECIPIENT})
        job = only_job()
        assert job.state == JobState.QUEUED and disclosures() == []
        assert soup(job_page(browser, started)).select_one("[data-testid=job-state]").text.strip() == "Waiting to start"
        db.session.remove()
        assert SimpleWorker([runner.queue()], connection=runner.redis_connection()).work(burst=True)
        assert only_job().state == JobState.DONE and len(disclosures()) == 1
        assert download_from_job(browser, started).get_data().startswith(b"%PDF")
    finally:
        app.config.update(JOBS_MODE="inline", JOBS_REDIS_URL="")


def test_with_redis_down_the_job_waits_and_the_page_still_answers(app, sergeant):
    app.config.update(JOBS_MODE="rq", JOBS_REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens there
    try:
        browser = signed_in(app, sergeant)
        started = browser.post("/briefing.pdf", data={"purpose": PURPOSE, "recipient": RECIPIENT})
        assert started.status_code == 303
        assert only_job().state == JobState.QUEUED
    finally:
        app.config.update(JOBS_MODE="inline", JOBS_REDIS_URL="")
    restarted, _ = runner.reap(queued_after=timedelta(0))  # the worker, once Redis is back, picks it up
    assert restarted == 1 and only_job().state == JobState.DONE


def ended_process() -> str:
    """The owner string of a process of this host that has ended (a work-horse RQ's worker saw killed)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()[:60]}:{child.pid}"


def test_a_job_whose_last_attempt_died_while_running_is_run_again_when_redelivered(app, sergeant):
    """RQ's retry after a killed work-horse redelivers the job while its row still says running."""
    job = jobs.submit("briefing_pdf", {"purpose": PURPOSE, "recipient": RECIPIENT}, actor=sergeant)
    job.state, job.attempts, job.heartbeat_at, job.owner = JobState.RUNNING, 1, utcnow(), ended_process()
    db.session.commit()
    assert runner.perform(job.id) is None and only_job().state == JobState.DONE and only_job().attempts == 2
    assert only_job().owner == f"{socket.gethostname()[:60]}:{os.getpid()}"


@pytest.mark.parametrize("owner", ["this process", "another host"])
def test_a_second_copy_of_a_running_job_waits_for_the_live_attempt(app, sergeant, owner):
    """A job sent twice (Redis had forgotten it, then the first copy turned up) while an attempt is alive: the
    second copy runs nothing; only a silent attempt on another host is run again, by the reaper."""
    job = jobs.submit("briefing_pdf", {"purpose": PURPOSE, "recipient": RECIPIENT}, actor=sergeant)
    job.state, job.attempts, job.heartbeat_at = JobState.RUNNING, 1, utcnow()
    job.owner = f"{socket.gethostname()[:60]}:{os.getpid()}" if owner == "this process" else "worker-2.force:4242"
    db.session.commit()
    assert runner.perform(job.id) is None
    assert (only_job().state, only_job().attempts, len(disclosures())) == (JobState.RUNNING, 1, 0)
    db.session.execute(sa.update(Job).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert runner.reap() == ((0, 0) if owner == "this process" else (1, 0))  # alive here: a long step, not dead
    assert only_job().state == (JobState.RUNNING if owner == "this process" else JobState.DONE)


def test_two_workers_sent_one_job_at_once_run_it_once(app, sergeant, monkeypatch):
    runs = []
    monkeypatch.setitem(registry._KINDS, "counted", registry.Kind("counted", lambda job: runs.append(1), "Counted"))
    job_id = jobs.submit("counted", {}, actor=sergeant).id
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # (SQLite: a job's transaction takes the write lock at its start,
        both_read = threading.Barrier(2, timeout=10)  # so the second worker reads after the first has claimed)
        this_attempt = runner._this_attempt

        def after_both_have_read():  # called as each builds its claim, after reading the job as queued
            both_read.wait()
            return this_attempt()

        monkeypatch.setattr(runner, "_this_attempt", after_both_have_read)
    states = []

    def worker():
        with app.app_context():
            try:
                states.append(runner.run_job(job_id))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(states) == 2 and JobState.DONE in states and set(states) <= {JobState.DONE, JobState.RUNNING}
    assert runs == [1] and only_job().attempts == 1  # the other saw the claim (running) or the end (done)


def test_the_worker_process_runs_queued_jobs_from_redis(tmp_path, redis_url):
    """`flask jobs worker --burst` (make run-worker without --burst): a real worker process that forks per job,
    on its own SQLite file, the app's queue on a real Redis."""
    from tests.conftest import migrated_app

    path = tmp_path / "worker.sqlite"
    jobs_dir = tmp_path / "jobs"
    other = migrated_app(path, JOBS_MODE="rq", JOBS_REDIS_URL=redis_url, JOBS_DIR=str(jobs_dir))
    with other.app_context():
        runner.queue().empty()
        officer = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], collar="PS7103")
        db.session.commit()
        job_id = jobs.launch("briefing_pdf", {"purpose": PURPOSE, "recipient": RECIPIENT}, actor=officer)
        assert db.session.get(Job, job_id).state == JobState.QUEUED
        db.session.remove()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "REDIS_URL": redis_url, "JOBS_DIR": str(jobs_dir),
           "SECRET_KEY": "test-secret-key-of-a-decent-length-0123456789", "BEATBOOK_ENV": "development"}
    env.pop("JOBS_MODE", None)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "jobs", "worker", "--burst"], env=env,
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with other.app_context():
        job = db.session.get(Job, job_id)
        assert job.state == JobState.DONE, (job.state, job.error, done.stderr[-2000:])
        assert (jobs_dir / job.file_key).read_bytes().startswith(b"%PDF")
        db.session.remove()
        db.engine.dispose()


def test_an_import_runs_as_a_job_from_the_terminal_and_a_bad_file_imports_nothing(app, runner, tmp_path):
    from tests.conftest import SCHOOLS

    good = runner.invoke(args=["jobs", "run", "schools_import", "--file", str(SCHOOLS)])
    assert good.exit_code == 0, good.output
    assert "unchanged:" in good.output  # the test schools are loaded already: nothing new, nothing lost
    broken = tmp_path / "schools.csv"
    broken.write_bytes(b"\xff\xfe not a CSV")
    refused = runner.invoke(args=["jobs", "run", "schools_import", "--file", str(broken)])
    assert refused.exit_code == 1 and "not UTF-8" in refused.output
    missing = runner.invoke(args=["jobs", "run", "police_uk_import", "--file", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_a_street_crime_import_job_run_twice_imports_once(app, runner):
    crimes = Path(__file__).parent / "data" / "2025-10-city-of-london-street.csv"
    beats = Path(__file__).parent / "data" / "city_of_london_beats.geojson"
    placed = runner.invoke(args=["jobs", "run", "beats_import", "--file", str(beats), "--param", "district=City"])
    assert placed.exit_code == 0, placed.output
    first = runner.invoke(args=["jobs", "run", "police_uk_import", "--file", str(crimes)])
    assert first.exit_code == 0, first.output
    imported = int(first.output.split("imported: ")[1].split()[0])
    assert imported > 0
    again = runner.invoke(args=["jobs", "run", "police_uk_import", "--file", str(crimes)])
    assert again.exit_code == 0 and "imported: 0" in again.output
