"""Stored hostile text comes back harmless: escaped in HTML, neutralised in CSV (formula injection), a plain
string in valid GeoJSON, and printed in a PDF that never fails. Hypothesis writes the text; the officer types
it into an ASB incident's summary, description, place and a person's name, through the form."""
from __future__ import annotations

import csv
import io
import json
import re
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcso.extensions import db
from pcso.lists.exports import DANGEROUS_START
from pcso.lists.pdf_export import entry_pdf
from pcso.models import AsbIncident, Role
from tests import factories
from tests.factories import signed_in, soup
from tests.hostile import text

OLD_TRAFFORD = factories.OLD_TRAFFORD
PURPOSE = "Court file for the trial"
WORD = "Zqxmarker"  # plain ASCII, one word: findable in every format whatever surrounds it

pytestmark = pytest.mark.usefixtures("memoised_hashing")

ACTIVE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<svg/onload=alert(1)>",
          "</textarea><script>x()</script>", "<a href='javascript:alert(1)'>x</a>", "&lt;b&gt;", "{{ 7*7 }}",
          "=HYPERLINK(\"http://evil\",\"click\")", "=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
          "\u202egnp.exe", "e\u0301\u0301\u0302", "\u200f\u05e9\u05dc\u05d5\u05dd", '","x":"y', "\\u0022", "'); --"]
payloads = st.builds(lambda start, active, rest: f"{start}{active}{rest} {WORD}",
                     st.sampled_from(["", *DANGEROUS_START, " =", "\t\t@"]), st.sampled_from(ACTIVE),
                     text.map(lambda value: re.sub(r"[\r\n\x00]", " ", value)[:40]))


@pytest.fixture
def people(app):
    pcso = factories.user(Role.PCSO, beats=[OLD_TRAFFORD])
    supervisor = factories.user(Role.SUPERVISOR, beats=[OLD_TRAFFORD])
    db.session.commit()
    return {"pcso": signed_in(app, pcso), "supervisor": signed_in(app, supervisor), "supervisor_user": supervisor}


def log(browser, payload: str) -> AsbIncident:
    response = browser.post("/asb-incidents/new", data=factories.asb_form(
        summary=payload[:200], description=payload, location_text=payload[:200], action_taken=payload,
        **{"people-0-name": payload[:120], "people-0-role": "witness", "people-0-description": payload[:300]}))
    assert response.status_code == 302, soup(response).select_one("main").get_text(" ", strip=True)[:300]
    db.session.expire_all()
    return db.session.get(AsbIncident, int(response.location.rsplit("/", 1)[1]))


def squeeze(value: str) -> str:
    return re.sub(r"\s+", "", value)


@given(payload=payloads)
def test_stored_text_is_escaped_in_the_entry_page(app, people, payload):
    entry = log(people["pcso"], payload)
    for browser in (people["pcso"], people["supervisor"]):
        page = soup(browser.get(f"/entries/{entry.id}"))
        assert [script for script in page.select("script") if not script.get("src")] == []  # nothing injected
        assert not [tag.name for tag in page.find_all(True)
                    if any(name.lower().startswith("on") for name in tag.attrs)]
        assert not page.select("main a[href^='javascript']")
        assert squeeze(entry.summary) in squeeze(page.get_text())  # shown, as text
        assert squeeze(payload) in squeeze(page.get_text())


def export(browser, fmt: str) -> str:
    response = browser.post("/lists/entries/export?kind=asb-incidents", data={
        "format": fmt, "purpose": "Ward panel on ASB", "recipient": "Trafford Council"})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@given(payload=payloads)
def test_stored_text_cannot_run_as_a_formula_in_the_csv(app, people, payload):
    entry = log(people["pcso"], payload)
    rows = list(csv.reader(io.StringIO(export(people["supervisor"], "csv").lstrip("\ufeff"))))
    header = next(row for row in rows if row and row[0] == "id")
    data = [row for row in rows[rows.index(header) + 1:] if row and not row[0].startswith("#")]
    mine = next(dict(zip(header, row)) for row in data if row[0] == str(entry.id))
    assert WORD in mine["summary"]
    dangerous = [cell for row in data for cell in row if cell.startswith(DANGEROUS_START) and not is_number(cell)]
    assert dangerous == []
    if entry.summary.startswith(DANGEROUS_START):
        assert mine["summary"] == "'" + entry.summary


@given(payload=payloads)
def test_stored_text_is_a_plain_string_in_valid_geojson(app, people, payload):
    entry = log(people["pcso"], payload)

    def no_constants(name):
        raise ValueError(f"not JSON: {name}")

    document = json.loads(export(people["supervisor"], "geojson"), parse_constant=no_constants)
    feature = next(item for item in document["features"] if item["id"] == entry.id)
    assert feature["properties"]["summary"] == entry.summary
    assert all(isinstance(value, (str, int, float, bool, type(None))) for value in feature["properties"].values())


def inflated(document: bytes) -> bytes:
    """The PDF's FlateDecode streams, inflated (where a core font's text is drawn as (...) Tj)."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", document, re.DOTALL):
        try:
            out.append(zlib.decompressobj().decompress(match.group(1)))  # the EOL before endstream is left over
        except zlib.error:
            out.append(match.group(1))
    return b"".join(out)


@settings(max_examples=4)  # a Unicode-font PDF takes a second or more to subset its font
@given(payload=payloads)
def test_stored_text_never_breaks_the_pdf_and_is_printed(app, people, payload):
    entry = log(people["pcso"], payload)
    response = people["supervisor"].post(f"/entries/{entry.id}/pdf", data={"purpose": PURPOSE, "recipient": "CPS"})
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    core = entry_pdf(db.session.get(AsbIncident, entry.id), viewer=people["supervisor_user"], purpose=PURPOSE,
                     recipient="CPS", unicode_font=False)
    assert WORD.encode() in inflated(core)

