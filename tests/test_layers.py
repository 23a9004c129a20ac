"""The architecture as a test: imports point one way, and each third-party library has one home."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "annotate"
# library -> the only places (module or package prefixes, relative to annotate/) that may import it
HOMES = {
    "label_studio_sdk": ("labelstudio/",),
    "spacy": ("preannotate/",),
    "flask": ("web/", "mlbackend/"),
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
            assert root in ("annotate", "__future__") or root in __import__("sys").stdlib_module_names, \
                f"{where} is stdlib-only but imports {name}"
        if name.startswith("annotate."):
            inner = name.removeprefix("annotate.").replace(".", "/")
            for top, allowed in TOP.items():
                if inner.startswith(top.rstrip("/")) and not where.startswith(allowed):
                    pytest.fail(f"{where} imports {name}: only {allowed} may import {top}")
