"""Exports: exactly the rows the user may see, a disclosure in the audit log, the marking in the file,
no restricted fields, no spreadsheet formulas, streamed without holding SQLite's write lock; PDFs of one entry.

Bulk exports are for supervisors and analysts; an OFFICIAL-SENSITIVE one goes through a second person's approval
first (export_as() below does it as the pages do; tests/test_export_approvals.py tests the approval itself)."""
from __future__ import annotations

import csv
import io
import json
import re
import zlib
from datetime import datetime

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from pcso import audit
from pcso.entries.queries import get_visible_entry
from pcso.extensions import db
from pcso.lists import exports
from pcso.lists.pdf_export import entry_pdf
from pcso.models import (
    AsbIncident, AuditAction, AuditEvent, EntryReview, EntryRevision, EntryStatus, ExportRequest, HandlingCode, LinkRole,
    ReviewDecision, Role, SecurityMarking, User, WelfareCheck,
)
from pcso.pdf import MarkedPDF, latin1_text, unicode_font_paths
from pcso.timeutil import to_london, utcnow
from tests import factories
from tests.factories import london, signed_in

OLD_TRAFFORD = factories.OLD_TRAFFORD
ALTRINCHAM = "E05015239"
PURPOSE = "Evidence pack for the ASB case review, ref 24/117"
RECIPIENT = "J Smith, Trafford Council ASB team"

pytestmark = pytest.mark.usefixtures("memoised_hashing")


def read_csv(body: bytes) -> tuple[list[list[str]], list[dict]]:
    """(the '#' rows, the table as dicts), read as the file documents: UTF-8 with BOM, '#' rows skipped."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    meta = [row for row in rows if row and row[0].startswith("#")]
    table = [row for row in rows if row and not row[0].startswith("#")]
    header, *data = table
    return meta, [dict(zip(header, row, strict=True)) for row in data]


def disclosures() -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == AuditAction.DISCLOSE)
                              .order_by(AuditEvent.id)).all()


def export(browser, query: str = "", fmt: str = "csv", **form):
    data = {"format": fmt, "purpose": PURPOSE, "recipient": RECIPIENT, **form}
    return browser.post(f"/lists/entries/export{'?' + query if query else ''}", data=data)


def export_as(app, person, query: str = "", fmt: str = "csv", **kwargs):
    """A bulk export by `person`, as the pages make it: the file at once when OFFICIAL; when OFFICIAL-SENSITIVE, the
    request, another supervisor's approval, then the requester's download (the file's response)."""
    browser = signed_in(app, person)
    response = export(browser, query, fmt)
    if response.status_code == 302 and response.location.startswith("/exports/"):
        request_id = int(response.location.rsplit("/", 1)[1])
        approver = factories.user(Role.SUPERVISOR)
        db.session.commit()
        decided = signed_in(app, approver).post(f"/exports/{request_id}/decision", data={"decision": "approve"})
        assert decided.location == "/exports", decided.status_code
        response = browser.post(f"/exports/{request_id}/download", **kwargs)
    return response


@pytest.fixture
def sergeant(app):
    """A supervisor: bulk exports are theirs (and analysts')."""
    person = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD], collar="PS4343")
    db.session.commit()
    return person


@pytest.fixture
def world(app):
    """Entries every user sees differently: two beats, several authors, both markings, every kind, a draft,
    a welfare check by someone else, one whose SPOC is the PCSO, and an intelligence report with a source."""
    me = factories.user(Role.PCSO, beats=[OLD_TRAFFORD], collar="PC4242")
    colleague = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    elsewhere = factories.user(Role.PCSO, beats=[ALTRINCHAM])
    made = {
        "asb": factories.asb(colleague, OLD_TRAFFORD, summary="Youths on the tram platform"),
        "asb_mine": factories.asb(me, OLD_TRAFFORD, summary="=HYPERLINK(\"http://evil.example\",\"click\")",
                                  location_text="+44 161 555 0100", occurred_at=london("2026-11-02T10:00")),
        "patrol": factories.patrol(colleague, OLD_TRAFFORD),
        "visit": factories.school_visit(colleague, OLD_TRAFFORD),
        "asb_sensitive": factories.asb(colleague, OLD_TRAFFORD, marking=SecurityMarking.OFFICIAL_SENSITIVE),
        "asb_altrincham": factories.asb(elsewhere, ALTRINCHAM),
        "welfare_other": factories.welfare(colleague, beat_code=OLD_TRAFFORD, child_name="Casey Hiddenchild"),
        "welfare_spoc": factories.welfare(colleague, spoc=me, beat_code=OLD_TRAFFORD, child_name="Riley Spocchild"),
        "intel": factories.intel(colleague, OLD_TRAFFORD, handling_code=HandlingCode.CONDITIONS,
                                 handling_conditions="-Only to the council ASB team"),
        "draft_mine": factories.asb(me, OLD_TRAFFORD, status=EntryStatus.DRAFT),
        "draft_other": factories.asb(colleague, OLD_TRAFFORD, status=EntryStatus.DRAFT),
    }
    db.session.commit()
    return me, {name: entry.id for name, entry in made.items()}


