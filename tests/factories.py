"""Build users and entries directly for tests that are not about the forms."""
from __future__ import annotations

import io
import itertools
import uuid
from datetime import date, datetime, timedelta

import pyotp
import sqlalchemy as sa
from bs4 import BeautifulSoup
from PIL import ExifTags, Image

from pcso.auth import totp
from pcso.entries.errors import EntryRejected
from pcso.entries.pages import form_input, show_errors
from pcso.entries.services import log_entry
from pcso.extensions import db
from pcso.models import (
    AsbIncident, AsbType, Beat, EntryStatus, Link, LinkRole, Location, LocationSource, NsirCategory, Patrol, PatrolMode,
    Person, RiskLevel, Role, School, SchoolVisit, SchoolVisitType, SecurityMarking, User, Vehicle, WelfareCheck,
    WelfareVisitType, name_key, normalise_vrm,
)
from pcso.models import HandlingCode, IntelAssessment, IntelligenceReport, SourceEvaluation
from pcso.photos.services import add_photo
from pcso.timeutil import from_london, to_london, utcnow

PASSWORD = "correct-horse-battery"
# The second-factor secret of every test user whose role needs one (TOTP_REQUIRED_ROLES): enrolled already,
# and the login helpers below answer the code step with it. tests/test_auth_hardening.py tests the steps.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OLD_TRAFFORD = "E05015253"
POINT = {"lat": "53.464903", "lon": "-2.260757"}  # M15 4AD, in Old Trafford
_numbers = itertools.count(1000)


def beat(code: str = "E05015247") -> Beat:
    return db.session.scalar(sa.select(Beat).where(Beat.code == code))


def user(role: Role = Role.PCSO, *, beats=(), collar: str | None = None, name: str | None = None,
         two_step: bool | None = None) -> User:
    """A user; enrolled in two-step sign-in with TOTP_SECRET when the role needs it (or two_step=True)."""
    number = next(_numbers)
    while collar is None and db.session.scalar(  # one test session's count may meet a collar a test chose
            sa.select(User.id).where(User.collar_number == f"{role.value[:2].upper()}{number}")) is not None:
        number = next(_numbers)
    person = User(collar_number=collar or f"{role.value[:2].upper()}{number}",
                  display_name=name or f"{role.label} {number}", role=role)
    person.set_password(PASSWORD)
    if two_step or (two_step is None and totp.required_for(person)):
        totp.set_secret(person, TOTP_SECRET, confirmed=True)
    person.beats = [beat(code) if isinstance(code, str) else code for code in beats]
    db.session.add(person)
    db.session.flush()
    return person


def _common(author: User, beat_code: str, status: EntryStatus, **kw) -> dict:
    b = beat(beat_code)
    return dict(
        author_id=author.id, beat_id=b.id, located_beat_id=b.id, occurred_at=kw.pop("occurred_at", utcnow()),
        lat=(b.min_lat + b.max_lat) / 2, lon=(b.min_lon + b.max_lon) / 2, location_source=LocationSource.MAP,
        summary=kw.pop("summary", "Test entry"), status=status, client_key=str(uuid.uuid4()),
        submitted_at=utcnow() if status == EntryStatus.SUBMITTED else None, **kw,
    )


def patrol(author: User, beat_code="E05015247", status=EntryStatus.SUBMITTED, **kw) -> Patrol:
    entry = Patrol(**_common(author, beat_code, status, **kw), started_at=utcnow() - timedelta(hours=2),
                   ended_at=utcnow() - timedelta(hours=1), mode=PatrolMode.FOOT, purpose="Hotspot patrol")
    db.session.add(entry)
    db.session.flush()
    return entry


def asb(author: User, beat_code="E05015247", status=EntryStatus.SUBMITTED, **kw) -> AsbIncident:
    entry = AsbIncident(**_common(author, beat_code, status, **kw), nsir_category=NsirCategory.NUISANCE,
                        asb_type=AsbType.ROWDY_BEHAVIOUR, description="Youths shouting", victim_risk=RiskLevel.LOW)
    db.session.add(entry)
    db.session.flush()
    return entry


def school_visit(author: User, beat_code="E05015247", status=EntryStatus.SUBMITTED, **kw) -> SchoolVisit:
    school = db.session.scalars(sa.select(School).limit(1)).first()
    entry = SchoolVisit(**_common(author, beat_code, status, **kw), school_id=school.id,
                        visit_type=SchoolVisitType.TALK, topic="Online safety")
    db.session.add(entry)
    db.session.flush()
    return entry


def welfare(author: User, spoc: User | None = None, beat_code="E05015247", status=EntryStatus.SUBMITTED,
            **kw) -> WelfareCheck:
    kw.setdefault("marking", SecurityMarking.OFFICIAL_SENSITIVE)
    child_name = kw.pop("child_name", "Jordan Testchild")
    child = Person(full_name=child_name, name_key=name_key(child_name),
                   born_on=date.today().replace(year=date.today().year - 14))
    entry = WelfareCheck(**_common(author, beat_code, status, **kw), links=[Link(person=child, role=LinkRole.SUBJECT)],
                         spoc_id=(spoc or author).id,
                         visit_type=WelfareVisitType.PLANNED, is_seen_alone=True, risk_level=RiskLevel.MEDIUM,
                         indicators=["new_phone"])
    db.session.add(entry)
    db.session.flush()
    return entry


