"""Configuration: safe defaults, overridden from the environment.

Every setting can be set as an environment variable of the same name. Production
(`BEATBOOK_ENV=production`) refuses to start without a real secret key (one that is hard to
guess, not merely long), with insecure cookies, or with per-process rate-limit counters.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .replica import replica_binds
from .strength import secret_key_problem

TRUE = {"1", "true", "yes", "on"}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in TRUE


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if not value else int(value)


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, or a random one kept in instance/ for development."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def private_folder(path: Path) -> None:
    """instance/ holds the secret key, the SQLite database, photos and sealing keys: its owner's only (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o700)


def normalise_database_url(url: str) -> str:
    """Let operators write postgres:// or postgresql:// and still get psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


TOTP_DEFAULT_ROLES = "supervisor,analyst,safeguarding,auditor,admin"


def _names(name: str, default: str) -> tuple[str, ...]:
    """A comma-separated list from the environment ("" is an empty list, unset is the default)."""
    value = os.environ.get(name)
    value = default if value is None else value
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


def _limit_storage() -> str:
    """Rate-limit counters: RATELIMIT_STORAGE_URI, else Redis at REDIS_URL, else the database (pcso/ratelimit.py)."""
    return os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "beatbook-db://"


def production_problems(config: dict) -> list[str]:
    """What stops this configuration from serving in production (BEATBOOK_ENV=production)."""
    problems = []
    if not os.environ.get("SECRET_KEY"):
        problems.append("SECRET_KEY must be set in the environment")
    elif problem := secret_key_problem(config["SECRET_KEY"]):
        problems.append(problem)
    if not config["SESSION_COOKIE_SECURE"]:
        problems.append("SESSION_COOKIE_SECURE must be on")
    if config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        problems.append("RATELIMIT_STORAGE_URI=memory:// counts per process: set REDIS_URL or leave it unset "
                        "(the database)")
    return problems


def load_config(instance_path: Path) -> dict:
    env = os.environ.get("BEATBOOK_ENV", "development")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'beatbook.sqlite'}"
    production = env == "production"
    config = {
        "BEATBOOK_ENV": env,
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # An optional read replica for the search results page (pcso/replica.py, docs/DEPLOY.md); a user who
        # wrote in the last REPLICA_STICKY_SECONDS reads from the primary.
        "SQLALCHEMY_BINDS": replica_binds(normalise_database_url(os.environ.get("DATABASE_REPLICA_URL", ""))),
        "REPLICA_STICKY_SECONDS": _int("REPLICA_STICKY_SECONDS", 60),
        # Logs (pcso/requestlog.py): "json" (one object a line, the default) or "text" for the root logger;
        # the one-line-per-request log is on unless REQUEST_LOG is off.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json").strip().lower(),
        "REQUEST_LOG": _bool("REQUEST_LOG", True),
        "SQLITE_BUSY_TIMEOUT_MS": _int("SQLITE_BUSY_TIMEOUT_MS", 5000),
        # Sessions: short-lived cookie, revocable server-side record behind it.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _int("SESSION_MAX_HOURS", 12),  # from sign-in, however busy (a long shift)
        "SESSION_COOKIE_NAME": "beatbook_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_DURATION": 0,
        "WTF_CSRF_TIME_LIMIT": None,  # the login session bounds the token's life
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 2 * 1024 * 1024),  # every request but photo uploads
        # Photos (pcso/photos/): limits, and where the files go (never the database, never static/).
        "PHOTO_MAX_BYTES": _int("PHOTO_MAX_BYTES", 8 * 1024 * 1024),  # one photo as sent
        "PHOTO_MAX_COUNT": _int("PHOTO_MAX_COUNT", 6),  # per entry
        "PHOTO_MAX_PIXELS": _int("PHOTO_MAX_PIXELS", 50_000_000),  # decompression-bomb guard (a 50 MP camera)
        "PHOTO_MAX_SIDE": _int("PHOTO_MAX_SIDE", 1600),  # longest side kept, as the phone resizes
        "PHOTO_STORAGE": os.environ.get("PHOTO_STORAGE", "local"),  # "local" or "s3"
        "PHOTO_DIR": os.environ.get("PHOTO_DIR", str(instance_path / "photos")),
        "PHOTO_S3_ENDPOINT": os.environ.get("PHOTO_S3_ENDPOINT", ""),  # e.g. http://127.0.0.1:9000 (MinIO)
        "PHOTO_S3_BUCKET": os.environ.get("PHOTO_S3_BUCKET", ""),
        "PHOTO_S3_REGION": os.environ.get("PHOTO_S3_REGION", "us-east-1"),
        "PHOTO_S3_ACCESS_KEY": os.environ.get("PHOTO_S3_ACCESS_KEY", ""),
        "PHOTO_S3_SECRET_KEY": os.environ.get("PHOTO_S3_SECRET_KEY", ""),
        # Rate limits (Flask-Limiter), shared by every worker and server: Redis (REDIS_URL, e.g.
        # redis://127.0.0.1:6379/0) or the database; never memory:// in production.
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "RATELIMIT_STORAGE_URI": _limit_storage(),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "beatbook"),
        "RATELIMIT_LOGIN": os.environ.get("RATELIMIT_LOGIN", "10 per minute"),  # per address
        "RATELIMIT_LOGIN_ACCOUNT": os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "10 per minute"),  # per collar number
        # Behind a reverse proxy: how many hops of X-Forwarded-For/-Proto to believe (0: none, the default).
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # Lockout: this many failed sign-ins (password or code) within the window lock the account, until an
        # admin unlocks it or LOGIN_LOCKOUT_MINUTES pass (0: only an admin unlocks).
        "LOGIN_LOCKOUT_FAILURES": _int("LOGIN_LOCKOUT_FAILURES", 10),
        "LOGIN_LOCKOUT_WINDOW_MINUTES": _int("LOGIN_LOCKOUT_WINDOW_MINUTES", 30),
        "LOGIN_LOCKOUT_MINUTES": _int("LOGIN_LOCKOUT_MINUTES", 30),
        # Second factor (TOTP, RFC 6238): the roles that must use one (others may); the secrets' key.
        "TOTP_REQUIRED_ROLES": _names("TOTP_REQUIRED_ROLES", TOTP_DEFAULT_ROLES),
        "TOTP_ISSUER": os.environ.get("TOTP_ISSUER", "Beatbook"),
        "TOTP_KEY": os.environ.get("TOTP_KEY", ""),  # a Fernet key; unset: derived from SECRET_KEY
        "API_RATELIMIT": os.environ.get("API_RATELIMIT", "300 per minute"),  # per token (else user, else address)
        # An API create whose request died after claiming its Idempotency-Key (pcso/api/idempotency.py): on SQLite
        # the claim is taken over by a retry this long after; keep it above gunicorn's --timeout.
        "IDEMPOTENCY_IN_FLIGHT_SECONDS": _int("IDEMPOTENCY_IN_FLIGHT_SECONDS", 90),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Background jobs (pcso/jobs/): RQ on Redis (JOBS_REDIS_URL, else REDIS_URL) with `flask jobs worker`;
        # without Redis the app runs them in a thread of its own process ("thread"), or in the request ("inline").
        "JOBS_REDIS_URL": os.environ.get("JOBS_REDIS_URL", "") or os.environ.get("REDIS_URL", ""),
        "JOBS_MODE": os.environ.get("JOBS_MODE", ""),  # "" (rq with Redis, else thread), "rq", "thread", "inline"
        "JOBS_DIR": os.environ.get("JOBS_DIR", str(instance_path / "jobs")),
        "JOB_RESULT_MINUTES": _int("JOB_RESULT_MINUTES", 60),  # a job's file is offered this long, then deleted
        "JOB_TIMEOUT_SECONDS": _int("JOB_TIMEOUT_SECONDS", 3600),  # a worker stops a job running longer
        "JOB_STALE_SECONDS": _int("JOB_STALE_SECONDS", 120),  # a running job silent this long has died
        "JOB_MAX_ATTEMPTS": _int("JOB_MAX_ATTEMPTS", 2),  # a job that died is run again, up to this many times
        "EXPORT_JOB_ROWS": _int("EXPORT_JOB_ROWS", 20_000),  # a list export larger than this runs as a job
        # Geography
        "POSTCODES_PATH": os.environ.get("POSTCODES_PATH", ""),
        "GEOCODER": os.environ.get("GEOCODER", ""),  # "" (offline only) or "nominatim"
        "GEOCODER_DOMAIN": os.environ.get("GEOCODER_DOMAIN", ""),
        "GEOCODER_TIMEOUT": float(os.environ.get("GEOCODER_TIMEOUT", "3")),
        "LOCATION_WARN_ACCURACY_M": _int("LOCATION_WARN_ACCURACY_M", 100),
        "LOCATION_MAX_ACCURACY_M": _int("LOCATION_MAX_ACCURACY_M", 2000),
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", ""),  # none: beat outlines only, no network
        "MAP_TILE_ATTRIBUTION": os.environ.get("MAP_TILE_ATTRIBUTION", ""),
        "DISPLAY_TIMEZONE": "Europe/London",
        "FORCE_NAME": os.environ.get("FORCE_NAME", "Trafford (demo)"),
        # Review: a submission waiting longer than this is flagged in the queue.
        "REVIEW_TARGET_HOURS": _int("REVIEW_TARGET_HOURS", 72),
        # An approved OFFICIAL-SENSITIVE export can be downloaded for this long after its approval, and only
        # once unless EXPORT_APPROVAL_SINGLE_USE is off (then as often as needed within the time).
        "EXPORT_APPROVAL_MINUTES": _int("EXPORT_APPROVAL_MINUTES", 60),
        "EXPORT_APPROVAL_SINGLE_USE": _bool("EXPORT_APPROVAL_SINGLE_USE", True),
        # Search: a results page (/search/results/<id>) can be opened again for this long (a shift).
        "SEARCH_RESULTS_TTL_HOURS": _int("SEARCH_RESULTS_TTL_HOURS", 8),
        # The phone: an entry waiting in the outbox longer than this warns its author (docs/SECURITY.md).
        "OUTBOX_WARN_HOURS": _int("OUTBOX_WARN_HOURS", 72),
        # MoPI retention rules (pcso/retention/rules.py): a force's own TOML file; empty for the provisional
        # defaults in pcso/data/retention.toml (docs/RETENTION.md).
        "RETENTION_RULES_FILE": os.environ.get("RETENTION_RULES_FILE", ""),
        # ASB Case Review thresholds and timescales (pcso/case_reviews/rules.py): empty for pcso/data/case_review.toml.
        "CASE_REVIEW_RULES_FILE": os.environ.get("CASE_REVIEW_RULES_FILE", ""),
        # Warning markers officers may set on a person (pcso/models/markers.py): a force's own TOML file; empty for
        # pcso/data/warning_markers.toml.
        "WARNING_MARKERS_FILE": os.environ.get("WARNING_MARKERS_FILE", ""),
        # The sealing keys' folder (default instance/seal_keys/): made by `flask seal-key init`, never here.
        "SEAL_KEY_DIR": os.environ.get("SEAL_KEY_DIR", ""),
        # The audit log's checkpoint signing key (default instance/audit-keys/): `flask audit key init`, never here.
        "AUDIT_SIGNING_KEY_DIR": os.environ.get("AUDIT_SIGNING_KEY_DIR", ""),
        # Sealing (`flask audit seal`): events per transaction, and how old an event must be before it is sealed
        # (unset: 60 s on PostgreSQL, whose ids can commit out of order; 0 on SQLite). docs/DEPLOY.md.
        "AUDIT_SEAL_BATCH": _int("AUDIT_SEAL_BATCH", 10_000),
        "AUDIT_SEAL_LAG_SECONDS": _int("AUDIT_SEAL_LAG_SECONDS", 0) if os.environ.get("AUDIT_SEAL_LAG_SECONDS") else None,
        # Reason for access on OFFICIAL-SENSITIVE entries (pcso/audit_viewer/reasons.py): off, optional, required.
        "ACCESS_REASON": os.environ.get("ACCESS_REASON", "optional").strip().lower(),
    }
    if config["ACCESS_REASON"] not in ("off", "optional", "required"):
        raise RuntimeError("ACCESS_REASON must be off, optional or required")
    if production and (problems := production_problems(config)):
        raise RuntimeError("BEATBOOK_ENV=production refuses to start: " + "; ".join(problems))
    return config