# By hand, from the rules in DOMAIN.md: who may see which of the world's entries (drafts are never listed).
SEEN_BY = {
    Role.PCSO: {"asb", "asb_mine", "patrol", "visit", "welfare_spoc"},  # own beat, OFFICIAL; the check they SPOC
    Role.SUPERVISOR: {"asb", "asb_mine", "patrol", "visit", "asb_sensitive", "asb_altrincham", "welfare_other",
                      "welfare_spoc", "intel"},
    Role.ANALYST: {"asb", "asb_mine", "patrol", "visit", "asb_sensitive", "asb_altrincham", "intel"},
    Role.SAFEGUARDING: {"welfare_other", "welfare_spoc"},
}


@pytest.mark.parametrize("role", [Role.PCSO, Role.SAFEGUARDING])
def test_only_supervisors_and_analysts_export_lists(app, world, role):
    me, _ = world
    person = me if role == Role.PCSO else factories.user(role)
    db.session.commit()
    browser = signed_in(app, person)
    assert browser.get("/lists/entries/export?kind=asb-incidents").status_code == 403
    assert export(browser).status_code == 403
    page = BeautifulSoup(browser.get("/lists/entries").get_data(as_text=True), "html.parser")
    assert page.select_one("[data-testid=result-count]") and not page.select(".list-exports a")  # no button
    assert disclosures() == []


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ANALYST])
def test_csv_export_contains_exactly_the_rows_the_user_may_see_and_leaves_a_disclosure(app, world, role):
    _, ids = world
    person = factories.user(role)
    db.session.commit()
    page = BeautifulSoup(signed_in(app, person).get("/lists/entries").get_data(as_text=True), "html.parser")
    assert len(page.select(".list-exports a")) == 2  # the export buttons are theirs
    response = export_as(app, person)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="beatbook-entries-')
    meta, rows = read_csv(response.get_data())

    expected = {ids[name] for name in SEEN_BY[role]}
    assert [int(row["id"]) for row in rows] != [] and {int(row["id"]) for row in rows} == expected
    assert len(rows) == len(expected)  # no row twice (the outer joins)

    (event,) = disclosures()
    assert event.actor_id == person.id and event.object_type == "entry"
    request_id = event.details["export_request"]
    assert event.details == {"format": "csv", "purpose": PURPOSE, "recipient": RECIPIENT, "filters": {},
                             "count": len(expected), "marking": "OFFICIAL-SENSITIVE", "export_request": request_id,
                             "approved_by": event.details["approved_by"], "context": "lists.download_export_request",
                             "records": {"entry": audit.id_summary(sorted(expected))}}
    marking = "OFFICIAL-SENSITIVE"  # both see sensitive entries: the export was approved by a second person
    assert meta[0] == [f"# {marking}"]  # the marking is the first line of the file...
    assert response.get_data().decode("utf-8-sig").rstrip("\r\n").endswith(f"# {marking}")  # ...and the last
    assert meta[-1] == [f"# {marking}"]
    approver = db.session.get(User, event.details["approved_by"])
    conditions = [["# handling_code_C", exports.conditions_notice(1)]] if "intel" in SEEN_BY[role] else []
    conditions_listed = [["# conditions", str(ids["intel"]), "'-Only to the council ASB team"]] if conditions else []
    assert meta[1:-1] == [
        ["# exported_at", meta[1][1]], ["# exported_by", person.collar_number], ["# purpose", PURPOSE],
        ["# recipient", RECIPIENT], ["# filters", "All entries you may see"], ["# rows", str(len(expected))],
        ["# audit_event", str(event.id)], ["# export_request", str(request_id)],
        ["# approved_by", approver.collar_number], *conditions, *conditions_listed, *conditions]


