"""Conventions the whole app keeps, checked over the URL map and the source (GOV.UK Notify style).

Every endpoint declares who may call it, URL parameters are typed, paths are kebab-case,
tables come from migrations (never create_all) and queries use select(), not Model.query.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import pcso
from pcso.access import PUBLIC, public, require
from pcso.models import Role

PCSO_DIR = Path(pcso.__file__).resolve().parent
PARAMETER = re.compile(r"<(?:(?P<converter>[a-z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
TYPED_CONVERTERS = {"int", "any"}


def python_sources() -> list[Path]:
    return sorted(p for p in PCSO_DIR.rglob("*.py") if "migrations" not in p.relative_to(PCSO_DIR).parts)


def app_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_every_endpoint_declares_who_may_call_it(app):
    offenders = []
    for rule in app_rules(app):
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        if access == PUBLIC:
            continue
        if isinstance(access, frozenset) and access and all(isinstance(role, Role) for role in access):
            continue
        offenders.append(f"{rule.endpoint} {rule.rule}: access={access!r}")
    assert not offenders, "endpoints without @require(...) or @public:\n" + "\n".join(offenders)


def test_url_map_has_the_app_routes(app):
    """Guards the checks above against an empty or unregistered URL map passing vacuously."""
    endpoints = {rule.endpoint for rule in app_rules(app)}
    assert {"auth.login", "entries.detail", "beats.detail", "admin.edit_user", "geo_api.locate"} <= endpoints


def test_require_records_the_roles_and_refuses_an_empty_list():
    @require(Role.ANALYST, Role.SUPERVISOR)
    def view():
        return "ok"

    assert view.access == frozenset({Role.ANALYST, Role.SUPERVISOR})
    assert public(lambda: "ok").access == PUBLIC
    with pytest.raises(ValueError):
        require()


def test_url_parameters_use_typed_converters(app):
    offenders = []
    for rule in app_rules(app):
        for match in PARAMETER.finditer(rule.rule):
            if match["converter"] not in TYPED_CONVERTERS:
                offenders.append(f"{rule.endpoint} {rule.rule}: <{match['name']}> is "
                                 f"{match['converter'] or 'a bare string'}")
        assert len(PARAMETER.findall(rule.rule)) == len(rule.arguments), rule.rule  # the regex saw them all
    assert not offenders, "URL parameters must be <int:...> or <any(...):...>:\n" + "\n".join(offenders)


def test_url_paths_are_kebab_case(app):
    offenders = []
    for rule in app_rules(app):
        fixed = PARAMETER.sub("", rule.rule)
        if not re.fullmatch(r"[a-z0-9\-/.]*", fixed):
            offenders.append(f"{rule.endpoint} {rule.rule}")
    assert not offenders, "URL paths must be lower-case kebab-case:\n" + "\n".join(offenders)


def test_any_converter_values_are_kebab_case(app):
    offenders = []
    for rule in app_rules(app):
        for options in re.findall(r"<any\(([^)]*)\):", rule.rule):
            for value in re.findall(r"'([^']*)'", options):
                if not re.fullmatch(r"[a-z0-9\-]+", value):
                    offenders.append(f"{rule.rule}: {value}")
    assert not offenders, "\n".join(offenders)


def test_create_app_does_not_create_tables():
    factory = (PCSO_DIR / "__init__.py").read_text()
    assert "def create_app" in factory
    assert "create_all" not in factory
    assert "upgrade(" not in factory  # migrations are a deploy step, not part of the factory


def test_no_module_calls_create_all():
    offenders = [f"{path.relative_to(PCSO_DIR)}:{number}: {line.strip()}"
                 for path in python_sources()
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"\bcreate_all\s*\(", line)]
    assert not offenders, "tables come from migrations only:\n" + "\n".join(offenders)


LEGACY_QUERY = [
    re.compile(r"\b[A-Z]\w*\.query\b"),         # User.query, Entry.query.filter_by(...)
    re.compile(r"\.query\.\w"),                 # anything.query.get(...)
    re.compile(r"\bsession\.query\("),          # db.session.query(User): legacy Query API
    re.compile(r"\bquery_class\b|\bBaseQuery\b"),
]


def test_legacy_model_query_is_not_used():
    offenders = [f"{path.relative_to(PCSO_DIR)}:{number}: {line.strip()}"
                 for path in python_sources()
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if any(pattern.search(line) for pattern in LEGACY_QUERY)]
    assert not offenders, "use db.session.scalars(select(...)), not Model.query:\n" + "\n".join(offenders)


@pytest.mark.parametrize("line, flagged", [
    ("users = User.query.filter_by(role='pcso').all()", True),
    ("db.session.query(Entry).get(1)", True),
    ("db.session.scalars(sa.select(User))", False),
    ("query = query.where(AnyEntry.kind == kind)", False),
    ("for i in np.sort(self._tree.query(point)):", False),
])
def test_legacy_query_patterns_catch_model_query(line, flagged):
    assert any(pattern.search(line) for pattern in LEGACY_QUERY) is flagged


# Who an intelligence source is: read only where access.can_view_source() guards it (the report's page and
# form), written by the entry service and the demo seed. Lists, search, snippets, exports and revision
# displays must never read it; a new reader belongs on this list only with a can_view_source() check.
SOURCE_DETAILS_READERS = {
    "pcso/access.py", "pcso/entries/kinds/intelligence_report.py", "pcso/entries/schema.py", "pcso/entries/services.py",
    "pcso/models/intel.py",
    "pcso/seed/safeguarding.py",
    "templates/entries/_detail_intelligence_report.html", "templates/entries/_fields_intelligence_report.html",
}


def test_source_details_are_read_only_where_access_guards_them():
    root = PCSO_DIR.parent
    files = python_sources() + sorted((root / "templates").rglob("*.html")) + sorted((root / "static").rglob("*.js"))
    readers = {str(path.relative_to(root)) for path in files
               if "vendor" not in path.parts and "source_details" in path.read_text(encoding="utf-8")}
    unguarded = readers - SOURCE_DETAILS_READERS
    assert not unguarded, f"source_details read outside the places access.can_view_source() guards: {unguarded}"
    assert "pcso/access.py" in readers  # the check itself is looking in the right place
