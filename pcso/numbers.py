"""Numbers from outside (forms, JSON, query strings): finite, in range, or refused. One place for the limits.

A float from a form or JSON can be nan, inf, -inf or 1e309 (which float() reads as inf); an id can be longer
than any database integer. Each was a 500 somewhere (a template's int(), the database driver). Forms use
`FiniteFloatField` / `RecordIdField`, JSON uses `FiniteFloat` / `RecordId`, anything else `finite_float` /
`record_id`; all of them refuse what is out of range with a message instead of passing it on.

Also the bound on how deeply a JSON body may nest (Python's json module recurses: 5,000 levels of [ was a
RecursionError, a 500); `json_depth` measures it without parsing. And one of an Enum's values (`choice`).
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from enum import Enum
from itertools import accumulate

from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate
from wtforms import HiddenField
from wtforms.validators import ValidationError

MAX_DB_INT = 2**31 - 1  # the id columns (PostgreSQL integer): an id beyond it can't exist
LAT_RANGE = (-90.0, 90.0)
LON_RANGE = (-180.0, 180.0)
ACCURACY_RANGE_M = (0.0, 100_000.0)  # a device's reported accuracy; the services apply the tighter config limit
MAX_JSON_DEPTH = 32  # the deepest request body any endpoint takes is 4 levels

_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() accepts '²', which int() refuses
_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?\s*")


def finite_float(value, low: float = -math.inf, high: float = math.inf) -> float | None:
    """A finite float within [low, high] from a number or a plain decimal string, else None (never raises)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        if len(value) > 64 or not _DECIMAL.fullmatch(value):
            return None
    elif not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def choice(enum_cls: type[Enum], value, refuse: Callable[[str], Exception]):
    """The member of `enum_cls` whose value is `value` (None for None); else raises `refuse(allowed)`, allowed
    being its values, comma-separated, for the caller's message."""
    if value is None:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        raise refuse(", ".join(member.value for member in enum_cls)) from None


def record_id(value) -> int | None:
    """A database id (1 .. MAX_DB_INT) from a string of ASCII digits or an int, else None (never raises)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 0 < number <= MAX_DB_INT else None


# --- WTForms -------------------------------------------------------------------------------------------------

class FiniteFloatField(HiddenField):
    """A hidden number the page's script fills (a coordinate, an accuracy): blank is None; anything that is not a
    finite number within [low, high] is a field error with `message`. `.data` stays the text typed (so the form
    shows it again), `.number` is the float."""

    def __init__(self, label=None, validators=None, *, low: float, high: float, message: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.low, self.high, self.message = low, high, message

    @property
    def number(self) -> float | None:
        return finite_float(self.data, self.low, self.high)

    def pre_validate(self, form):
        if str(self.data if self.data is not None else "").strip() and self.number is None:
            self.data = ""  # never shown again: 1e309 or -inf reached a template's int() and was a 500
            raise ValidationError(self.message)


class RecordIdField(HiddenField):
    """The id of a record picked from suggestions: blank is None, anything but a database id is a field error."""

    def __init__(self, label=None, validators=None, *, message: str = "Pick the record again from the list",
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    @property
    def number(self) -> int | None:
        return record_id(self.data)

    def pre_validate(self, form):
        if str(self.data if self.data is not None else "").strip() and self.number is None:
            self.data = ""
            raise ValidationError(self.message)


# --- marshmallow (the API and sync) -------------------------------------------------------------------------

def FiniteFloat(low: float, high: float, **kwargs) -> ma_fields.Float:  # noqa: N802 (a field, as marshmallow's)
    """A JSON number that is finite and within [low, high] (nan and infinities are refused by allow_nan=False)."""
    return ma_fields.Float(allow_nan=False, validate=ma_validate.Range(low, high), **kwargs)


def RecordId(**kwargs) -> ma_fields.Integer:  # noqa: N802
    """A database id in JSON: an integer (not a string, not a float) from 1 to MAX_DB_INT."""
    return ma_fields.Integer(strict=True, validate=ma_validate.Range(min=1, max=MAX_DB_INT), **kwargs)


# --- JSON depth ----------------------------------------------------------------------------------------------

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]+")


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets inside strings don't count). Linear time,
    no recursion; for malformed text an upper bound of what a parser would reach."""
    brackets = _NOT_BRACKETS.sub(b"", _JSON_STRING.sub(b'""', body))
    if not brackets:
        return 0
    return max(accumulate(1 if byte in b"[{" else -1 for byte in brackets))


_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)  # \u0000, not an escaped backslash's "u0000"


def has_json_nul(body: bytes) -> bool:
    """Whether a JSON text holds U+0000 (raw, or as \\u0000 in a string): PostgreSQL can't store it in text."""
    return b"\x00" in body or _JSON_NUL.search(body) is not None


class TooDeep(ValueError):
    """A JSON text nested deeper than MAX_JSON_DEPTH."""


def loads_json(text: str | bytes):
    """json.loads for text from outside (a hidden field, a sealed entry): ValueError for malformed text and for
    text nested deeper than MAX_JSON_DEPTH, which json.loads would answer with a RecursionError."""
    body = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if json_depth(body) > MAX_JSON_DEPTH:
        raise TooDeep(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return json.loads(text)
