"""annotate export / disagreements / decide on a Label Studio JSON export file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from gold_fixtures import TEXT, project

from annotate.cli import main


def result(rid: str, start: int, end: int, label: str) -> dict:
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": [label]}}


def ls_annotation(aid: int, email: str, results: list[dict]) -> dict:
    return {"id": aid, "completed_by": {"id": aid, "email": email}, "result": results, "was_cancelled": False,
            "ground_truth": False, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}


def ls_export(label: str = "LOCATION") -> list[dict]:
    return [{
        "id": 1, "data": {"text": TEXT, "doc_id": "art-1"}, "meta": {}, "predictions": [],
        "annotations": [
            ls_annotation(1, "a@x", [result("r1", 0, 6, "ACTOR"), result("r2", 14, 20, label)]),
            ls_annotation(2, "b@x", [result("r1", 0, 6, "ACTOR")]),
        ],
    }]


@pytest.fixture
def env(tmp_path):
    project(tmp_path)
    path = tmp_path / "project-1.json"
    path.write_text(json.dumps(ls_export()))
    return tmp_path, path


def run(root, *args):
    return CliRunner().invoke(main, ["--root", str(root), *args], catch_exceptions=False)


def test_export_writes_latest_and_summarises(env):
    root, path = env
    out = run(root, "export", "--from-export", str(path))
    assert out.exit_code == 0, out.output
    assert "(1 train, 0 dev documents, 1 spans, 0 events, 1 open disagreements)" in out.output
    assert (root / "exports" / "gold" / "latest" / "gold.jsonl").exists()
    assert "project-1.json (sha256 " in (root / "exports" / "gold" / "latest" / "README.md").read_text()


def test_export_format_labelstudio_prints_the_import_json_on_stdout_and_the_summary_on_stderr(env):
    root, path = env
    out = CliRunner().invoke(main, ["--root", str(root), "export", "--from-export", str(path),
                                     "--format", "labelstudio"], catch_exceptions=False)
    assert out.exit_code == 0, out.stderr
    tasks = json.loads(out.stdout)
    assert out.stdout == (root / "exports" / "gold" / "latest" / "labelstudio.json").read_text()
    assert [t["data"]["text"] for t in tasks] == [TEXT] and tasks[0]["annotations"][0]["ground_truth"] is True
    assert "Gold written to" in out.stderr and "Gold written to" not in out.stdout


def test_export_format_labelstudio_and_json_are_refused_together(env):
    root, path = env
    out = run(root, "export", "--from-export", str(path), "--format", "labelstudio", "--json")
    assert out.exit_code == 1 and "want stdout" in out.output
    assert not (root / "exports" / "gold").exists()


def test_min_agreement_exits_3_and_does_not_publish(env):
    root, path = env
    out = run(root, "export", "--from-export", str(path), "--min-agreement", "0.9")
    # a: {ACTOR, LOCATION}, b: {ACTOR}: 2*1 / 3 = 0.667
    assert out.exit_code == 3
    assert "agreement 0.667 is below --min-agreement 0.9" in out.output
    assert "NOT published" in out.output and "for review" in out.output
    assert not (root / "exports" / "gold" / "latest").exists()
    [build] = [p for p in (root / "exports" / "gold").iterdir() if not p.name.startswith(".")]
    assert (build / "gold.jsonl").exists()


def test_disagreements_then_decide_then_none_left(env):
    root, path = env
    listed = run(root, "disagreements", "--from-export", str(path), "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["task_id"], r["start"], r["end"], r["label"], r["support"]) for r in rows] == [
        (1, 14, 20, "LOCATION", ["a@x"])]
    decided = run(root, "decide", "--from-export", str(path), "--task", "1", "--start", "14", "--end", "20",
                  "--label", "LOCATION", "--accept", "--by", "lead@x", "--note", "a town")
    assert decided.exit_code == 0, decided.output
    assert "Recorded: accept task 1 14-20 LOCATION 'Aleppo' by lead@x" in decided.output
    log = [json.loads(x) for x in (root / "exports" / "decisions.jsonl").read_text().splitlines()]
    assert (log[0]["note"], log[0]["guideline_version"]) == ("a town", "1.1.0")
    assert log[0]["archive"] == path.name  # the pull the lead looked at: retention never prunes it
    assert run(root, "disagreements", "--from-export", str(path)).stdout.strip() == "0 open disagreement(s)"


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "14", "--end", "20", "--label", "PLACE", "--accept"], "unknown label 'PLACE'"),
    (["--start", "14", "--end", "99", "--label", "LOCATION", "--accept"], "out of range"),
    (["--start", "14", "--end", "20", "--label", "LOCATION"], "exactly one of --accept"),
    (["--start", "14", "--end", "20", "--label", "LOCATION", "--accept", "--reject"], "(got --accept and --reject)"),
    (["--start", "14", "--end", "20", "--label", "LOCATION", "--reject", "--accept"], "(got --accept and --reject)"),
    (["--start", "14", "--end", "20", "--label", "LOCATION", "--accept", "--change-to", "14", "30", "LOCATION"],
     "(got --accept and --change-to)"),
    (["--start", "14", "--end", "20", "--label", "LOCATION", "--change-to", "14", "30", "LOCATION", "--reject"],
     "(got --reject and --change-to)"),
    (["--start", "7", "--end", "13", "--label", "OUTCOME", "--reject"], "no annotation contains span 7-13"),
])
def test_decide_validates(env, args, message):
    root, path = env
    out = run(root, "decide", "--from-export", str(path), "--task", "1", "--by", "l@x", *args)
    assert out.exit_code == 1 and message in out.output
    assert not (root / "exports" / "decisions.jsonl").exists()


def test_change_to_records_the_new_span(env):
    root, path = env
    out = run(root, "decide", "--from-export", str(path), "--task", "1", "--start", "14", "--end", "20",
              "--label", "LOCATION", "--change-to", "14", "30", "LOCATION", "--by", "l@x")
    assert out.exit_code == 0, out.output
    row = json.loads((root / "exports" / "decisions.jsonl").read_text())
    assert (row["action"], row["new"]["text"]) == ("change", "Aleppo on Monday")


def test_truncated_export_is_an_error_and_keeps_the_previous_export(env):
    root, path = env
    assert run(root, "export", "--from-export", str(path)).exit_code == 0
    before = (root / "exports" / "gold" / "latest").resolve()
    bad = root / "truncated.json"
    bad.write_text(path.read_text()[:-40])
    out = run(root, "export", "--from-export", str(bad))
    assert out.exit_code == 1 and "truncated" in out.output
    assert (root / "exports" / "gold" / "latest").resolve() == before


def test_foreign_label_set_is_a_clear_error(env):
    root, _ = env
    foreign = root / "other.json"
    foreign.write_text(json.dumps([{**ls_export("PERSON")[0], "annotations": [
        ls_annotation(1, "a@x", [result("r1", 0, 6, "PER")])]}]))
    out = run(root, "export", "--from-export", str(foreign))
    assert out.exit_code == 1
    assert "none of the 1 tasks has a usable submitted annotation" in out.output and "PER" in out.output
    assert not (root / "exports" / "gold").exists() or not any((root / "exports" / "gold").iterdir())


@pytest.mark.parametrize("command", ["export", "disagreements", "decide"])
def test_every_command_has_help(command):
    out = CliRunner().invoke(main, [command, "--help"])
    assert out.exit_code == 0 and "--from-export" in out.output
