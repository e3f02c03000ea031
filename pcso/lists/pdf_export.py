"""One entry as a PDF: what its detail page shows the viewer, less the restricted fields, with the marking
on every page and the disclosure (by, at, purpose, recipient) on the first."""
from __future__ import annotations

import io

from ..access import RESTRICTED_FIELDS, visible_changes
from ..entries.registry import kind_of
from ..models import Entry, HandlingCode, User
from ..pdf import MarkedPDF
from ..photos.storage import PhotoMissing, photo_bytes

PHOTO_MAX_HEIGHT_MM = 110
from ..timeutil import format_london, utcnow


def _kind_fields(pdf: MarkedPDF, entry: Entry) -> None:
    """The kind's rows, as its page shows them (the registry's detail_rows: never a restricted field)."""
    for section, rows in kind_of(entry.kind).sections(entry):
        if section is not None:
            pdf.heading(section.heading, size=11)
        for row in rows:
            pdf.field(row.label, row.value)


def _links(pdf: MarkedPDF, entry: Entry) -> None:
    """People and vehicles, for the kinds whose page shows them (a welfare check's child is a row above)."""
    if kind_of(entry.kind).people_heading is None:
        return
    pdf.heading(kind_of(entry.kind).people_heading, size=11)
    if not entry.people_links:
        pdf.paragraph("None recorded.")
    for link in entry.people_links:
        pdf.field(link.role.label, link.person.full_name + (f" - {link.note}" if link.note else ""))
    pdf.heading("Vehicles", size=11)
    if not entry.vehicle_links:
        pdf.paragraph("None recorded.")
    for link in entry.vehicle_links:
        pdf.field(link.vehicle.vrm, link.vehicle.summary or link.note or "")


def _photos(pdf: MarkedPDF, entry: Entry) -> None:
    """Each photo, scaled to the page's width and at most PHOTO_MAX_HEIGHT_MM tall, a page of its own when needed."""
    if not entry.photos:
        return
    pdf.heading(f"Photos ({len(entry.photos)})", size=12)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for number, photo in enumerate(entry.photos, 1):
        try:
            data = photo_bytes(photo)
        except PhotoMissing:
            pdf.paragraph(f"Photo {number}: missing from the photo store.")
            continue
        scale = min(width / photo.width, PHOTO_MAX_HEIGHT_MM / photo.height)
        w, h = photo.width * scale, photo.height * scale
        if pdf.will_page_break(h + 8):
            pdf.add_page()
        pdf.image(io.BytesIO(data), x=pdf.l_margin + (width - w) / 2, w=w, h=h)
        pdf.paragraph(f"Photo {number} of {len(entry.photos)}, {photo.width} x {photo.height} px", size=8)


def handling_conditions(entry: Entry) -> str | None:
    """Handling code C: the conditions travel with the report (issue 10), as a line of their own."""
    if getattr(entry, "handling_code", None) == HandlingCode.CONDITIONS:
        return f"Handling code C - share only on these conditions: {entry.handling_conditions}"
    return None


def _amendments(pdf: MarkedPDF, entry: Entry) -> None:
    for made in entry.approved_amendments:
        pdf.field("Amended", f"{format_london(made.decided_at)} by {made.author.display_name}: {made.reason} "
                             f"(approved by {made.decided_by.display_name})")


def entry_pdf(entry: Entry, *, viewer: User, purpose: str, recipient: str, unicode_font: bool | None = None) -> bytes:
    marking = entry.marking.value
    pdf = MarkedPDF(marking=marking, title=f"Beatbook {entry.kind.label} {entry.id}", unicode_font=unicode_font)
    pdf.add_page()
    pdf.heading(entry.summary, size=15)
    conditions = handling_conditions(entry)
    if conditions:
        pdf.heading(conditions, size=11)
    pdf.field("Kind", entry.kind.label)
    pdf.field("Status", entry.status.label)
    pdf.field("Marking", marking)
    pdf.field("Beat", entry.beat.label)
    pdf.field("Occurred", format_london(entry.occurred_at))
    pdf.field("Recorded", f"{format_london(entry.recorded_at)} by {entry.author.display_name} "
                          f"({entry.author.collar_number})")
    pdf.field("Submitted", format_london(entry.submitted_at) if entry.submitted_at else None)
    _amendments(pdf, entry)
    pdf.field("Where", entry.location_text)
    if entry.has_location:
        accuracy = f" (+/- {entry.accuracy_m:.0f} m)" if entry.accuracy_m is not None else ""
        pdf.field("Location", f"{entry.lat:.5f}, {entry.lon:.5f} - {entry.location_source.label}{accuracy}")

    pdf.heading(entry.kind.label, size=12)
    _kind_fields(pdf, entry)
    _links(pdf, entry)
    _photos(pdf, entry)

    if entry.reviews:
        pdf.heading("Review decisions", size=12)
        for review in entry.reviews:
            pdf.field(format_london(review.at), f"{review.decision.label} by {review.reviewer.display_name} "
                                                f"({review.reviewer.collar_number})"
                                                + (f": {review.comment}" if review.comment else ""))

    pdf.heading("History", size=12)
    for revision in entry.revisions:
        changed = [name for name in visible_changes(viewer, entry, revision.changes) if name not in RESTRICTED_FIELDS]
        detail = f"{revision.action.capitalize()} by {revision.actor.display_name}"
        if revision.action != "created" and changed:
            detail += " - changed " + ", ".join(name.replace("_", " ") for name in changed)
        pdf.field(format_london(revision.at), detail)
    if not entry.revisions:
        pdf.paragraph("No changes recorded.")

    pdf.heading("This export", size=12)
    pdf.field("Exported", format_london(utcnow()))
    pdf.field("Exported by", f"{viewer.display_name} ({viewer.collar_number})")
    pdf.field("Purpose", purpose)
    pdf.field("Recipient", recipient)
    if conditions:
        pdf.paragraph(conditions, size=9)
    pdf.paragraph(f"Handle as {marking}. This disclosure is recorded in the Beatbook audit log.", size=9)
    return pdf.render()