def test_a_filtered_export_is_the_filtered_list(app, world, sergeant):
    me, ids = world
    browser = signed_in(app, sergeant)
    response = export(browser, "kind=asb-incidents&to=2026-11-02")
    _, rows = read_csv(response.get_data())
    assert [int(row["id"]) for row in rows] == [ids["asb_mine"]]
    (event,) = disclosures()
    assert event.details["filters"] == {"kind": ["asb-incidents"], "to": "2026-11-02"}
    assert event.details["count"] == 1 and event.details["marking"] == "OFFICIAL"


def test_only_official_rows_make_an_official_file(app, world, sergeant):
    _, rows = read_csv(export(signed_in(app, sergeant), "kind=patrols").get_data())
    assert [row["marking"] for row in rows] == ["OFFICIAL"]
    assert disclosures()[0].details["marking"] == "OFFICIAL"


def test_cells_that_would_run_as_formulas_are_neutralised_and_numbers_are_not(app, world, sergeant):
    me, ids = world
    _, rows = read_csv(export(signed_in(app, sergeant), "beat=" + str(factories.beat(OLD_TRAFFORD).id)
                              + "&kind=asb-incidents&to=2026-11-02").get_data())
    row = next(r for r in rows if int(r["id"]) == ids["asb_mine"])
    assert row["summary"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert row["location_text"] == "'+44 161 555 0100"
    assert float(row["lon"]) < 0 and not row["lon"].startswith("'")  # a longitude stays a number
    assert exports.safe_cell("@SUM(A1)") == "'@SUM(A1)" and exports.safe_cell("-1") == "'-1"
    assert exports.safe_cell("Plain text") == "Plain text" and exports.safe_cell(-2.26) == -2.26


def test_restricted_fields_and_welfare_details_never_leave(app, world):
    _, ids = world
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    body = export_as(app, supervisor).get_data().decode("utf-8-sig")
    assert "Shop worker on the precinct" not in body  # the intelligence source, even for a supervisor
    assert "Casey Hiddenchild" not in body and "Riley Spocchild" not in body  # no child's name (s.37)
    _, rows = read_csv(body.encode())
    assert "source_details" not in rows[0]
    intel = next(r for r in rows if int(r["id"]) == ids["intel"])
    assert intel["intel_grading"] == "2 / B / C"
    assert intel["intel_handling_conditions"] == "'-Only to the council ASB team"
    welfare = next(r for r in rows if int(r["id"]) == ids["welfare_other"])
    assert (welfare["welfare_risk_level"], welfare["marking"]) == ("medium", "OFFICIAL-SENSITIVE")


def test_kind_columns_and_london_times(app):
    author = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    patrol = factories.patrol(author, OLD_TRAFFORD, occurred_at=london("2026-07-01T09:15"))
    db.session.commit()
    sergeant = factories.user(Role.SUPERVISOR)
    db.session.commit()
    _, (row,) = read_csv(export(signed_in(app, sergeant)).get_data())
    assert row["id"] == str(patrol.id) and row["kind"] == "patrol" and row["status"] == "submitted"
    assert row["occurred_at"] == "2026-07-01T09:15:00+01:00"  # London summer time, with its offset
    assert (row["beat_code"], row["beat_name"]) == (OLD_TRAFFORD, "Old Trafford")
    assert (row["patrol_mode"], row["patrol_hours"]) == ("foot", "1.0")
    assert row["author_collar"] == author.collar_number
    assert row["nsir_category"] == row["intel_grading"] == ""


def test_geojson_export_has_the_marking_metadata_and_a_point_per_entry(app, world, sergeant):
    me, ids = world
    query = f"kind=asb-incidents&beat={factories.beat(OLD_TRAFFORD).id}"
    response = export_as(app, sergeant, query, fmt="geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.headers["Content-Disposition"].endswith('.geojson"')
    document = json.loads(response.get_data())
    (event,) = disclosures()
    assert document["type"] == "FeatureCollection"
    assert document["marking"] == "OFFICIAL-SENSITIVE"
    meta = document["metadata"]
    assert {k: meta[k] for k in ("marking", "exported_by", "purpose", "recipient", "filters", "count",
                                 "audit_event", "export_request")} == {
        "marking": "OFFICIAL-SENSITIVE", "exported_by": "PS4343", "purpose": PURPOSE, "recipient": RECIPIENT,
        "filters": {"kind": ["asb-incidents"], "beat": [factories.beat(OLD_TRAFFORD).id]}, "count": 3,
        "audit_event": event.id, "export_request": event.details["export_request"]}
    assert datetime.fromisoformat(meta["exported_at"]).tzinfo is not None
    assert {f["id"] for f in document["features"]} == {ids["asb"], ids["asb_mine"], ids["asb_sensitive"]}
    feature = document["features"][0]
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert -2.5 < lon < -2.1 and 53.3 < lat < 53.5
    assert "lat" not in feature["properties"] and feature["properties"]["kind"] == "asb_incident"
    assert event.details["format"] == "geojson"


def test_an_empty_export_is_still_a_valid_marked_file(app, world, sergeant):
    body = export(signed_in(app, sergeant), "kind=intelligence-reports&to=2025-01-01", fmt="geojson").get_data()
    document = json.loads(body)
    assert document["features"] == [] and document["metadata"]["count"] == 0
    meta, rows = read_csv(export(signed_in(app, sergeant), "kind=intelligence-reports&to=2025-01-01").get_data())
    assert rows == [] and meta[0] == ["# OFFICIAL"]


@pytest.mark.parametrize("form, problem", [
    ({"purpose": ""}, "Say why this is being exported"),
    ({"purpose": "because"}, "Give the purpose in 10 to 500 characters"),
    ({"recipient": ""}, "Say who will receive it"),
    ({"recipient": "  "}, "Say who will receive it"),
    ({"format": "xlsx"}, "Not a valid choice"),
])
def test_no_purpose_or_recipient_no_export_and_no_disclosure(app, world, sergeant, form, problem):
    response = export(signed_in(app, sergeant), **form)
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert problem in page.select_one("[data-testid=error-summary]").get_text(" ", strip=True)
    assert disclosures() == [] and db.session.scalar(sa.select(sa.func.count(ExportRequest.id))) == 0


def test_the_export_form_keeps_filters_in_the_action_and_purpose_out_of_the_url(app, world, sergeant):
    response = signed_in(app, sergeant).get("/lists/entries/export?kind=asb-incidents&format=geojson")
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    form = page.select_one("form.export-form")
    assert form["method"] == "post" and form["action"] == "/lists/entries/export?kind=asb-incidents"
    assert page.select_one("input[name=format][value=geojson]").has_attr("checked")
    assert page.select_one("textarea[name=purpose]") and page.select_one("input[name=recipient]")
    assert page.select_one("[data-testid=export-count]").get_text(strip=True) == "4"
    assert "OFFICIAL-SENSITIVE" in page.select_one("[data-testid=marking-reminder]").get_text()
    assert "second person must approve" in page.select_one("[data-testid=approval-needed]").get_text()
    assert page.select_one("form.export-form button").get_text(strip=True) == "Ask for approval to export 4 entries"
    assert disclosures() == []  # opening the form discloses nothing


def test_the_export_streams_after_the_disclosure_is_committed_and_holds_no_write_lock(app, world, sergeant,
                                                                                    monkeypatch):
    """The event is on record before the first byte; while the (approved) file streams, another writer can write."""
    monkeypatch.setattr(exports, "CHUNK_ROWS", 1)
    monkeypatch.setattr(exports, "BATCH", 1)
    response = export_as(app, sergeant, buffered=False)
    assert response.is_streamed
    chunks = iter(response.response)
    next(chunks), next(chunks)  # the metadata, then the first row: the read is under way
    assert write_from_another_connection() == 1
    rest = b"".join(chunks)
    response.close()
    assert rest.rstrip().endswith(b"# OFFICIAL-SENSITIVE")


def write_from_another_connection() -> int:
    """Count the disclosures another connection sees, then write from it: on SQLite this fails with "database is
    locked" (0.2 s) if the request under test still holds the write lock. For downloads and PDFs being made."""
    other = sa.create_engine(db.engine.url, connect_args={"timeout": 0.2} if db.engine.dialect.name == "sqlite"
                             else {})
    try:
        with other.connect() as connection:
            seen = connection.scalar(sa.select(sa.func.count()).select_from(AuditEvent.__table__)
                                     .where(AuditEvent.action == AuditAction.DISCLOSE))
            connection.rollback()
            with connection.begin():
                connection.execute(sa.update(EntryRevision.__table__).where(sa.false()).values(action="x"))
                connection.execute(sa.insert(AuditEvent.__table__).values(action="view", at=utcnow(), details={}))
        return seen
    finally:
        other.dispose()


# --- PDF of one entry --------------------------------------------------------------------------------------


def disclosures_seen_while_rendering(monkeypatch) -> dict:
    """Make every PDF, once its content is laid out (all it reads, read), write from another connection before
    it renders: the dict gets the disclosures that connection saw. Fails on SQLite under the write lock."""
    seen = {}
    real = MarkedPDF.render

    def render(pdf):
        seen["disclosures"] = write_from_another_connection()
        return real(pdf)

    monkeypatch.setattr(MarkedPDF, "render", render)
    return seen


def test_the_entry_pdf_renders_after_the_disclosure_is_committed_and_holds_no_write_lock(app, world, monkeypatch):
    """Issue 10, item 6: rendering a PDF inside the disclosure's transaction held SQLite's write lock."""
    me, ids = world
    seen = disclosures_seen_while_rendering(monkeypatch)
    response = pdf_export(signed_in(app, me), ids["asb"])
    assert response.status_code == 200 and response.get_data().startswith(b"%PDF-")
    assert seen["disclosures"] == 1  # on record before the rendering began


def test_an_entry_pdf_of_code_c_intelligence_carries_its_conditions(app, world):
    _, ids = world
    analyst = factories.user(Role.ANALYST)
    db.session.flush()
    entry = get_visible_entry(analyst, ids["intel"])
    text = pdf_words(entry_pdf(entry, viewer=analyst, purpose=PURPOSE, recipient=RECIPIENT, unicode_font=False))
    banner = "Handling code C - share only on these conditions: -Only to the council ASB team"
    assert text.count(banner) == 2  # under the title, and again with this export's details
    plain = get_visible_entry(analyst, ids["asb"])
    assert b"Handling code C" not in zlib_text(entry_pdf(plain, viewer=analyst, purpose=PURPOSE, recipient=RECIPIENT,
                                                         unicode_font=False))
    db.session.rollback()



def pdf_export(browser, entry_id: int, **form):
    return browser.post(f"/entries/{entry_id}/pdf", data={"purpose": PURPOSE, "recipient": RECIPIENT, **form})


def test_pdf_export_of_a_visible_entry_is_a_marked_pdf_and_a_disclosure(app, world):
    me, ids = world
    browser = signed_in(app, me)
    page = BeautifulSoup(browser.get(f"/entries/{ids['asb']}").get_data(as_text=True), "html.parser")
    assert page.select_one("[data-testid=export-pdf]")["href"] == f"/entries/{ids['asb']}/pdf"
    form_page = browser.get(f"/entries/{ids['asb']}/pdf")
    assert form_page.status_code == 200
    response = pdf_export(browser, ids["asb"])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF-")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="beatbook-entry-{ids["asb"]}-{to_london(utcnow()).date().isoformat()}.pdf"')
    (event,) = disclosures()
    assert (event.object_type, event.object_id, event.actor_id) == ("entry", ids["asb"], me.id)
    assert event.details == {"format": "pdf", "purpose": PURPOSE, "recipient": RECIPIENT, "count": 1,
                             "marking": "OFFICIAL", "context": "lists.entry_export",
                             "records": {"entry": audit.id_summary([ids["asb"]])}}


def test_pdf_of_an_entry_the_user_may_not_see_is_404_both_ways(app, world):
    me, ids = world
    browser = signed_in(app, me)
    for name in ("welfare_other", "asb_sensitive", "intel", "asb_altrincham", "draft_other"):
        assert browser.get(f"/entries/{ids[name]}/pdf").status_code == 404, name
        assert pdf_export(browser, ids[name]).status_code == 404, name
    assert disclosures() == []


def test_pdf_needs_purpose_and_recipient(app, world):
    me, ids = world
    response = pdf_export(signed_in(app, me), ids["asb"], recipient="")
    assert response.status_code == 400 and disclosures() == []


def pdf_text(document: bytes) -> str:
    """The text drawn in an uncompressed core-font PDF's content streams."""
    return document.decode("latin-1")


AWKWARD = ("Zoë O’Brien — “quoted” … Łukasz Żółkiewski, محمد, 中文, emoji 😀🚓, tab\tand bell\x07, "
           "ünïcödé, Ørsted, naïve café")


@pytest.mark.parametrize("unicode_font", [True, False])
def test_awkward_text_never_breaks_a_pdf(app, world, unicode_font):
    if unicode_font and unicode_font_paths() is None:
        pytest.fail("DejaVu Sans is missing: install fonts-dejavu-core (the Latin-1 fallback is tested too)")
    me, ids = world
    supervisor = factories.user(Role.SUPERVISOR)
    entry = db.session.get(WelfareCheck, ids["welfare_other"])
    entry.summary = AWKWARD[:200]
    entry.child_words = AWKWARD * 20  # several pages
    entry.links[0].person.full_name = "Zoë Łódź-محمد 😀"
    db.session.add(EntryRevision(entry_id=entry.id, actor_id=entry.author_id, action="updated",
                                 changes={"summary": ["a", "b"]}))
    db.session.add(EntryReview(entry_id=entry.id, reviewer_id=supervisor.id, decision=ReviewDecision.RETURNED,
                               comment="Add the MASH ref — thanks ’"))
    db.session.flush()
    document = entry_pdf(entry, viewer=supervisor, purpose=AWKWARD, recipient="Ms Ñ — “MASH”",
                         unicode_font=unicode_font)
    assert document.startswith(b"%PDF-") and len(document) > 1000
    db.session.rollback()


def test_latin1_fallback_keeps_what_it_can():
    assert latin1_text("Zoë O’Brien — “hi” … Łukasz Żółć") == 'Zoë O\'Brien - "hi" ... Lukasz Zólc'
    assert latin1_text("محمد 😀") == "???? ?"
    assert latin1_text("bell\x07") == "bell"


def test_the_marking_is_at_the_top_and_bottom_of_every_page():
    pdf = MarkedPDF(marking="OFFICIAL-SENSITIVE", title="Beatbook test", unicode_font=False)
    pdf.set_compression(False)
    pdf.add_page()
    for number in range(120):
        pdf.field(f"Row {number}", "Some text that takes a line")
    document = pdf.render()
    pages = pdf.page_no()
    assert pages >= 3
    text = pdf_text(document)
    assert text.count("(OFFICIAL-SENSITIVE) Tj") == 2 * pages
    assert f"(Page {pages} of ) Tj ({pages}) Tj" in text  # fpdf2 draws the page total as its own string


def test_revisions_in_a_pdf_hide_restricted_field_names(app, world):
    _, ids = world
    analyst = factories.user(Role.ANALYST)
    db.session.add(EntryRevision(entry_id=ids["intel"], actor_id=analyst.id, action="updated",
                                 changes={"source_details": ["x", "y"], "summary": ["a", "b"]}))
    db.session.flush()
    entry = get_visible_entry(analyst, ids["intel"])
    pdf = entry_pdf(entry, viewer=analyst, purpose=PURPOSE, recipient=RECIPIENT, unicode_font=False)
    assert b"Shop worker" not in zlib_text(pdf) and b"source details" not in zlib_text(pdf)
    assert b"changed summary" in zlib_text(pdf)
    db.session.rollback()


def pdf_words(document: bytes) -> str:
    """The text of a core-font PDF as one line: each drawn string, joined by spaces (a wrapped line reads on)."""
    return " ".join(part.decode("latin-1") for part in re.findall(rb"\((.*?)\) Tj", zlib_text(document)))


def zlib_text(document: bytes) -> bytes:
    """Every FlateDecode stream of a PDF, inflated and joined (enough to search core-font text)."""
    out, start = [], 0
    while (start := document.find(b"stream\n", start)) != -1:
        start += len(b"stream\n")
        end = document.find(b"endstream", start)
        try:  # a decompressor stops at the end of the zlib stream: the EOL before endstream is left over
            out.append(zlib.decompressobj().decompress(document[start:end]))
        except zlib.error:
            pass
        start = end
    return b"".join(out)


def test_pcso_can_export_a_pdf_of_their_own_draft_but_not_anyone_elses(app, world):
    me, ids = world
    assert pdf_export(signed_in(app, me), ids["draft_mine"]).status_code == 200
    assert pdf_export(signed_in(app, me), ids["draft_other"]).status_code == 404
    assert [e.object_id for e in disclosures()] == [ids["draft_mine"]]


def test_linked_people_appear_with_their_roles(app, world):
    _, ids = world
    supervisor = factories.user(Role.SUPERVISOR)
    incident = db.session.get(AsbIncident, ids["asb"])
    factories.link(incident, factories.person("Wendy Witness"), LinkRole.WITNESS)
    factories.link(incident, factories.vehicle("YK68 WPD", make="Ford"))
    db.session.flush()
    text = zlib_text(entry_pdf(incident, viewer=supervisor, purpose=PURPOSE, recipient=RECIPIENT, unicode_font=False))
    assert b"Wendy Witness" in text and b"Witness" in text and b"YK68WPD" in text
    db.session.rollback()
