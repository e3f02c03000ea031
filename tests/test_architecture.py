"""Conventions the whole app keeps, checked over the URL map and the source (GOV.UK Notify style).

Every endpoint declares who may call it, URL parameters are typed, paths are kebab-case,
tables come from migrations (never create_all) and queries use select(), not Model.query.
"""
from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

import pytest
from flask_login import login_user, logout_user

import pcso
from pcso.access import PUBLIC, public, require
from pcso.models import Role
from pcso.web import can_open
from tests import factories

PCSO_DIR = Path(pcso.__file__).resolve().parent
PARAMETER = re.compile(r"<(?:(?P<converter>[a-z_]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
TYPED_CONVERTERS = {"int", "any", "token"}  # token: web.TokenConverter, a fixed alphabet and length


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
    assert not offenders, "URL parameters must be <int:...>, <any(...):...> or <token:...>:\n" + "\n".join(offenders)


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


# --- Layers -------------------------------------------------------------------------------------------
# The pcso package is a DAG in this order, lowest first: a module may import its own layer or a lower one,
# never a higher one, and no chain of imports may come back to where it started. Imports inside functions
# count. A new module must be placed here (an unplaced module fails), which is the moment to ask where it
# belongs. Patterns are fnmatch patterns over dotted module names; each module matches exactly one layer
# (a module named outright is placed there, whatever wildcards it also matches).
FEATURES = ("account", "admin", "api", "audit_viewer", "auditlog", "auth", "beats", "briefing", "case_reviews", "context", "dashboard", "entries", "geo_api", "jobs", "lists",
            "main", "offline", "patrol_plans", "photos", "pole", "retention", "review", "risk", "schools", "search")
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # empty feature packages (checked below) and what needs no other part of pcso
    ("foundation", tuple(f"pcso.{feature}" for feature in FEATURES)
     + ("pcso.timeutil", "pcso.config", "pcso.extensions", "pcso.replica", "pcso.database", "pcso.upsert", "pcso.strength", "pcso.numbers",
        "pcso.auditlog.merkle", "pcso.auditlog.keys", "pcso.auditlog.protection", "pcso.auditlog.partitions", "pcso.auditlog.witness")),
    ("geo", ("pcso.geo", "pcso.boundaries", "pcso.postcodes", "pcso.geocoder")),
    ("models", ("pcso.models", "pcso.models.*")),
    ("core", ("pcso.queries", "pcso.access", "pcso.audit", "pcso.web", "pcso.assets", "pcso.pdf", "pcso.seal", "pcso.ratelimit", "pcso.requestlog", "pcso.backup",
              "pcso.auditlog.events", "pcso.auditlog.sealing", "pcso.auditlog.verify",
              "pcso.retention.rules", "pcso.retention.dates", "pcso.retention.tombstones", "pcso.case_reviews.rules",
              "pcso.jobs.runner", "pcso.jobs.registry")),
    ("places and people", ("pcso.photos.images", "pcso.photos.storage", "pcso.photos.uploads", "pcso.account.forms", "pcso.admin.services", "pcso.api.tokens", "pcso.auth.forms", "pcso.auth.services", "pcso.auth.totp", "pcso.auth.lockout", "pcso.auth.flow", "pcso.auth.enrolment", "pcso.beats.services", "pcso.beats.offline_pack", "pcso.schools.*",
                           "pcso.context.*")),
    ("entry kinds", ("pcso.entries.registry", "pcso.entries.kinds", "pcso.entries.kinds.*", "pcso.entries.data",
                     "pcso.entries.errors", "pcso.entries.schema", "pcso.entries.forms",
                     "pcso.entries.location", "pcso.entries.placing", "pcso.entries.queries",
                     "pcso.entries.revisions")),
    ("records and search", ("pcso.search.*", "pcso.pole.*")),
    ("workflow", ("pcso.entries.held", "pcso.entries.services", "pcso.review.*", "pcso.photos.services",
                  "pcso.retention.*", "pcso.risk.services", "pcso.risk.forms")),
    ("reporting", ("pcso.dashboard.*", "pcso.lists.*", "pcso.briefing.*", "pcso.audit_viewer.*", "pcso.case_reviews.*",
                   "pcso.jobs.kinds", "pcso.jobs.services", "pcso.patrol_plans.*")),
    ("interface", ("pcso.*.views", "pcso.entries.pages", "pcso.case_reviews.pages", "pcso.api.*")),  # views: see layer_of()
    ("app", ("pcso", "pcso.cli", "pcso.seed", "pcso.seed.*", "pcso.auditlog.cli", "pcso.retention.command", "pcso.jobs.cli")),
]
# Only the operator commands import inside functions (to keep `flask --help` quick); they sit at the top.
FUNCTION_IMPORTS_ALLOWED = {"pcso.cli"}
MAX_FILE_LINES = 400
MAX_VIEW_LINES = 25
SESSION_QUERIES = {"scalar", "scalars", "execute", "get", "query"}

