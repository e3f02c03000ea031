"""Reason for access: why an officer opens an OFFICIAL-SENSITIVE entry, recorded with the view.

ACCESS_REASON (config) is "off", "optional" (the default) or "required". When it is not off, an officer opening
a sensitive entry (welfare checks; intelligence and incidents marked OFFICIAL-SENSITIVE) that they neither wrote
nor are the SPOC of is asked why: a choice from REASONS, and a few words if they like (at most NOTE_MAX
characters).
- "optional": the record is shown (and its view recorded, without a reason) with a small folded form at the
  top, "Why did you open this record?"; answering records the view again, with the reason.
- "required": a question page in its place, showing nothing of the record but its kind, number and marking,
  until a reason is given.

The answer is the VIEW event's details (reason=<code>, note=<text>): the POST that gives it records the view,
and the page it redirects to (within SHOWN_WITHIN seconds) does not record a second. The choice is then
remembered in the login session for that record (at most REMEMBERED records; signing out forgets them), so
reloads are not asked again and their views carry reason=<code> and reason_event=<the event with the note>.
The note never goes into the session cookie, only the code and an event id.

The API (GET /api/v1/entries/<id>) takes the answer in headers, never the URL: `X-Access-Reason: <code>` and
`X-Access-Reason-Note: <text>` (percent-encoded UTF-8; the same rules as the form). "required" and neither header
nor (for the browser's own session) a reason this login session gave: 428, problem "access-reason-required".
A photo of the entry (/photos/<id>, its thumbnail) is shown to the login session that gave a reason for the entry
(so the entry's page keeps its thumbnails), its view carrying that reason; "required" and none given: 403, the
question page in its place.

The note is text typed about why, perhaps naming people: like a search's terms or a disclosure's recipient it
is the point of the record (the auditor's "and why"), so it is kept, and bounded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from urllib.parse import unquote

from flask import current_app, render_template, session
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, TextAreaField
from wtforms.validators import Length, Optional

from ..models import Entry, SecurityMarking, User

MODES = ("off", "optional", "required")
REASONS = {
    "assigned": "My case, visit or task",
    "supervision": "Supervision or review",
    "safeguarding": "Safeguarding referral or meeting",
    "investigation": "Investigation or intelligence work",
    "briefing": "Briefing or patrol tasking",
    "other": "Other (say why below)",
}
NOTE_MAX = 200
REMEMBERED = 50
SHOWN_WITHIN = 60  # seconds: the redirect after the POST shows the view the POST recorded
KEY, SHOWN_KEY = "access_reasons", "access_reason_shown"
HEADER, NOTE_HEADER = "X-Access-Reason", "X-Access-Reason-Note"


def mode() -> str:
    value = current_app.config.get("ACCESS_REASON", "optional")
    if value not in MODES:
        raise RuntimeError(f"ACCESS_REASON must be one of {', '.join(MODES)}, not {value!r}")
    return value


def applies(entry: Entry, user: User) -> bool:
    """Asked of whoever opens a sensitive entry, but its author and its SPOC (their own record)."""
    if mode() == "off" or entry.marking != SecurityMarking.OFFICIAL_SENSITIVE:
        return False
    return entry.author_id != user.id and getattr(entry, "spoc_id", None) != user.id


class ReasonForm(FlaskForm):
    """Its fields are prefixed (why-reason, why-note): it sits on the entry's page beside other forms."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "why")
        super().__init__(*args, **kwargs)

    reason = RadioField("Why are you opening this record?", choices=list(REASONS.items()), validate_choice=False)
    note = TextAreaField("A few words (optional)", validators=[Optional(), Length(max=NOTE_MAX, message=(
        f"Keep it to {NOTE_MAX} characters"))], render_kw={"rows": 2, "maxlength": NOTE_MAX, "autocomplete": "off"},
        description="e.g. a referral or case reference. Recorded in the audit log with your view.")

    def validate(self, extra_validators=None) -> bool:
        if self.note.data:
            self.note.data = " ".join(self.note.data.split())
        ok = super().validate(extra_validators)
        if self.reason.data not in REASONS:
            self.reason.errors = [*self.reason.errors, "Choose why you are opening this record"]
            return False
        if self.reason.data == "other" and not self.note.data:
            self.note.errors = [*self.note.errors, "Say why in a few words"]
            return False
        return ok


@dataclass(frozen=True)
class Decision:
    ask: bool  # show the question instead of the record ("required")
    record: bool  # record a VIEW now (False: the reason's POST has just recorded it)
    details: dict  # what the VIEW carries


