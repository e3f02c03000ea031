"""Backups of a SQLite database (`flask backup`, `flask restore-backup`); PostgreSQL's are pg_dump's (docs/DEPLOY.md).

SQLite's online backup API copies the database page by page while the app keeps running (readers and writers
carry on; a page written during the copy makes it start that step again), into a new file only its owner may read
(0600, in a 0700 folder): it holds everything the database does. Every copy is checked (`PRAGMA integrity_check`)
before it is reported done, and a restore checks the backup before it overwrites anything.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

SQLITE_PREFIX = "sqlite:///"
PAGES_PER_STEP = 1024  # ~4 MB a step: writers wait at most one step's copying


class BackupError(RuntimeError):
    """What stops a backup or restore; ``str(error)`` is fit to print."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    tables: int


def sqlite_path(url: str) -> Path | None:
    """The file behind a sqlite:/// URL (None: not SQLite, or in memory)."""
    if not url.startswith(SQLITE_PREFIX) or ":memory:" in url:
        return None
    return Path(url[len(SQLITE_PREFIX):].split("?", 1)[0])


def default_target(instance_path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return instance_path / "backups" / f"beatbook-{stamp}.sqlite"


def _private_new_file(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(f"{path} already exists: name a new file") from None
    path.chmod(0o600)  # whatever the umask


def integrity_problems(path: Path) -> list[str]:
    """`PRAGMA integrity_check` of a SQLite file: [] when it is sound."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    conn.close()
    return [] if rows == ["ok"] else rows


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=PAGES_PER_STEP)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _tables(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        count = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    conn.close()
    return count


def backup_sqlite(url: str, target: Path) -> BackupResult:
    """Copy the live database at `url` to the new file `target` (0600) and check the copy."""
    source = sqlite_path(url)
    if source is None:
        raise BackupError("flask backup copies a SQLite database; for PostgreSQL use pg_dump (docs/DEPLOY.md)")
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    _private_new_file(target)
    try:
        _copy(source, target)
        if problems := integrity_problems(target):
            raise BackupError("the copy failed its integrity check: " + "; ".join(problems[:5]))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, _tables(target))


def restore_sqlite(backup: Path, url: str) -> BackupResult:
    """Put the backup `backup` in place of the database at `url` (stop the app servers first)."""
    target = sqlite_path(url)
    if target is None:
        raise BackupError("flask restore-backup restores a SQLite database; for PostgreSQL use pg_restore")
    if not backup.is_file():
        raise BackupError(f"there is no backup at {backup}")
    if problems := integrity_problems(backup):
        raise BackupError("the backup failed its integrity check, nothing was changed: " + "; ".join(problems[:5]))
    if not target.exists():
        _private_new_file(target)
    _copy(backup, target)  # the backup API writes every page of the target under its lock: all or nothing
    if problems := integrity_problems(target):
        raise BackupError("the restored database failed its integrity check: " + "; ".join(problems[:5]))
    return BackupResult(target, target.stat().st_size, _tables(target))


def pg_dump_command(url: str, target: str = "beatbook-$(date -u +%Y%m%dT%H%M%SZ).dump") -> str:
    """The pg_dump command line for the database at `url`, without its password (give that in ~/.pgpass)."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    options = [f"--host={parts.hostname or 'localhost'}", f"--port={parts.port or 5432}"]
    if parts.username:
        options.append(f"--username={parts.username}")
    database = parts.path.lstrip("/") or "beatbook"
    return f"pg_dump --format=custom --no-owner {' '.join(options)} --file={target} {database}"
