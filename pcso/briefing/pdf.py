"""The shift briefing as a printable PDF: the same content as the page, marked on every page."""
from __future__ import annotations

from ..models import HandlingCode
from ..pdf import MarkedPDF
from ..timeutil import format_london
from .services import Briefing


def conditions_of(entry) -> str | None:
    """Handling code C: the conditions travel with the report wherever it is printed."""
    if getattr(entry, "handling_code", None) == HandlingCode.CONDITIONS:
        return f"Handling code C - share only on these conditions: {entry.handling_conditions}"
    return None


def patrol_plans(doc: MarkedPDF, b: Briefing) -> None:
    """The page's "Suggested patrols" (pcso/patrol_plans): place, window, next start and the reason of each,
    with the handling code C conditions of any intelligence it counts."""
    doc.heading("Suggested patrols")
    if not b.patrol_plans:
        doc.paragraph("Nothing clusters enough in the last 28 days to suggest a place.")
    names = {beat.id: beat.name for beat in b.beats}
    for s in b.patrol_plans:
        if s.is_now:
            start = f"now, until {format_london(s.next_end, '%H:%M')}"
        else:
            start = format_london(s.next_start, "%a %d %b %H:%M")
        where = f"{s.lat:.4f}, {s.lon:.4f}, about {int(s.radius_m)} m around"
        lines = [s.reason, f"When: {s.when} (next: {start})", f"Where: {where}"]
        lines += [f"Handling code C - share only on these conditions: {text}"
                  for text in b.plan_conditions.get(s.key, [])]
        beat = f" ({names[s.beat_id]})" if len(b.beats) > 1 and s.beat_id in names else ""
        doc.field(f"{s.rank}. Near {s.place}{beat}", "\n".join(lines))


def briefing_pdf(b: Briefing, *, purpose: str | None = None, recipient: str | None = None,
                 unicode_font: bool | None = None) -> bytes:
    beats = ", ".join(beat.name for beat in b.beats) or "no beats assigned"
    doc = MarkedPDF(marking=b.marking.value, title=f"Shift briefing: {beats}", unicode_font=unicode_font)
    doc.alias_nb_pages()
    doc.add_page()
    doc.heading("Shift briefing", size=16)
    doc.field("Officer", f"{b.user.display_name} ({b.user.collar_number})")
    doc.field("Beats", beats)
    doc.field("Since", f"{format_london(b.since)}: {b.since_how}")
    doc.field("Printed", format_london(b.now))
    if purpose:
        doc.field("Purpose", purpose)
        doc.field("Recipient", recipient)

    if b.returned:
        doc.heading(f"Returned to you for correction ({len(b.returned)})")
        for entry in b.returned:
            review = entry.last_return
            doc.field(f"{entry.kind.label} #{entry.id}", entry.summary + (f"\n{review.reviewer.display_name}: "
                                                                            f"{review.comment}" if review else ""))

    doc.heading("Beat priorities")
    if not b.priorities:
        doc.paragraph("No open priorities.")
    for p in b.priorities:
        action = f"\nAction: {p.action}" + (f" ({p.action_date:%d %b %Y})" if p.action_date else "") if p.action else ""
        doc.field(f"{p.beat.name}, {p.issue_date:%d %b %Y}", p.issue + action)

    doc.heading("Hotspots to target (ASB, last 7 days)")
    if not b.hotspots:
        doc.paragraph("No clusters of ASB in the last 7 days.")
    for h in b.hotspots:
        doc.field(f"Near {h.postcode}" if h.postcode else f"{h.lat:.4f}, {h.lon:.4f}", f"{h.count} incidents ({h.trend}); {h.before} in the 28 days before")

    patrol_plans(doc, b)

    doc.heading("Welfare visits due")
    if not b.welfare_due:
        doc.paragraph("No welfare visits you can see are due this week.")
    for item in b.welfare_due:
        doc.field(item.child.full_name, f"Next visit {item.next_visit_on:%a %d %b}" + (" - OVERDUE" if item.overdue else "")
                  + f"; SPOC {item.check.spoc.display_name}")

    doc.heading(f"New on your beats ({b.new_total})")
    if not b.new_entries:
        doc.paragraph("Nothing new from colleagues since your last shift.")
    for entry in b.new_entries:
        doc.field(f"{format_london(entry.occurred_at)}", f"{entry.kind.label} on {entry.beat.name}: {entry.summary}"
                  f" ({entry.author.display_name})")

    doc.heading(f"Intelligence ({len(b.intelligence)})")
    if not b.intelligence:
        doc.paragraph("No new intelligence you can see.")
    for entry in b.intelligence:
        conditions = conditions_of(entry)
        doc.field(f"{format_london(entry.occurred_at)}", f"{entry.grading}: {entry.summary}"
                  + (f"\n{conditions}" if conditions else ""))

    doc.heading("Open actions")
    actions = []
    if b.open_patrol:
        actions.append(f"Your patrol is still running (since {format_london(b.open_patrol.started_at)})")
    actions += [f"Correct and resubmit: {entry.summary}" for entry in b.returned]
    actions += [f"Finish and submit your draft: {entry.summary}" for entry in b.drafts]
    actions += [f"Follow up at {visit.school.name}: {visit.follow_ups}" for visit in b.follow_ups]
    actions += [f"Priority action: {p.action}" + (f" (by {p.action_date:%d %b})" if p.action_date else "")
                for p in b.priorities if p.action and (p.action_date is None or p.action_date >= b.today)]
    doc.paragraph("\n".join(f"- {action}" for action in actions) or "Nothing outstanding.")
    if purpose:
        doc.paragraph(f"Handle as {b.marking.value}. This disclosure is recorded in the Beatbook audit log.", size=9)
    return doc.render()
