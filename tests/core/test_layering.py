"""The core never imports Qt: it must run headless (CLI, tests, workers) and stay testable."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import desktop_rag

PACKAGE_DIR = Path(desktop_rag.__file__).resolve().parent
CORE_DIR = PACKAGE_DIR / "core"
REPO_ROOT = PACKAGE_DIR.parent
QT_PACKAGES = frozenset({"PySide6", "shiboken6", "superqt"})


def core_files() -> list[Path]:
    return sorted(CORE_DIR.rglob("*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module named by an import statement anywhere in the tree (functions included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "__import__"
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def test_the_walk_sees_the_core_modules() -> None:
    names = {p.name for p in core_files()}
    assert {"extract.py", "chunking.py", "store.py", "ingest.py", "embedding.py", "types.py"} <= names


def test_import_finder_catches_every_import_form() -> None:
    source = (
        "import PySide6.QtCore\n"
        "def f():\n    from shiboken6 import isValid\n"
        "importlib.import_module('superqt')\n"
    )
    assert {"PySide6.QtCore", "shiboken6", "superqt"} <= imported_modules(ast.parse(source))


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.relative_to(CORE_DIR).as_posix())
def test_core_module_does_not_import_qt(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    offending = sorted(m for m in imported_modules(tree) if m.split(".")[0] in QT_PACKAGES)
    assert not offending, f"{path.relative_to(REPO_ROOT)} imports Qt: {offending}"


def test_importing_every_core_module_loads_no_qt() -> None:
    modules = [f"desktop_rag.core.{p.stem}" for p in core_files() if p.stem != "__init__"]
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(QT_PACKAGES)!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