def intel(author: User, beat_code="E05015247", status=EntryStatus.SUBMITTED, **kw) -> IntelligenceReport:
    """An intelligence report graded 2 / B / P, OFFICIAL-SENSITIVE unless told otherwise."""
    kw.setdefault("marking", SecurityMarking.OFFICIAL_SENSITIVE)
    fields = dict(source_evaluation=SourceEvaluation.UNTESTED, assessment=IntelAssessment.CORROBORATED,
                  handling_code=HandlingCode.PERMITTED, sanitised_text="Red Audi seen dropping off at the precinct",
                  source_details="Shop worker on the precinct, rings on Tuesdays")
    fields.update({name: kw.pop(name) for name in [*fields, "handling_conditions", "raised_from_id"] if name in kw})
    entry = IntelligenceReport(**_common(author, beat_code, status, **kw), **fields)
    db.session.add(entry)
    db.session.flush()
    return entry


def fresh_code(user_id: int) -> str:
    """The current code of TOTP_SECRET, after forgetting the step last used (a test may sign the same user in
    several times within 30 seconds; tests/test_auth_hardening.py checks that a used code is refused)."""
    db.session.execute(sa.update(User).where(User.id == user_id).values(totp_last_step=None))
    db.session.commit()
    return pyotp.TOTP(TOTP_SECRET).now()


def login(client, person: User, password: str = PASSWORD, data: dict | None = None, **kwargs):
    """Sign in through the pages, answering the code step when the user has one (the final response)."""
    response = client.post("/login", data={"collar_number": person.collar_number, "password": password,
                                           **(data or {})}, **kwargs)
    if response.status_code == 302 and response.location.startswith("/login/code"):
        response = client.post("/login/code", data={"code": fresh_code(person.id), **(data or {})}, **kwargs)
    return response


def signed_in(app, person: User):
    """A test client signed in as `person` (its own cookie jar: one client per person)."""
    browser = app.test_client()
    response = login(browser, person)
    assert response.location == "/", f"{person} could not sign in"
    return browser


def soup(response) -> BeautifulSoup:
    """A response's HTML, parsed, to read with CSS selectors."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def london(text: str) -> datetime:
    """An ISO date-time as a London wall clock reads it, as aware UTC."""
    return from_london(datetime.fromisoformat(text))


def asb_form(**extra) -> dict:
    """A complete, valid ASB incident form as the browser would post it (located in Old Trafford)."""
    data = {"client_key": str(uuid.uuid4()), "occurred_at": to_london(utcnow()).strftime("%Y-%m-%dT%H:%M"),
            "summary": "Youths on the tram platform", "marking": "OFFICIAL", **POINT, "accuracy_m": "12",
            "location_source": "gps", "beat_id": "", "nsir_category": "nuisance", "asb_type": "noise",
            "description": "Shouting", "action": "submit"}
    data.update(extra)
    return data


# --- POLE records --------------------------------------------------------------------------------

def person(full_name: str, born_on: date | None = None, **kw) -> Person:
    record = Person(full_name=full_name, name_key=name_key(full_name), born_on=born_on, **kw)
    db.session.add(record)
    db.session.flush()
    return record


def vehicle(vrm: str, **kw) -> Vehicle:
    record = Vehicle(vrm=normalise_vrm(vrm), **kw)
    db.session.add(record)
    db.session.flush()
    return record


def location(address: str, postcode: str | None = None, beat_code: str | None = None, **kw) -> Location:
    record = Location(address=address, postcode=postcode, beat_id=beat(beat_code).id if beat_code else None, **kw)
    db.session.add(record)
    db.session.flush()
    return record


def link(entry, record, role: LinkRole = LinkRole.MENTIONED, **kw) -> Link:
    item = Link(entry_id=entry.id, role=role, **{f"{type(record).__tablename__}_id": record.id}, **kw)
    db.session.add(item)
    db.session.flush()
    return item


# --- posting an entry form without a browser --------------------------------------------------------

def validate_entry_form(app, form_cls, data: dict, **kwargs):
    """(ok, form): the form's field checks, then the kind's and the services' rules, as the page runs them.
    A refusal lands on the form's fields; nothing is kept."""
    author = user(Role.PCSO)
    with app.test_request_context(method="POST", data=data):
        form = form_cls(**kwargs)
        ok = form.validate()
        if ok:
            attempt = db.session.begin_nested()
            try:
                log_entry(form_input(form_cls.KIND, form), actor=author)
            except EntryRejected as error:
                show_errors(form, error)
                ok = False
            finally:
                attempt.rollback()
        return ok, form


GPS_M15_4AD = (53.464903, -2.260757)


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def image_bytes(width: int = 800, height: int = 600, *, fmt: str = "JPEG", gps: tuple[float, float] | None = None,
                taken: str | None = None, orientation: int | None = None, colour=(200, 40, 40), **save) -> bytes:
    """A real image made by Pillow: the left half `colour`, the right half blue (to see orientation), with
    EXIF GPS (decimal degrees), DateTimeOriginal ('2026:12:01 14:02:00') and Orientation when given."""
    image = Image.new("RGB", (width, height), colour)
    image.paste((20, 40, 200), (width // 2, 0, width, height))
    exif = Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if taken:
        exif[ExifTags.IFD.Exif] = {ExifTags.Base.DateTimeOriginal: taken}
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N" if gps[0] >= 0 else "S", ExifTags.GPS.GPSLatitude: _dms(gps[0]),
            ExifTags.GPS.GPSLongitudeRef: "E" if gps[1] >= 0 else "W", ExifTags.GPS.GPSLongitude: _dms(gps[1])}
    out = io.BytesIO()
    if len(exif):
        save["exif"] = exif
    image.save(out, format=fmt, **save)
    return out.getvalue()


def photo(entry, actor: User | None = None, **image):
    """A photo on the entry through the photo service (flushed, not committed)."""
    return add_photo(entry, image_bytes(**image), actor=actor or entry.author)
