"""Where an entry happened and which beat it is on: the device's point, a postcode (offline first) or a pin,
and the beat from the point unless the officer chose one by hand."""
from __future__ import annotations

from flask import current_app

from ..beats.services import is_beat, locate_beat_id
from ..models import Entry, LocationSource
from .data import PlaceInput
from .errors import EntryRejected
from .location import ResolvedLocation, lookup_postcode, parse_point

POINT_SOURCES = ("gps", "map", "school")


def resolve_place(place: PlaceInput) -> ResolvedLocation:
    """Point from the device or the map, else the postcode, else none. Refusals name the `postcode` field,
    where the form shows location problems."""
    if place.lat is not None or place.lon is not None:
        point = parse_point(place.lat, place.lon)
        if point is None:
            raise EntryRejected("postcode", "The location could not be read: use the postcode instead")
        accuracy = place.accuracy_m
        limit = current_app.config["LOCATION_MAX_ACCURACY_M"]
        if accuracy is not None and not 0 <= accuracy <= limit:
            raise EntryRejected("postcode", f"Your location is only accurate to ±{accuracy:,.0f} m. Try again "
                                "outdoors, enter a postcode, or drop a pin on the map.")
        source = place.source if place.source in POINT_SOURCES else "map"
        return ResolvedLocation(point[0], point[1], accuracy, source)
    if place.postcode:
        found = lookup_postcode(place.postcode)
        if found is None:
            raise EntryRejected("postcode", "Postcode not found. Check it, or use your location or the map.")
        return ResolvedLocation(found.lat, found.lon, None, "postcode", found.postcode)
    return ResolvedLocation(None, None, None, "none")


def place_entry(entry: Entry, place: PlaceInput, resolved: ResolvedLocation, fallback=None) -> None:
    """Set the entry's location and beat. `fallback` is the kind's point for an entry given no location."""
    if resolved.lat is None and fallback is not None:
        resolved = ResolvedLocation(fallback[0], fallback[1], None, LocationSource.SCHOOL.value)
    entry.lat, entry.lon, entry.accuracy_m = resolved.lat, resolved.lon, resolved.accuracy_m
    entry.location_source = LocationSource(resolved.source)
    located = locate_beat_id(resolved.lat, resolved.lon) if resolved.lat is not None else None
    chosen = place.beat_id or None
    if chosen is not None and not is_beat(chosen):
        raise EntryRejected("beat_id", "Choose a beat from the list")
    if chosen is None and located is None:
        if resolved.lat is None:
            raise EntryRejected("beat_id", "Give a location, or choose the beat by hand")
        raise EntryRejected("beat_id", "This location is outside every beat: choose the beat by hand")
    entry.located_beat_id = located
    entry.beat_id = chosen or located
    entry.is_beat_overridden = chosen is not None and chosen != located
    entry.location_text = place.location_text or resolved.postcode or None
