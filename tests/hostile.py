"""Hostile values for the Hypothesis tests (tests/test_fuzz_*.py): what an attacker, a broken phone or a
fat finger sends."""
from __future__ import annotations

from hypothesis import strategies as st

NASTY = [
    "", " ", "\x00", "a\x00b", "nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e309", "-1", "0", "1.5",
    "9" * 23, str(2**31), str(2**63), "²", "١٢", "0x1A", "1_000", "true", "null", "[]", "{}", '{"a": [[[[]]]]}',
    "2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31", "1899-12-31", "2026-12-01T25:61", "2026-12-01T10:00Z",
    "99999-01-01T00:00", "91", "-181", "53.4649,-2.2607", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)", "=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
    "' OR 1=1 --", "\"; DROP TABLE entry; --", "{{ 7*7 }}", "{% raw %}", "%s%s%n", "../../etc/passwd",
    "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "e\u0301\u0301\u0301\u0301", "\ufeff\ufeffBOM",
    "\U0001f46e\u200d\u2640\ufe0f", "\ud7ff\ue000\uffff", "A" * 20_001, "é" * 5000, "M15 4AD", "m154ad", "ZZ99 9ZZ",
    "AB12 CDE", "PC1001",
]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
huge = st.builds(lambda char, n: char * n, st.characters(blacklist_categories=("Cs",)), st.integers(1_000, 25_000))
numbers = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True)).map(str)
hostile = st.one_of(st.sampled_from(NASTY), text, huge, numbers)