def _remembered() -> dict:
    value = session.get(KEY)
    return value if isinstance(value, dict) else {}


def decide(entry: Entry, user: User) -> Decision:
    """What entries.detail does: ask, or show (recording the view with the reason remembered)."""
    if not applies(entry, user):
        return Decision(False, True, {})
    shown = session.pop(SHOWN_KEY, None)
    if isinstance(shown, list) and len(shown) == 2 and shown[0] == entry.id and time.time() - shown[1] < SHOWN_WITHIN:
        return Decision(False, False, {})
    details = _remembered_details(entry)
    return Decision(True, False, {}) if details is None else Decision(False, True, details)


def _remembered_details(entry: Entry) -> dict | None:
    """The reason this login session gave for the entry, as a view's details; {} none ("optional"); None
    none and one is required. The caller has checked that a reason applies."""
    given = remembered_reason(entry)
    if given is None:
        return None if mode() == "required" else {}
    code, event_id = given
    return {"reason": code, **({"reason_event": event_id} if event_id else {})}


def for_photo(entry: Entry, user: User) -> dict | None:
    """A photo of `entry` (or its thumbnail): the details its view carries, or None: ask first (required)."""
    return _remembered_details(entry) if applies(entry, user) else {}


class ReasonNeeded(Exception):
    """The API read gave no reason where one is required (status 428), or a bad one (422, errors by header)."""

    def __init__(self, status: int, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def for_api(entry: Entry, user: User, headers, *, browser_session: bool) -> dict:
    """The view details of an API read of `entry`: the reason in the headers, else (the browser's session)
    the one remembered; raises ReasonNeeded. The reason is recorded with the view (no second event)."""
    if not applies(entry, user):
        return {}
    code, note = headers.get(HEADER), headers.get(NOTE_HEADER)
    if code is None and note is None:
        details = _remembered_details(entry) if browser_session else ({} if mode() == "optional" else None)
        if details is None:
            raise ReasonNeeded(428, f"This record is OFFICIAL-SENSITIVE: say why you are opening it in the {HEADER} "
                                    f"header (one of {', '.join(REASONS)}), with a few words in {NOTE_HEADER} "
                                    f"if you like (needed for 'other').")
        return details
    try:
        note = unquote(note, errors="strict") if note is not None else None
    except UnicodeDecodeError:
        raise ReasonNeeded(422, "The reason did not validate.",
                           {NOTE_HEADER: ["Percent-encode the note as UTF-8."]}) from None
    form = ReasonForm(formdata=MultiDict({"why-reason": (code or "").strip(), "why-note": note or ""}),
                      meta={"csrf": False})
    if not form.validate():
        errors = {name: field.errors for name, field in ((HEADER, form.reason), (NOTE_HEADER, form.note))
                  if field.errors}
        raise ReasonNeeded(422, "The reason did not validate.", errors)
    return reason_details(form)


def remembered_reason(entry: Entry) -> tuple[str, int] | None:
    given = _remembered().get(str(entry.id))
    return tuple(given) if isinstance(given, list) and len(given) == 2 else None


def question_for(entry: Entry, user: User) -> ReasonForm | None:
    """The folded form on the record's page ("optional"), until this session has answered for it."""
    if mode() != "optional" or not applies(entry, user) or remembered_reason(entry) is not None:
        return None
    form = ReasonForm()
    form.reason.label.text = "Reason"  # under its summary, which already asks the question
    return form


def reason_details(form: ReasonForm) -> dict:
    return {"reason": form.reason.data, **({"note": form.note.data} if form.note.data else {})}


def remember(entry: Entry, code: str, event_id: int | None) -> None:
    """This login session has answered for this record; the next page shown is the view just recorded."""
    remembered = _remembered()
    remembered.pop(str(entry.id), None)
    remembered[str(entry.id)] = [code, event_id]
    while len(remembered) > REMEMBERED:
        remembered.pop(next(iter(remembered)))
    session[KEY] = remembered
    session[SHOWN_KEY] = [entry.id, time.time()]


def reason_label(code: str | None) -> str | None:
    return None if code is None else REASONS.get(code, code)


def render_question(entry: Entry, form: ReasonForm | None = None, status: int = 200):
    """The question in place of the record: nothing of it but its kind, number and marking."""
    return render_template("audit/reason.html", entry=entry, form=form or ReasonForm(), mode=mode(),
                           reasons=REASONS), status
