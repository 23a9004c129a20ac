"""The architecture as a test: imports point one way, each third-party library has one home, and no circle.

Imports inside functions count too: a lazy import hides a circle from Python, not from a reader.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "annotate"
# library -> the only places (module or package prefixes, relative to annotate/) that may import it
HOMES = {
    "label_studio_sdk": ("labelstudio/",),
    "spacy": ("preannotate/", "training/"),
    "flask": ("web/", "mlbackend/"),
    "flask_wtf": ("web/",),  # CSRFProtect
    "flask_limiter": ("web/",),  # the login limit
    "markdown_it": ("markdown.py",),
}
STDLIB_BASE = ("errors.py", "config.py", "records.py", "files.py", "locks.py")
TOP = {"cli/": ("cli/", "__main__.py"), "web/": ("web/", "cli/")}  # the top layers, and who may import them


def _imports(path: Path) -> list[str]:
    """Absolute module names imported by one file (relative imports resolved against the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = ["annotate", *path.relative_to(PACKAGE).with_suffix("").parts]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                names.append(".".join([*base, *(node.module.split(".") if node.module else [])]))
            else:
                names.append(node.module or "")
    return names


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(["annotate", *(parts[:-1] if parts[-1] == "__init__" else parts)])


FILES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way(path: Path) -> None:
    where = path.relative_to(PACKAGE).as_posix()
    for name in _imports(path):
        root = name.split(".")[0]
        for library, homes in HOMES.items():
            if root == library:
                assert where.startswith(homes), f"{where} imports {library}; only {homes} may"
        if where in STDLIB_BASE:
            assert root in ("annotate", "__future__") or root in sys.stdlib_module_names, \
                f"{where} is stdlib-only but imports {name}"
        if name.startswith("annotate."):
            inner = name.removeprefix("annotate.").replace(".", "/")
            for top, allowed in TOP.items():
                if inner.startswith(top.rstrip("/")) and not where.startswith(allowed):
                    pytest.fail(f"{where} imports {name}: only {allowed} may import {top}")


def _graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (`from pkg import sub` counts as importing pkg.sub)."""
    modules = {_module(p): p for p in FILES}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                parts = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join([*parts[: len(parts) - node.level + 1], *([node.module] if node.module else [])])
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
            elif isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in modules}
                continue
            else:
                continue
            targets = {f"{base}.{a.name}" for a in node.names} & modules.keys() or {base} & modules.keys()
            graph[name] |= targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while (top := stack.pop()) != node:
                component.append(top)
            if component:
                found.append(sorted([node, *component]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "modules that import each other (directly or round a circle): " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_the_circle_check_sees_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
