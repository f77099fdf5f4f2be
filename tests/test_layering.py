"""The shape of the house, kept by tests.

- The core never imports Qt: it must run headless (CLI, tests, workers) and stay testable.
- The layer contracts in pyproject.toml ([tool.importlinter]) hold: each core stage imports only the
  stages below it, fronts sit over services over the core.
- No module of the package takes part in an import cycle (imports inside functions count too).
"""

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


def module_name(path: Path) -> str:
    """``desktop_rag/core/store/library.py`` -> ``desktop_rag.core.store.library`` (packages: their folder)."""
    parts = list(path.resolve().relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


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
    assert {"extract.py", "chunking.py", "library.py", "pipeline.py", "embedder.py", "types.py", "text.py"} <= names


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
    modules = [module_name(p) for p in core_files()]
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


def test_layer_contracts_hold() -> None:
    """import-linter's contracts from pyproject.toml: stage layers, fronts over the core, no Qt in the core."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def package_imports() -> dict[str, set[str]]:
    """Module -> the package modules it imports (relative imports resolved, names mapped to modules)."""
    files = sorted(PACKAGE_DIR.rglob("*.py"))
    known = {module_name(p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, package):
                # "from desktop_rag.core.store import library" names a module; else the module itself
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def _targets(node: ast.AST, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("desktop_rag")]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    if not module.startswith("desktop_rag"):
        return []
    return [f"{module}.{a.name}" for a in node.names]


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles_in_the_package() -> None:
    graph = package_imports()
    assert "desktop_rag.core.store.library" in graph["desktop_rag.core.ingest.pipeline"]
    assert import_cycles(graph) == []
