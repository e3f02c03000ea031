"""One entry as a PDF: what its detail page shows the viewer, less the restricted fields, with the marking
on every page and the disclosure (by, at, purpose, recipient) on the first."""
from __future__ import annotations

from ..access import RESTRICTED_FIELDS, visible_changes
from ..models import (
    AsbIncident, Entry, IntelligenceReport, Patrol, SchoolVisit, User, WelfareCheck,
)
from ..pdf import MarkedPDF
from ..timeutil import format_london, utcnow


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _kind_fields(pdf: MarkedPDF, entry: Entry) -> None:
    if isinstance(entry, Patrol):
        pdf.field("Mode", entry.mode.label)
        pdf.field("Purpose or target", entry.purpose)
        pdf.field("Started", format_london(entry.started_at))
        pdf.field("Ended", format_london(entry.ended_at) if entry.ended_at else "Still on patrol")
        if entry.duration_minutes is not None:
            pdf.field("Duration", f"{entry.duration_minutes // 60} h {entry.duration_minutes % 60:02d} min")
        pdf.field("Notes", entry.notes)
    elif isinstance(entry, AsbIncident):
        pdf.field("NSIR category", entry.nsir_category.label)
        pdf.field("Type", entry.asb_type.label)
        pdf.field("What happened", entry.description)
        pdf.field("Action taken", entry.action_taken)
        pdf.field("Control room reference", entry.control_room_ref)
        pdf.field("Victim risk", entry.victim_risk.label if entry.victim_risk else None)
    elif isinstance(entry, SchoolVisit):
        pdf.field("School", f"{entry.school.name} (URN {entry.school.urn})")
        pdf.field("Visit type", entry.visit_type.label)
        pdf.field("Topic", entry.topic)
        pdf.field("Year groups", entry.year_groups)
        pdf.field("Audience", entry.audience_size)
        pdf.field("Follow-ups", entry.follow_ups)
    elif isinstance(entry, WelfareCheck):
        child = entry.child
        if child is not None:
            pdf.field("Child", child.full_name)
            pdf.field("Date of birth", child.born_on.strftime("%d %b %Y") if child.born_on else None)
        pdf.field("SPOC", f"{entry.spoc.display_name} ({entry.spoc.collar_number})")
        pdf.field("Visit type", entry.visit_type.label)
        pdf.field("Seen alone", _yes_no(entry.is_seen_alone))
        pdf.field("Others present", entry.others_present)
        pdf.field("The child's own words", entry.child_words)
        pdf.field("Observations", entry.observations)
        pdf.field("Exploitation indicators", ", ".join(entry.indicator_labels) or "None noted")
        pdf.field("Risk level", entry.risk_level.label)
        pdf.field("Intelligence report raised", _yes_no(entry.is_intelligence_raised))
        pdf.field("MASH referral", f"Yes, ref {entry.mash_reference}" if entry.is_mash_referral else "No")
        pdf.field("Partner informed", _yes_no(entry.is_partner_informed))
        pdf.field("Next visit due", entry.next_visit_on.strftime("%d %b %Y") if entry.next_visit_on else None)
    elif isinstance(entry, IntelligenceReport):
        pdf.field("Grading (3x5x2)", entry.grading)
        pdf.field("Source evaluation", entry.source_evaluation.label)
        pdf.field("Intelligence assessment", entry.assessment.label)
        pdf.field("Handling code", entry.handling_code.label)
        pdf.field("Conditions for sharing", entry.handling_conditions)
        pdf.field("Intelligence", entry.sanitised_text)
        # The source's identity is a restricted field (access.RESTRICTED_FIELDS): never exported, whoever asks.


def _links(pdf: MarkedPDF, entry: Entry) -> None:
    if isinstance(entry, (Patrol, SchoolVisit)):
        return  # their detail pages show no linked records
    if isinstance(entry, WelfareCheck):
        return  # the child is shown above, as on the page
    pdf.heading("People", size=11)
    if not entry.people_links:
        pdf.paragraph("None recorded.")
    for link in entry.people_links:
        pdf.field(link.role.label, link.person.full_name + (f" - {link.note}" if link.note else ""))
    pdf.heading("Vehicles", size=11)
    if not entry.vehicle_links:
        pdf.paragraph("None recorded.")
    for link in entry.vehicle_links:
        pdf.field(link.vehicle.vrm, link.vehicle.description or link.note or "")


def entry_pdf(entry: Entry, *, viewer: User, purpose: str, recipient: str, unicode_font: bool | None = None) -> bytes:
    marking = entry.marking.value
    pdf = MarkedPDF(marking=marking, title=f"Beatbook {entry.kind.label} {entry.id}", unicode_font=unicode_font)
    pdf.add_page()
    pdf.heading(entry.summary, size=15)
    pdf.field("Kind", entry.kind.label)
    pdf.field("Status", entry.status.label)
    pdf.field("Marking", marking)
    pdf.field("Beat", entry.beat.label)
    pdf.field("Occurred", format_london(entry.occurred_at))
    pdf.field("Recorded", f"{format_london(entry.recorded_at)} by {entry.author.display_name} "
                          f"({entry.author.collar_number})")
    pdf.field("Submitted", format_london(entry.submitted_at) if entry.submitted_at else None)
    pdf.field("Where", entry.location_text)
    if entry.has_location:
        accuracy = f" (+/- {entry.accuracy_m:.0f} m)" if entry.accuracy_m is not None else ""
        pdf.field("Location", f"{entry.lat:.5f}, {entry.lon:.5f} - {entry.location_source.label}{accuracy}")

    pdf.heading(entry.kind.label, size=12)
    _kind_fields(pdf, entry)
    _links(pdf, entry)

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
    pdf.paragraph(f"Handle as {marking}. This disclosure is recorded in the Beatbook audit log.", size=9)
    return pdf.render()
