"""`annotate guidelines` and `annotate seed-gold` through Click, on a copy of the project's guidelines."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from annotate.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "guidelines", tmp_path / "guidelines")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return tmp_path


def test_guidelines_command_checks_and_writes_html(tmp_path):
    root = _project(tmp_path)
    result = CliRunner().invoke(main, ["--root", str(root), "guidelines", "--html", str(root / "g.html")])
    assert result.exit_code == 0, result.output
    assert "consistent" in result.output
    page = (root / "g.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and '<p class="guidelines-version">' in page


def test_guidelines_command_fails_on_a_stale_changelog(tmp_path):
    root = _project(tmp_path)
    schema = root / "guidelines" / "schema.toml"
    text = schema.read_text(encoding="utf-8")
    schema.write_text(text.replace('version = "', 'version = "9', 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["--root", str(root), "guidelines"])
    assert result.exit_code == 1
    assert "add a changelog entry for 9" in result.output


def test_seed_gold_command_rebuilds_the_same_file(tmp_path):
    root = _project(tmp_path)
    gold = root / "guidelines" / "seed-gold.jsonl"
    before = gold.read_text(encoding="utf-8")
    gold.unlink()
    result = CliRunner().invoke(main, ["--root", str(root), "seed-gold"])
    assert result.exit_code == 0, result.output
    assert "5 seeds" in result.output
    assert gold.read_text(encoding="utf-8") == before