# Offenders in code being rewritten or split elsewhere; each line names why. Empty these, never add to them.
KNOWN_OFFENDERS: dict[str, set[str]] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PCSO_DIR.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def pcso_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in python_sources()}


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


def pcso_imports(module: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported pcso module, line, inside a function?) for every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = _parents(tree)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "pcso" or target.startswith("pcso."):
                while target not in modules and "." in target:  # `import pcso.models.user as u`, a name
                    target = target.rsplit(".", 1)[0]
                found.append((target, node.lineno, _in_function(node, parents)))
    return found


def import_graph() -> dict[str, list[tuple[str, int, bool]]]:
    modules = pcso_modules()
    return {module: pcso_imports(module, path, modules) for module, path in modules.items()}


def is_views_module(module: str) -> bool:
    """views.py, or one of a package's views_<part>.py (the API's)."""
    return re.fullmatch(r"views(_\w+)?", module.rsplit(".", 1)[-1]) is not None


def layer_of(module: str) -> list[int]:
    if is_views_module(module):  # every views module is interface, whatever its package's other modules are
        return [next(index for index, (name, _) in enumerate(LAYERS) if name == "interface")]
    named = [index for index, (_, patterns) in enumerate(LAYERS) if module in patterns]
    return named or [index for index, (_, patterns) in enumerate(LAYERS)  # a name beats a wildcard
                     if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns)]


def _offenders(check: str, found: list[str], key=lambda line: line.split(":")[0]) -> list[str]:
    allowed = KNOWN_OFFENDERS.get(check, set())
    stale = allowed - {key(line) for line in found}
    assert not stale, f"{check}: no longer offending, take them off KNOWN_OFFENDERS: {sorted(stale)}"
    return [line for line in found if key(line) not in allowed]


def test_every_module_has_one_layer():
    offenders = [f"{module}: layers {[LAYERS[i][0] for i in layer]}"
                 for module in sorted(pcso_modules()) if len(layer := layer_of(module)) != 1]
    assert not offenders, "place each module in exactly one of LAYERS:\n" + "\n".join(offenders)


