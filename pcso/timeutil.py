"""Time: stored as timezone-aware UTC, shown in Europe/London."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_london(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LONDON)


def from_london(local: datetime) -> datetime:
    """A naive wall-clock time typed in London -> aware UTC."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=LONDON)
    return local.astimezone(timezone.utc)


def london_today() -> date:
    """Today's date on a London wall clock."""
    return to_london(utcnow()).date()


def london_day_start(day: date) -> datetime:
    """The UTC instant a London day starts (midnight, whatever the clocks did)."""
    return from_london(datetime.combine(day, time()))


def format_london(value: datetime | None, fmt: str = "%a %d %b %Y %H:%M") -> str:
    return "" if value is None else to_london(value).strftime(fmt)


def age_on(born_on: date, on: date) -> int:
    return on.year - born_on.year - ((on.month, on.day) < (born_on.month, born_on.day))
