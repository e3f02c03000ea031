"""Servers the fault benches may stop, kill and restart: a private Redis, a private PostgreSQL cluster, gunicorn.

Never the shared ones: each is started here on a free loopback port, in a temp dir, and stopped (and its dir
removed) on exit. bench/faults.py and tests/test_faults.py use them.

    with private_redis() as redis_server:          # redis-server --save '' --appendonly no on 127.0.0.1
        redis_server.kill(); redis_server.start()   # the same port again, empty
    with private_postgres() as pg:                  # initdb + pg_ctl as the `postgres` user (initdb refuses root)
        pg.restart("fast")                           # or "immediate": a crash and WAL recovery
    server = Gunicorn(env, workers=4); server.start(); server.kill_worker(); server.kill_master(); server.start()
"""
from __future__ import annotations

import contextlib
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(check, what: str, timeout: float = 30.0, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (from /proc: no psutil)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


class Redis:
    """redis-server on 127.0.0.1:<port>, no persistence: a restart comes back empty (as after a crash)."""

    def __init__(self, tmp: Path):
        self.port, self.tmp, self.process = free_port(), tmp, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.tmp / "redis.log", "ab")  # noqa: SIM115 (the process keeps it)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait(self.answers, "redis-server start", timeout=10)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def keys(self) -> int:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"DBSIZE\r\n")
            return int(sock.recv(64).strip()[1:])

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def private_redis():
    tmp = Path(tempfile.mkdtemp(prefix="beatbook-redis-"))
    server = Redis(tmp)
    try:
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


class Postgres:
    """A PostgreSQL 15 cluster of its own: data and unix socket in a temp dir, 127.0.0.1:<port>, trust auth."""

    def __init__(self, tmp: Path):
        self.tmp, self.port = tmp, free_port()
        self.data, self.log = tmp / "data", tmp / "postgres.log"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/beatbook"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:  # initdb and postgres refuse root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.tmp, user.pw_uid, user.pw_gid)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8", "--locale", "C")
        self.start()
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "beatbook")

    def _options(self) -> str:
        return (f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c max_connections=60 "
                "-c shared_buffers=64MB -c fsync=on")

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", self._options(), "-w",
                  "-t", "60", "start")

    def restart(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", self._options(), "-m",
                  mode, "-w", "-t", "60", "restart")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)


@contextlib.contextmanager
def private_postgres():
    tmp = Path(tempfile.mkdtemp(prefix="beatbook-pg-"))
    server = Postgres(tmp)
    try:
        server.init()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)


class Gunicorn:
    """The app under gunicorn on one loopback port; it can be killed (workers, master) and started again there."""

    def __init__(self, env: dict, workers: int, log: Path, port: int | None = None):
        self.env, self.workers, self.log = env, workers, log
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.orphans: list[int] = []

    def start(self, timeout: float = 60) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 (the process keeps it)
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}", "--timeout", "30",
             "--graceful-timeout", "10", "app:app"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        _wait(lambda: self.process.poll() is not None or self._healthy(), "gunicorn start", timeout=timeout)
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {self.log.read_text(errors='replace')[-2000:]}")
        _wait(lambda: len(self.worker_pids()) >= self.workers, "gunicorn workers", timeout=timeout)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process and self.process.poll() is None else []

    def kill_worker(self) -> int:
        """kill -9 one worker at random (the master forks another); returns its pid."""
        pid = random.choice(self.worker_pids())  # noqa: S311 (a bench's dice)
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_master(self) -> int:
        """kill -9 the master. Its workers see their parent gone, finish the request they hold and exit."""
        self.orphans = self.worker_pids()
        pid = self.process.pid
        os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        return pid

    def wait_orphans(self, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in self.orphans) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self.orphans:  # still there after gunicorn's own timeout: as systemd would, kill them
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.orphans = []

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.wait_orphans(timeout=5)
