"""One dependency direction: annotation (base) → inference → measurements → dashboards →
reports, exports and pacs (top).

No module of an app imports an app above it, not even inside a function, and no app
imports the project package (config), which wires them together. measurements.core is a
pure library that any layer may import, so it imports no app at all. Migrations and model
relations follow the same direction.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[1]
# Higher rank = higher layer; a module may import its own rank and below.
RANK = {
    "annotation": 0,
    "inference": 1,
    "measurements": 2,
    "dashboards": 3,
    "reports": 4,
    "exports": 4,
    "pacs": 4,
    "config": 5,
}
PURE = "measurements.core"
APPS = ("annotation", "inference", "measurements", "dashboards", "reports", "exports", "pacs")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every import in the source, at any depth: in functions, under
    TYPE_CHECKING, relative ones resolved, and importlib/import_string with a literal."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".") if node.level else []
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            name = ".".join([*base, *([node.module] if node.module else [])])
            if node.module is None:  # from . import a, b: each name may be a module
                found += [(node.lineno, f"{name}.{alias.name}".strip(".")) for alias in node.names]
            else:
                found.append((node.lineno, name))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in {"import_module", "import_string"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _layer(module: str) -> str | None:
    if module == PURE or module.startswith(PURE + "."):
        return PURE
    top = module.split(".", maxsplit=1)[0]
    return top if top in RANK else None


def _violation(importer: str, imported: str) -> bool:
    """Whether `importer` (a module of an app) may not import `imported`."""
    own, other = _layer(importer), _layer(imported)
    if other is None or own is None:
        return False
    if own == PURE:
        return other != PURE
    if other == PURE:
        return False
    return RANK[other] > RANK[own]


def layering_violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    return [
        f"{module}:{line} imports {imported}"
        for line, imported in _imports(source, module, is_package=is_package)
        if _violation(module, imported)
    ]


def _app_files() -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app).rglob("*.py"))


def test_no_app_module_imports_a_layer_above_it() -> None:
    files = _app_files()
    assert len(files) > 100  # the scan really covers the apps
    found = [
        problem
        for path in files
        for problem in layering_violations(
            path.read_text(encoding="utf-8"),
            _module_name(path),
            is_package=path.name == "__init__.py",
        )
    ]
    assert found == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("annotation.services.revisions", "from inference.models import ModelVersion"),
        ("annotation.apis.imports", "def f():\n    import inference.services.jobs\n"),
        ("inference.services.jobs", "from measurements.services import measurements_store"),
        ("annotation.views", "from config.subscribers import SUBSCRIBERS"),
        ("measurements.core.case", "from measurements.models import MeasurementResult"),
        ("measurements.core.case", "from annotation.models import Case"),
        ("annotation.models", "from importlib import import_module\nimport_module('inference')"),
        ("measurements.core.case", "from .. import models"),
        ("measurements.core", "from ..services import measurements_store"),
    ],
)
def test_the_scan_catches_an_upward_import(module: str, source: str) -> None:
    assert layering_violations(source, module, is_package=module == "measurements.core")


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("inference.services.jobs", "from annotation.models import Case"),
        ("measurements.services", "from inference.models import PrelabelJob"),
        ("annotation.selectors.geometry", "from measurements.core.geometry import area"),
        ("measurements.core.case", "from measurements.core import geometry"),
        ("config.subscribers", "from measurements.services import measurements_on_save"),
    ],
)
def test_the_scan_allows_imports_down_and_of_the_pure_core(module: str, source: str) -> None:
    assert layering_violations(source, module) == []


def test_migrations_depend_only_on_their_own_layer_and_below() -> None:
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    edges = [
        (app, name, *parent.key)
        for (app, name), node in graph.node_map.items()
        if app in RANK
        for parent in node.parents
    ]
    # The scan sees the real graph: inference's jobs table depends on annotation's cases.
    assert any(app == "inference" and parent == "annotation" for app, _, parent, _ in edges)
    upward = [
        f"{app}.{name} depends on {parent}.{parent_name}"
        for app, name, parent, parent_name in edges
        if parent in RANK and RANK[parent] > RANK[app]
    ]
    assert upward == []


def test_model_relations_point_to_their_own_layer_and_below() -> None:
    upward = [
        f"{model._meta.label}.{field.name} → {field.related_model._meta.label}"
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields(include_hidden=True)
        if field.is_relation
        and field.concrete
        and field.related_model is not None
        and not isinstance(field.related_model, str)
        and RANK.get(field.related_model._meta.app_label, -1) > RANK[app]
    ]
    assert upward == []
