"""The kinds registry is complete: every kind declares every part, and each part does its job.

A sixth kind that forgets its search text, detail rows or export columns fails here, not silently in use.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from marshmallow import Schema
from wtforms.fields import Field

from pcso.entries.forms import EntryForm
from pcso.entries.kinds.base import DetailRow, ExportColumn, Kind
from pcso.entries.registry import KINDS, kind_of
from pcso.models import Entry, EntryKind
from tests import factories

ROOT = Path(__file__).resolve().parents[1]
CALLABLES = ("from_form", "load_form", "check", "apply", "search_text", "detail_rows", "links", "fallback_point",
             "marking")


def test_every_entry_kind_is_registered_once_in_enum_order():
    assert list(KINDS) == list(EntryKind)
    assert all(isinstance(spec, Kind) and spec.kind == kind for kind, spec in KINDS.items())


@pytest.mark.parametrize("kind", list(EntryKind), ids=str)
def test_each_kind_declares_every_part(kind):
    spec = kind_of(kind)
    assert issubclass(spec.model, Entry) and spec.model.__mapper__.polymorphic_identity == kind
    assert issubclass(spec.form, EntryForm) and spec.form.KIND == kind
    assert dataclasses.is_dataclass(spec.fields)
    assert issubclass(spec.schema, Schema) and callable(getattr(spec.schema, "make", None))
    assert all(callable(getattr(spec, name)) for name in CALLABLES)
    assert spec.colour.startswith("#") and len(spec.colour) == 7 and spec.hint and spec.label
    assert spec.export_columns and all(isinstance(column, ExportColumn) for column in spec.export_columns)
    assert all((column.select is None) != (column.derive is None) for column in spec.export_columns)
    assert (ROOT / "templates" / spec.fields_partial).is_file()
    if spec.detail_partial:
        assert (ROOT / "templates" / spec.detail_partial).is_file()


@pytest.mark.parametrize("kind", list(EntryKind), ids=str)
def test_the_form_order_and_the_json_schema_name_only_real_fields(kind):
    """The error summary follows field_order; the kind's JSON fields are the dataclass's (or map to it)."""
    spec = kind_of(kind)
    form_fields = {name for name, value in vars(spec.form).items() if hasattr(value, "field_class")}
    inherited = {name for klass in spec.form.__mro__ for name, value in vars(klass).items()
                 if hasattr(value, "field_class") or isinstance(value, Field)}
    assert set(spec.form.KIND_ORDER) <= inherited | form_fields
    data_fields = {field.name for field in dataclasses.fields(spec.fields)}
    json_fields = set(spec.schema._declared_fields)
    assert json_fields - {"child_name", "child_born_on", "child_id"} <= data_fields


def test_export_column_names_are_unique_across_kinds():
    names = [column.name for spec in KINDS.values() for column in spec.export_columns]
    assert len(names) == len(set(names))


def test_each_kind_has_a_colour_of_its_own():
    assert len({spec.colour for spec in KINDS.values()}) == len(EntryKind)


def test_detail_rows_are_rows(app):
    """Each kind's rows render from a real entry (made by the factories), the page and PDF alike."""
    author = factories.user()
    made = {EntryKind.PATROL: factories.patrol(author), EntryKind.ASB_INCIDENT: factories.asb(author),
            EntryKind.SCHOOL_VISIT: factories.school_visit(author), EntryKind.WELFARE_CHECK: factories.welfare(author),
            EntryKind.INTELLIGENCE_REPORT: factories.intel(author)}
    for kind, entry in made.items():
        rows = kind_of(kind).detail_rows(entry)
        assert rows and all(isinstance(row, DetailRow) and row.label for row in rows), kind
        assert any(row.value not in (None, "") for row in rows), kind
        assert isinstance(kind_of(kind).search_text(entry), (list, tuple)), kind
