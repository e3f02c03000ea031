"""PDF documents carrying their security marking at the top and bottom of every page (fpdf2).

MarkedPDF is the base for every printable thing (an entry export, a shift briefing): the marking in the
header and the footer, the title under the top marking, "Page n of m" in the footer, and a few helpers
(heading, field, paragraph) that keep the documents alike.

Text: fpdf2's core fonts are Latin-1 only and raise on anything else ("—", "’", emoji, Polish or Arabic
names). MarkedPDF uses DejaVu Sans when it finds the TTF (Debian's fonts-dejavu-core puts it under
/usr/share/fonts/truetype/dejavu; BEATBOOK_PDF_FONT may point at another regular-weight TTF, its bold
beside it as <name>-Bold.ttf). Without it, or with unicode_font=False, text goes through latin1_text():
typographic punctuation becomes its ASCII twin, accented letters outside Latin-1 lose their accent
(Ł -> L, ż -> z) and anything else becomes "?". With DejaVu, a character the font has no glyph for
becomes "?" too. Either way no text can make a PDF fail. Arabic and other scripts that need shaping
are printed letter by letter without it (no HarfBuzz here): legible to nobody, but never a crash.
"""
from __future__ import annotations

import logging
import os
import re
import unicodedata
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

# fontTools logs every glyph of every font subset at INFO: dozens of lines per PDF in the app's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_FAMILY = "beatbook-sans"
CORE_FAMILY = "helvetica"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ASCII_TWINS = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "*", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
    "\u2192": "->", "\u2190": "<-", "\u20ac": "EUR", "\u2122": "TM",
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i", "\u0152": "OE", "\u0153": "oe",
})


def latin1_text(text: str) -> str:
    """Text a core (Latin-1) font can print: punctuation to ASCII, accents dropped where needed, else '?'."""
    out = []
    for char in _CONTROL.sub("", text).translate(_ASCII_TWINS):
        if ord(char) < 256:
            out.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) < 256 and not unicodedata.combining(c))
        out.append(base or "?")
    return "".join(out)


def unicode_font_paths() -> tuple[Path, Path] | None:
    """(regular, bold) TTF paths for a Unicode font, or None when none is installed."""
    configured = os.environ.get("BEATBOOK_PDF_FONT")
    regular = Path(configured) if configured else DEJAVU
    bold = regular.with_name(regular.stem + "-Bold" + regular.suffix)
    if regular.is_file():
        return regular, bold if bold.is_file() else regular
    return None


class MarkedPDF(FPDF):
    """An A4 document with `marking` at the top and bottom of every page, `title` under the top marking."""

    def __init__(self, *, marking: str, title: str, unicode_font: bool | None = None):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.marking = marking
        self.doc_title = title
        paths = unicode_font_paths() if unicode_font is not False else None
        if unicode_font and paths is None:
            raise RuntimeError("no Unicode TTF font found (install fonts-dejavu-core or set BEATBOOK_PDF_FONT)")
        if paths:
            self.add_font(UNICODE_FAMILY, "", str(paths[0]))
            self.add_font(UNICODE_FAMILY, "B", str(paths[1]))
            self.text_family = UNICODE_FAMILY
        else:
            self.text_family = CORE_FAMILY
        self.set_margins(18, 26, 18)
        self.set_auto_page_break(True, margin=22)
        self.set_title(self.clean(title))
        self.set_creator("Beatbook")
        self.set_font(self.text_family, size=10)

    @property
    def is_unicode(self) -> bool:
        return self.text_family == UNICODE_FAMILY

    def clean(self, text) -> str:
        """Any value as text this document's font can print."""
        text = "" if text is None else str(text)
        if not self.is_unicode:
            return latin1_text(text)
        text = _CONTROL.sub("", text)
        font = self.fonts.get(UNICODE_FAMILY)
        cmap = getattr(font, "cmap", None) or {}
        if not cmap:
            return text
        return "".join(char if char in "\n\t" or ord(char) in cmap else "?" for char in text)

    # --- every page ------------------------------------------------------------------------------

    def header(self):
        self.set_y(8)
        self.set_font(self.text_family, "B", 12)
        self.cell(0, 6, self.marking, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.text_family, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.clean(self.doc_title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.set_y(self.t_margin)
        self.set_font(self.text_family, "", 10)

    def footer(self):
        self.set_y(-16)
        self.set_font(self.text_family, "B", 12)
        self.cell(0, 6, self.marking, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.text_family, "", 8)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    # --- content helpers -------------------------------------------------------------------------

    def heading(self, text: str, size: int = 13) -> None:
        self.ln(2)
        self.set_font(self.text_family, "B", size)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.text_family, "", 10)
        self.ln(1)

    def field(self, label: str, value, label_width: float = 48) -> None:
        """One 'label: value' row; nothing for an empty value."""
        if value in (None, "", []):
            return
        if self.will_page_break(10):
            self.add_page()
        self.set_font(self.text_family, "B", 9)
        page, y = self.page, self.get_y()
        self.multi_cell(label_width, 5, self.clean(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        label_bottom = self.get_y()
        self.set_xy(self.l_margin + label_width, y)
        self.set_font(self.text_family, "", 10)
        self.multi_cell(0, 5, self.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if self.page == page:
            self.set_y(max(self.get_y(), label_bottom))
        self.ln(1)

    def paragraph(self, text, size: int = 10) -> None:
        self.set_font(self.text_family, "", size)
        self.multi_cell(0, 5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def render(self) -> bytes:
        return bytes(self.output())
