"""The optional online geocoder: a geopy adapter that makes one short attempt and logs no addresses."""

from __future__ import annotations

import logging
from typing import Any

from geopy.adapters import URLLibAdapter
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim

from .geo import GeoError, finite_number, in_range, short_repr

__all__ = ["Geocoder"]

log = logging.getLogger(__name__)


class Geocoder:
    """Wraps a geopy geocoder: one attempt, short timeout, None on any failure.

    Queries are addresses and therefore sensitive: they are never logged here. (geopy itself
    logs request URLs at DEBUG on the "geopy" logger; keep that logger above DEBUG.)
    """

    def __init__(self, backend: Any, **query_options: Any) -> None:
        self._backend = backend
        self._query_options = query_options

    @classmethod
    def from_config(
        cls,
        name: str | None,
        *,
        user_agent: str,
        timeout: float = 3.0,
        domain: str | None = None,
        scheme: str = "https",
    ) -> Geocoder | None:
        """Build the configured geocoder; None when ``name`` is empty or "none"."""
        key = (name or "").strip().lower()
        if key in ("", "none"):
            return None
        if key != "nominatim":
            raise GeoError(f"Unknown geocoder {short_repr(name)}; use 'none' or 'nominatim'.")
        if not user_agent or not user_agent.strip():
            raise GeoError("The Nominatim geocoder needs a user agent naming this application.")
        options: dict[str, Any] = {
            "user_agent": user_agent,
            "timeout": timeout,
            "scheme": scheme,
            # urllib makes exactly one attempt; geopy's requests adapter would retry.
            "adapter_factory": URLLibAdapter,
        }
        if domain:
            options["domain"] = domain
        return cls(Nominatim(**options), country_codes="gb")

    def geocode(self, query: str) -> tuple[float, float] | None:
        """Return ``(lat, lon)`` for an address, or None if not found or the service fails."""
        if not query or not query.strip():
            return None
        try:
            location = self._backend.geocode(query, exactly_one=True, **self._query_options)
        except (GeopyError, OSError, ValueError) as exc:
            # The exception text can include the request URL, and so the address: log the type only.
            log.warning("Geocoder %s failed: %s", type(self._backend).__name__, type(exc).__name__)
            return None
        if location is None:
            return None
        lat, lon = finite_number(location.latitude), finite_number(location.longitude)
        if lat is None or lon is None or not in_range(lon, lat):
            return None
        return lat, lon
