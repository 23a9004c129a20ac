"""An export is shared: its files honour the umask (0644 in 0755 folders under 022, 0640/0750 under 027) and carry
no absolute path of the machine (paths inside the project become relative, others keep their file name)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from gold_fixtures import ROOT, TEXT, ann, project, span, task

from annotate.export import export_gold
from annotate.labelstudio.convert import tasks_from_export
from annotate.labelstudio.payloads import task_payload
from annotate.records import Document
from annotate.schema import load_schema


@pytest.fixture
def umask(request) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def tasks():
    return [task(1, [ann(1, "a@x", [span(0, 6, "ACTOR")]), ann(1, "b@x", [span(0, 6, "ACTOR"), span(14, 20, "LOCATION")])]),
            task(2, [ann(2, "a@x", [span(7, 13, "OUTCOME")])])]


@pytest.mark.parametrize("umask", [0o022, 0o027], indirect=True)
def test_export_files_and_folders_get_the_modes_the_umask_allows(tmp_path, umask):
    settings = project(tmp_path / "fresh")  # exports/ does not exist yet: every folder on the way is new
    result = export_gold(tasks(), settings)
    file_mode, dir_mode = 0o666 & ~umask, 0o777 & ~umask
    folders = [settings.exports_dir, settings.exports_dir / "gold", result.folder]
    assert {str(d): stat.S_IMODE(d.stat().st_mode) for d in folders} == {str(d): dir_mode for d in folders}
    files = sorted(p for p in result.folder.iterdir())
    assert len(files) == 13
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: oct(file_mode) for p in files}


def _exported_text(folder: Path) -> dict[str, str]:
    """Every file's bytes as text, the Parquet's cells too (its pages may be compressed)."""
    out = {p.name: p.read_bytes().decode("utf-8", errors="replace") for p in folder.iterdir()}
    out["spans.parquet (cells)"] = pd.read_parquet(folder / "spans.parquet").to_csv()
    out["events.parquet (cells)"] = pd.read_parquet(folder / "events.parquet").to_csv()
    return out


def test_no_file_of_an_export_holds_the_absolute_project_root(tmp_path):
    root = tmp_path / "proj"
    settings = project(root)
    # Tasks pushed by earlier versions carry the input path as given on the command line: absolute for the
    # default seeds/ (and for anything outside the project).
    articles = [Document("a1", TEXT, (), {"source_file": str(root / "seeds" / "aleppo.txt"), "title": "aleppo"}),
                Document("a2", "Militants attacked Kabul.", (), {"source_file": str(tmp_path / "elsewhere" / "kabul.txt"),
                                                                 "notes": [str(root / "seeds")]})]
    rows = []
    for n, article in enumerate(articles, 1):
        payload = task_payload(article)
        result = [{"id": "x", "type": "labels", "from_name": "label", "to_name": "text",
                   "value": {"start": 0, "end": 6, "text": article.text[:6], "labels": ["ACTOR"]}}]
        rows.append({"id": n, **payload, "annotations": [{"id": n, "completed_by": {"id": 1, "email": "a@x"},
                                                           "result": result}]})
    tasks_, _ = tasks_from_export(rows, load_schema(ROOT / "guidelines"))
    result = export_gold(tasks_, settings, source=f"Label Studio export {root / 'exports/raw/project-1.json'}")
    leaks = {name: text.count(str(root)) for name, text in _exported_text(result.folder).items() if str(root) in text}
    assert leaks == {}
    assert str(tmp_path) not in "".join(_exported_text(result.folder).values())
    meta = {r["id"]: r["meta"]["source_file"] for r in map(json.loads, (result.folder / "gold.jsonl").read_text().splitlines())}
    assert sorted(meta.values()) == ["kabul.txt", "seeds/aleppo.txt"]
    assert "- Source: Label Studio export exports/raw/project-1.json" in (result.folder / "README.md").read_text()
