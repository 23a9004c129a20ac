"""The workflows the CLI and the dashboard share (annotate/pipeline/): one decision function for both, the lines
`annotate pull` prints, and the main job starting the dashboard after its logins are made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from web_fixtures import ARCHIVE, LEAD, TEXT1, page_token

from annotate import pipeline
from annotate.cli import main
from annotate.config import Settings, load_settings
from annotate.errors import InputError, ServerError
from annotate.ingest.load import IngestReport
from annotate.labelstudio.convert import Quarantined
from annotate.labelstudio.project import ProjectRef
from annotate.labelstudio.pull import PullStats
from annotate.labelstudio.push import PushReport
from annotate.procs.dashboard import DashboardInfo

IDLIB = (TEXT1.index("Idlib"), TEXT1.index("Idlib") + len("Idlib"), "LOCATION")


def _log(settings: Settings) -> list[dict]:
    lines = (settings.exports_dir / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "at"} for line in lines]


def test_cli_and_dashboard_record_a_span_decision_through_one_function(logged_in: FlaskClient, settings, monkeypatch):
    """`annotate decide --accept` and the document page's Accept both call pipeline.record_decision and log the
    same line (but for the time)."""
    calls: list[dict] = []
    real = pipeline.record_decision

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "record_decision", spy)
    (settings.root / "annotate.toml").write_text(f'leads = ["{LEAD}"]\n', encoding="utf-8")
    start, end, label = IDLIB
    result = CliRunner().invoke(main, ["--root", str(settings.root), "decide", "--task", "1", "--start", str(start),
                                       "--end", str(end), "--label", label, "--accept"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Recorded: accept task 1 {start}-{end} LOCATION 'Idlib' by {LEAD} -> ")
    form = {"action": "accept", "start": start, "end": end, "label": label, "csrf_token": page_token(logged_in)}
    assert logged_in.post("/documents/1/decide", data=form).status_code == 302
    assert len(calls) == 2 and [c["reject_competing"] for c in calls[1:]] == [False]
    cli_line, web_line = _log(settings)
    assert cli_line == web_line and cli_line["archive"] == ARCHIVE


def test_choosing_a_version_rejects_its_rivals_or_writes_nothing(settings):
    source = pipeline.read_tasks(settings)
    task = source.task(1, settings)
    assert [d.text for d in pipeline.open_disagreements(settings, source.tasks)] == ["seized", "Idlib", "Idlib on"]
    with pytest.raises(InputError, match="is not a lead"):
        pipeline.record_decision(settings, task, IDLIB, "accept", "someone@example.org", reject_competing=True)
    assert not (settings.exports_dir / "decisions.jsonl").exists()  # checked before anything is written
    made = pipeline.record_decision(settings, task, IDLIB, "accept", LEAD, reject_competing=True)
    assert [(d.action, d.span.text) for d in made] == [("accept", "Idlib"), ("reject", "Idlib on")]
    assert [line["action"] for line in _log(settings)] == ["accept", "reject"]
    assert [d.text for d in pipeline.open_disagreements(settings, source.tasks)] == ["seized"]


def test_an_unknown_task_names_the_input_and_known_ids(settings):
    with pytest.raises(InputError, match=rf"no task 99 in exports/raw/{ARCHIVE}; known task ids: 1, 2, 3, 4"):
        pipeline.read_tasks(settings).task(99, settings)


def _outcome(tmp_path: Path, archive_only: bool) -> pipeline.PullOutcome:
    stats = PullStats(tmp_path / "raw.json", 3, 4, 1, changed=(7,))
    quarantine = [Quarantined(7, "art7", "amal@example.org", 70, "no such label", "relation")]
    result = pipeline.PullResult(5, stats, [], quarantine, tmp_path / "raw.quarantine.jsonl")
    return pipeline.PullOutcome(result, None, archive_only)


@pytest.mark.parametrize(("archive_only", "last"), [
    (False, "no submitted annotations yet in project 5: no gold written. Annotate in Label Studio, then pull again."),
    (True, "--archive-only: no gold written (build it with `annotate export`)"),
])
def test_pull_lines_are_what_annotate_pull_prints(tmp_path, archive_only, last):
    lines = _outcome(tmp_path, archive_only).lines(Settings(root=tmp_path))
    assert [(line.warning, line.text) for line in lines] == [
        (False, f"pulled 3 task(s), 4 annotation(s), 1 draft(s) -> {tmp_path / 'raw.json'}"),
        (True, "during the pull: 1 task(s) changed while the pull ran, fetched again: 7"),
        (True, f"quarantined 1 relation(s), each named by task and annotator -> {tmp_path / 'raw.quarantine.jsonl'}"),
        (False, last)]


def _fake_demo(monkeypatch, tmp_path: Path, dashboard: object) -> Settings:
    """The main job with the push and the pre-annotation faked, against an 'external' server."""
    settings = load_settings({"label_studio_url": "http://127.0.0.1:9", "label_studio_api_key": "k"}, env={},
                             root=tmp_path)
    monkeypatch.setattr(pipeline.demo, "preannotate_inputs", lambda *_a, **_k: ([], IngestReport()))
    ref = ProjectRef(3, "t", "http://127.0.0.1:9/projects/3/", False)
    monkeypatch.setattr(pipeline.demo, "push", lambda *_a: (ref, PushReport()))

    def start(_settings):
        if isinstance(dashboard, Exception):
            raise dashboard
        return dashboard
    monkeypatch.setattr(pipeline.demo, "start_dashboard", start)
    return settings


def test_demo_starts_the_dashboard_after_making_its_logins(monkeypatch, tmp_path):
    board = DashboardInfo("http://127.0.0.1:5005", 42, 5005, tmp_path / "log", True)
    settings = _fake_demo(monkeypatch, tmp_path, board)
    made: list[str] = []
    result = pipeline.run_demo(settings, dashboard_logins=lambda s: made.append("logins") or {"lead": "pw"})
    assert (result.dashboard, result.logins, result.dashboard_error, made) == (board, {"lead": "pw"}, None, ["logins"])
    assert pipeline.run_demo(settings).dashboard is None  # without a login maker no dashboard is started


def test_demo_shows_the_new_passwords_even_when_the_dashboard_does_not_start(monkeypatch, tmp_path):
    settings = _fake_demo(monkeypatch, tmp_path, ServerError("port 5000 on 127.0.0.1 is already in use"))
    result = CliRunner().invoke(main, ["--root", str(settings.root), "--url", settings.label_studio_url,
                                       "--api-key", "k", "demo"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Created dashboard login lead with password " in result.stdout
    assert "Error: port 5000 on 127.0.0.1 is already in use" in result.stderr and "Dashboard:" not in result.stdout
