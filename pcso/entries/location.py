"""Where an entry happened: device location, postcode (offline first), or a pin."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask import current_app

from ..geocoder import Geocoder
from ..postcodes import DEFAULT_POSTCODES_PATH, PostcodePoint, load_postcode_book, normalise_postcode


def parse_point(lat, lon) -> tuple[float, float] | None:
    """Decimal degrees from form or JSON input, or None when missing or nonsense."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        return None
    return lat_f, lon_f


def _geocoder() -> Geocoder | None:
    cache = current_app.extensions.setdefault("beatbook.geocoder", {})
    if "geocoder" not in cache:
        cache["geocoder"] = Geocoder.from_config(
            current_app.config["GEOCODER"] or None,
            user_agent="beatbook",
            timeout=current_app.config["GEOCODER_TIMEOUT"],
            domain=current_app.config["GEOCODER_DOMAIN"] or None,
        )
    return cache["geocoder"]


def lookup_postcode(text: str) -> PostcodePoint | None:
    """The offline ONS postcode file first; then the configured geocoder, if any."""
    postcode = normalise_postcode(text)
    if postcode is None:
        return None
    book = load_postcode_book(current_app.config["POSTCODES_PATH"] or DEFAULT_POSTCODES_PATH)
    found = book.lookup(postcode)
    if found is not None:
        return found
    geocoder = _geocoder()
    if geocoder is None:
        return None
    point = geocoder.geocode(f"{postcode}, United Kingdom")
    return None if point is None else PostcodePoint(postcode=postcode, lat=point[0], lon=point[1], ward_code="")


@dataclass(frozen=True)
class ResolvedLocation:
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    source: str
    postcode: str | None = None
