"""measurements/core is the pure layer: no Django import, directly or through what it loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "measurements" / "core"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_core_module_imports_django():
    files = sorted(CORE.glob("*.py"))
    assert len(files) >= 10
    offenders = {
        f.name: sorted(
            m for m in _imported_modules(f) if m.split(".")[0] in {"django", "rest_framework"}
        )
        for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_imports_only_itself_and_well_kept_libraries():
    allowed = {
        "__future__", "base64", "binascii", "collections", "dataclasses", "functools", "math",
        "re", "typing", "cv2", "nibabel", "numpy", "scipy", "shapely", "SimpleITK",
        "measurements",
    }  # fmt: skip
    used = {m.split(".")[0] for f in CORE.glob("*.py") for m in _imported_modules(f)}
    assert used - allowed == set()


def test_importing_the_core_loads_no_django():
    code = (
        "import sys, measurements.core; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=CORE.parents[1],
    )
    assert out.stdout.strip() == "[]"