def test_no_module_imports_a_higher_layer():
    found = []
    for module, imports in sorted(import_graph().items()):
        for target, line, _ in imports:
            if len(layer_of(module)) != 1 or len(layer_of(target)) != 1:
                continue  # test_every_module_has_one_layer names it
            (mine,), (theirs,) = layer_of(module), layer_of(target)
            if theirs > mine:
                found.append(f"{module}:{line} imports {target} ({LAYERS[mine][0]} -> {LAYERS[theirs][0]})")
    offenders = _offenders("higher layer", found)
    assert not offenders, "imports that go up the layers:\n" + "\n".join(offenders)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                cycles.append(sorted(group + [node]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_import_graph_has_no_cycles():
    graph = {module: {target for target, _, _ in imports if target != module}
             for module, imports in import_graph().items()}
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(group) for group in cycles)


def test_find_cycles_sees_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_feature_packages_are_empty():
    offenders = [str(path.relative_to(PCSO_DIR.parent)) for path in sorted(PCSO_DIR.glob("*/__init__.py"))
                 if path.parent.name != "models" and path.read_text(encoding="utf-8").strip()]
    assert not offenders, "feature __init__.py files must be empty (create_app imports the views):\n" + "\n".join(
        offenders)


def test_no_function_level_pcso_imports():
    found = [f"{module}:{line} imports {target}"
             for module, imports in sorted(import_graph().items()) if module not in FUNCTION_IMPORTS_ALLOWED
             for target, line, in_function in imports if in_function]
    offenders = _offenders("function imports", found)
    assert not offenders, "imports inside functions (move the shared piece down a layer):\n" + "\n".join(
        offenders)


def test_files_are_at_most_400_lines():
    found = [f"{path.relative_to(PCSO_DIR.parent)}: {lines} lines" for path in python_sources()
             if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES]
    offenders = _offenders("long files", found)
    assert not offenders, f"files over {MAX_FILE_LINES} lines (split them by subject):\n" + "\n".join(offenders)


def views_modules() -> dict[str, Path]:
    return {module: path for module, path in pcso_modules().items() if is_views_module(module)}


def view_functions(path: Path) -> list[ast.FunctionDef]:
    """Top-level functions with a route decorator (@bp.get, @bp.post, @bp.route...)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in tree.body if isinstance(node, ast.FunctionDef)
            and any(isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                    and isinstance(decorator.func.value, ast.Name) and decorator.func.value.id == "bp"
                    for decorator in node.decorator_list)]


def body_lines(function: ast.FunctionDef) -> int:
    body = function.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body[-1].end_lineno - body[0].lineno + 1


def test_views_are_at_most_25_lines():
    found = [f"{module}.{function.name}: {lines} lines" for module, path in sorted(views_modules().items())
             for function in view_functions(path) if (lines := body_lines(function)) > MAX_VIEW_LINES]
    assert sum(len(view_functions(path)) for path in views_modules().values()) > 20  # the finder finds views
    offenders = _offenders("long views", found, key=lambda line: line.split(":")[0])
    assert not offenders, f"views over {MAX_VIEW_LINES} lines (parse, authorise, one service, commit):\n" + "\n".join(
        offenders)


def test_no_views_module_imports_another():
    found = [f"{module}:{line} imports {target}" for module, imports in sorted(import_graph().items())
             if is_views_module(module) for target, line, _ in imports if is_views_module(target)]
    assert not found, "views modules import services and queries, never each other:\n" + "\n".join(found)


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def views_doing_service_work(path: Path, module: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name == "audit.record" or (name.startswith("db.session.") and name.split(".")[-1] in SESSION_QUERIES):
                found.append(f"{module}:{node.lineno} calls {name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith("audit"):
            found += [f"{module}:{node.lineno} imports audit.record" for alias in node.names if alias.name == "record"]
    return found


def test_views_leave_audit_and_queries_to_services():
    found = [line for module, path in sorted(views_modules().items()) for line in views_doing_service_work(path, module)]
    offenders = _offenders("views doing service work", found)
    assert not offenders, ("views call named services (record_disclosure, record_list_view...), which audit and "
                           "query; a view only commits:\n" + "\n".join(offenders))


def test_views_checks_catch_offenders(tmp_path):
    source = tmp_path / "views.py"
    source.write_text("@bp.get('/')\ndef index():\n    audit.record(1)\n    db.session.scalars(2)\n"
                      "    db.session.commit()\n" + "    x = 1\n" * 30)
    assert views_doing_service_work(source, "m") == ["m:3 calls audit.record", "m:4 calls db.session.scalars"]
    (function,) = view_functions(source)
    assert body_lines(function) == 33


# Templates ask can_open('endpoint') (the view's declared roles), never restate who holds which role.
ROLE_IN_TEMPLATE = re.compile(r"\.role\s*(?:==|!=|in\b|not in\b)|\baccess\.[A-Z_]+\b")


def test_templates_ask_can_open_instead_of_restating_roles():
    root = PCSO_DIR.parent / "templates"
    offenders = [f"{path.relative_to(root)}:{number}: {line.strip()}"
                 for path in sorted(root.rglob("*.html"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if ROLE_IN_TEMPLATE.search(line)]
    assert not offenders, "templates restating roles (ask can_open('endpoint')):\n" + "\n".join(offenders)


@pytest.mark.parametrize("line, flagged", [
    ("{% if current_user.role in access.REVIEWERS %}", True),
    ("{% if current_user.role == 'admin' %}", True),
    ("{% if can_open('admin.users') %}", False),
    ("{{ current_user.role.label }}", False),
])
def test_role_pattern_catches_restated_roles(line, flagged):
    assert bool(ROLE_IN_TEMPLATE.search(line)) is flagged


def test_can_open_reads_the_views_declared_roles(app):
    with app.test_request_context():
        assert can_open("auth.login") and not can_open("admin.users")  # public; signed out
        for role in Role:
            login_user(factories.user(role))
            assert can_open("admin.users") is (role == Role.ADMIN)
            assert can_open("review.queue") is (role == Role.SUPERVISOR)
            assert can_open("beats.index") is (role != Role.AUDITOR)  # every role but the auditor's
            assert can_open("audit.index") is (role == Role.AUDITOR)
            logout_user()
        with pytest.raises(KeyError):
            can_open("no.such-endpoint")


# One definition of each shared piece; everything else imports it.
SHARED_PIECES = {"AnyEntry": "pcso.queries", "like_pattern": "pcso.queries",
                 "street_crime_points": "pcso.context.police_uk_layer", "from_slug": "pcso.models.entry"}


def definitions(name: str) -> list[str]:
    found = []
    for module, path in pcso_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                found.append(module)
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found.append(module)
    return sorted(found)


def test_shared_pieces_are_defined_once():
    found = []
    for name, home in sorted(SHARED_PIECES.items()):
        modules = definitions(name)
        assert home in modules, f"{name} should be defined in {home}"
        found += [f"{module}: defines {name}" for module in modules if module != home]
    offenders = _offenders("defined twice", found, key=lambda line: line)
    assert not offenders, ("each is defined once (SHARED_PIECES says where); import it from there:\n"
                           + "\n".join(offenders))


def test_layer_of_places_views_in_the_interface():
    (interface,) = layer_of("pcso.search.views")
    (search,) = layer_of("pcso.search.services")
    (models,) = layer_of("pcso.models.entry")
    assert LAYERS[interface][0] == "interface" and models < search < interface
    assert layer_of("pcso.nowhere") == []
    assert is_views_module("pcso.api.views_core") and not is_views_module("pcso.api.viewset")
    (tokens,) = layer_of("pcso.api.tokens")  # named outright: not the interface that pcso.api.* would say
    assert LAYERS[tokens][0] == "places and people"


def test_only_the_test_suite_uses_the_audit_maintenance_path():
    """The append-only triggers' one way round (protection.maintenance) is for tests/conftest.py's teardown: no module
    of the application calls it or names the setting that opens it."""
    root = PCSO_DIR.parent
    offenders = [f"{path.relative_to(root)}:{number}: {line.strip()}"
                 for path in python_sources() if path.name != "protection.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\bmaintenance\s*\(|audit_maintenance|MAINTENANCE_SETTING", line)]
    assert not offenders, "the audit maintenance path is the test teardown's alone:\n" + "\n".join(offenders)
    assert "maintenance(" in (root / "tests" / "conftest.py").read_text(encoding="utf-8")  # the check looks right
