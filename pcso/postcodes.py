"""Offline UK postcode lookup: canonical form and an ONS-style postcode -> centroid book."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .geo import DATA_DIR, GeoError, finite_number, in_range

__all__ = [
    "DEFAULT_POSTCODES_PATH",
    "PostcodeBook",
    "PostcodePoint",
    "load_postcode_book",
    "normalise_postcode",
]

DEFAULT_POSTCODES_PATH = DATA_DIR / "trafford_postcodes.csv"


# BS 7666 shape: outward code A9, A99, AA9, AA99, A9A or AA9A; inward code 9AA without C I K M O V.
_POSTCODE_RE = re.compile(
    r"(?:[A-PR-UWYZ][0-9][0-9]?"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2}"
    r"|GIR0AA"
)


def normalise_postcode(text: str) -> str | None:
    """Return ``text`` as a UK postcode in canonical form ("M15 4AB"), or None if it is not one."""
    if not isinstance(text, str):
        return None
    compact = "".join(text.split()).upper()
    if len(compact) > 7 or not _POSTCODE_RE.fullmatch(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


@dataclass(frozen=True)
class PostcodePoint:
    """A postcode centroid and the ward it lies in."""

    postcode: str
    lat: float
    lon: float
    ward_code: str


class PostcodeBook:
    """An offline postcode -> centroid lookup."""

    def __init__(self, points: Iterable[PostcodePoint], *, skipped: int = 0) -> None:
        self._points: dict[str, PostcodePoint] = {}
        for point in points:
            self._points.setdefault(point.postcode, point)
        self.skipped = skipped

    @classmethod
    def from_csv(cls, path: str | Path) -> PostcodeBook:
        """Load an ONS-style CSV with ``postcode``, ``ward_code``, ``lon`` and ``lat`` columns.

        Rows with an invalid postcode or missing, non-numeric or out-of-range coordinates are
        skipped and counted in ``skipped``.
        """
        points: list[PostcodePoint] = []
        skipped = 0
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"postcode", "ward_code", "lon", "lat"} - set(reader.fieldnames or ())
            if missing:
                raise GeoError(
                    f"{Path(path).name} is missing the column(s) {', '.join(sorted(missing))}; "
                    f"it has: {', '.join(reader.fieldnames or ()) or 'no header'}"
                )
            for row in reader:
                postcode = normalise_postcode(row["postcode"] or "")
                lat, lon = finite_number(row["lat"]), finite_number(row["lon"])
                if postcode is None or lat is None or lon is None or not in_range(lon, lat):
                    skipped += 1
                    continue
                points.append(PostcodePoint(postcode, lat, lon, (row["ward_code"] or "").strip()))
        return cls(points, skipped=skipped)

    def lookup(self, text: str) -> PostcodePoint | None:
        """Return the point for a postcode typed in any spacing or case, or None."""
        postcode = normalise_postcode(text)
        return None if postcode is None else self._points.get(postcode)

    def __len__(self) -> int:
        return len(self._points)

    def __iter__(self) -> Iterator[PostcodePoint]:
        return iter(self._points.values())


@lru_cache(maxsize=4)
def load_postcode_book(path: str | Path = DEFAULT_POSTCODES_PATH) -> PostcodeBook:
    """Load a postcode book once per path and keep it for the life of the process."""
    return PostcodeBook.from_csv(path)
