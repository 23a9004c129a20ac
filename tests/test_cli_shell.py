"""The shell: '-' is stdin/stdout, shared options after the command name, -v decision logs, progress bars."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate import pipeline
from annotate.cli import main
from annotate.cli.progress import progress
from annotate.config import load_settings
from annotate.records import Document, Span

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ANNOTATE = PROJECT_ROOT / ".venv" / "bin" / "annotate"
SEED_GOLD = PROJECT_ROOT / "guidelines" / "seed-gold.jsonl"
TEXT = "Rebels shelled the market in Idlib on Tuesday, killing four civilians.\n"


@pytest.fixture
def root_logger_level():
    """-v raises the root logger to INFO for the rest of the process; put it back."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


def _invoke(args: list[str], stdin: str | None = None):
    return CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)


def _ingested(project_root: Path) -> str:
    result = _invoke(["--root", str(project_root), "ingest", str(project_root / "seeds")])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_ingest_dash_reads_ingested_jsonl_from_stdin(project_root):
    ingested = _ingested(project_root)
    result = _invoke(["--root", str(project_root), "ingest", "-"], stdin=ingested)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ingested  # ids, meta (source_file of the seeds) and furniture kept
    assert "5 article(s) accepted" in result.stderr


def test_ingest_dash_reads_one_text_from_stdin(tmp_path):
    (tmp_path / "story.txt").write_text(TEXT, encoding="utf-8")
    from_file = json.loads(_invoke(["--root", str(tmp_path), "ingest", str(tmp_path / "story.txt")]).stdout)
    result = _invoke(["--root", str(tmp_path), "ingest", "-"], stdin=TEXT)
    assert result.exit_code == 0, result.stderr
    article = json.loads(result.stdout)
    assert (article["id"], article["text"]) == (from_file["id"], from_file["text"])
    assert article["meta"]["source_file"] == "<stdin>"


def test_ingest_dash_rejects_empty_stdin_by_name(tmp_path):
    result = _invoke(["--root", str(tmp_path), "ingest", "-"], stdin="")
    assert result.exit_code == 1
    assert "rejected: <stdin>: empty input" in result.stderr
    assert result.stdout == ""


def test_ingest_dash_names_the_stdin_line_of_a_bad_record(tmp_path):
    result = _invoke(["--root", str(tmp_path), "ingest", "-"], stdin='{"text": "one"}\n{"text": 2}\n')
    assert result.exit_code == 1
    assert "<stdin>:2" in result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["one"]


def test_preannotate_dash_to_dash_matches_the_file_run(project_root, monkeypatch):
    monkeypatch.chdir(project_root)
    ingested = _ingested(project_root)
    (project_root / "articles.jsonl").write_text(ingested, encoding="utf-8")
    by_file = _invoke(["--root", str(project_root), "preannotate", "articles.jsonl", "--out", "pred.jsonl"])
    assert by_file.exit_code == 0, by_file.stderr
    piped = _invoke(["--root", str(project_root), "preannotate", "-", "--out", "-"], stdin=ingested)
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout == (project_root / "pred.jsonl").read_text(encoding="utf-8")
    assert not (project_root / "-").exists()  # once a file named '-' that a later `--pred -` scored
    assert "-> stdout" in piped.stderr


@pytest.mark.parametrize("which", ["--pred", "--gold"])
def test_evaluate_reads_either_side_from_stdin(tmp_path, which):
    pred = tmp_path / "pred.jsonl"
    gold_docs = [json.loads(line) for line in SEED_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    pred.write_text("".join(json.dumps({**d, "spans": d["spans"][::2], "relations": []}) + "\n" for d in gold_docs), encoding="utf-8")
    by_file = _invoke(["evaluate", "--gold", str(SEED_GOLD), "--pred", str(pred), "--json"])
    assert by_file.exit_code == 0, by_file.stderr
    piped_file = pred if which == "--pred" else SEED_GOLD
    other = ["--gold", str(SEED_GOLD)] if which == "--pred" else ["--pred", str(pred)]
    piped = _invoke(["evaluate", *other, which, "-", "--json"], stdin=piped_file.read_text(encoding="utf-8"))
    assert piped.exit_code == 0, piped.stderr
    assert json.loads(piped.stdout) == json.loads(by_file.stdout)
    assert json.loads(piped.stdout)["exact"]["overall"]["recall"] < 1.0


def test_evaluate_refuses_stdin_for_both_sides():
    result = _invoke(["evaluate", "--gold", "-", "--pred", "-"], stdin="")
    assert result.exit_code != 0
    assert "standard input can be only one of them" in result.stderr


def test_the_shell_pipeline_scores_like_the_file_run(tmp_path):
    """Exactly the issue's pipeline, with the installed command, against the file-based run."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    pipe = subprocess.run(f"{ANNOTATE} ingest seeds | {ANNOTATE} preannotate - --out - | "
                          f"{ANNOTATE} evaluate --gold guidelines/seed-gold.jsonl --pred - --json",
                          shell=True, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
                          executable="/bin/bash")
    assert pipe.returncode == 0, pipe.stderr
    pred = tmp_path / "pred.jsonl"
    subprocess.run([str(ANNOTATE), "preannotate", "seeds", "--out", str(pred)], cwd=PROJECT_ROOT, env=env,
                   check=True, capture_output=True, timeout=300)
    by_file = subprocess.run([str(ANNOTATE), "evaluate", "--gold", str(SEED_GOLD), "--pred", str(pred), "--json"],
                             cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, text=True, timeout=120)
    piped = json.loads(pipe.stdout)  # stdout is the report alone: logs and bars went to stderr
    assert piped == json.loads(by_file.stdout)
    assert piped["documents"]["matched"] == piped["documents"]["gold"] > 0
    assert "\r" not in pipe.stderr  # no progress-bar residue when stderr is not a terminal


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_root_means_the_same_before_and_after_the_command(tmp_path, monkeypatch, before):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "story.txt").write_text(TEXT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    command = ["ingest", "sub/story.txt"]
    args = ["--root", "sub", *command] if before else [*command, "--root", "sub"]
    result = _invoke(args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["meta"]["source_file"] == "story.txt"  # relative to the root, not the cwd


def test_options_after_the_command_win_over_those_before(monkeypatch):
    seen = {}

    def fake_pull(settings, _archive_only, _progress, full=False):  # the settings the command would pull with, and stop there
        seen.update(url=settings.label_studio_url, key=settings.label_studio_api_key)
        raise SystemExit(0)

    monkeypatch.setattr(pipeline, "pull_and_export", fake_pull)
    result = CliRunner().invoke(main, ["--url", "http://127.0.0.1:1", "pull", "--url", "http://127.0.0.1:2",
                                       "--api-key", "after"])
    assert result.exit_code == 0, result.output
    assert seen == {"url": "http://127.0.0.1:2", "key": "after"}


def test_shared_options_reach_subgroup_commands():
    result = CliRunner().invoke(main, ["dashboard", "status", "--help"])
    assert all(opt in result.stdout for opt in ("--root", "--url", "--api-key", "--verbose"))


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_verbose_after_the_command_logs_decisions(tmp_path, caplog, root_logger_level, before):
    story = tmp_path / "story.txt"
    story.write_text(TEXT, encoding="utf-8")
    command = ["--root", str(tmp_path), "ingest", str(story), str(story)]
    result = _invoke(["-v", *command] if before else [*command, "-v"])
    assert result.exit_code == 0
    assert any("repeats" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


def test_no_verbose_no_info_lines(tmp_path, caplog, root_logger_level):
    logging.getLogger().setLevel(logging.WARNING)
    story = tmp_path / "story.txt"
    story.write_text(TEXT, encoding="utf-8")
    _invoke(["--root", str(tmp_path), "ingest", str(story), str(story)])
    assert not [r for r in caplog.records if r.levelno == logging.INFO and r.name.startswith("annotate")]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "shown"), [(io.StringIO(), False), (_Tty(), True)], ids=["pipe", "terminal"])
def test_progress_bars_only_on_a_terminal(monkeypatch, stream, shown):
    monkeypatch.setattr(sys, "stderr", stream)
    advance = progress("pull", -1)
    advance(3)
    assert ("pull" in stream.getvalue()) is shown


def test_progress_skips_a_handful_even_on_a_terminal(monkeypatch):
    stream = _Tty()
    monkeypatch.setattr(sys, "stderr", stream)
    progress("push", 3)(3)
    assert stream.getvalue() == ""


def test_preannotation_advances_a_bar_with_its_total(project_root):
    calls: list[tuple[str, int]] = []
    steps: list[int] = []

    def recorder(desc: str, total: int):
        calls.append((desc, total))
        return steps.append

    settings = load_settings({}, env={}, root=project_root)
    docs, _ = pipeline.preannotate_inputs(settings, [project_root / "seeds"], progress=recorder)
    assert calls == [("preannotate", len(docs))] and len(docs) == 5
    assert sum(steps) == len(docs)


@pytest.mark.integration
def test_push_and_pull_log_their_decisions_and_pull_bar_has_a_total(live_server, project_root, caplog,
                                                                    root_logger_level):
    (project_root / "annotate.toml").write_text('project_title = "shell-verbose"\n', encoding="utf-8")
    docs = project_root / "pre.jsonl"
    docs.write_text("".join(json.dumps(Document(f"d{i}", f"ISIL fighters left town {i}.",
                                                (Span(0, 4, "ACTOR", "ISIL", 0.9, "model"),), {}, "v1").to_dict())
                            + "\n" for i in range(3)), encoding="utf-8")
    # Every shared option after the command name.
    result = CliRunner().invoke(main, ["push", "--preannotated", str(docs), "-v", "--root", str(project_root),
                                       "--url", live_server.url, "--api-key", live_server.token])
    assert result.exit_code == 0, result.output
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("annotate.pipeline")]
    assert any("3 task(s) created, 0 skipped" in m for m in messages), messages
    calls: list[tuple[str, int]] = []
    pipeline.pull(live_server.settings(root=project_root),
                  lambda desc, total: calls.append((desc, total)) or (lambda _n: None))
    assert calls == [("pull", 3)]
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("annotate.pipeline")]
    assert any(m.startswith("pull: project") and "holds 3 task(s)" in m for m in messages), messages
    assert any(m.startswith("pull: new archive") for m in messages), messages


def _shared_tasks(n: int):
    from agreement_fixtures import ACTOR, IDLIB, annotation, task

    return [task(i, (annotation(i, "amal", (ACTOR, IDLIB)), annotation(i, "bilal", (ACTOR,)))) for i in range(1, n + 1)]


def test_agreement_report_advances_progress_once_per_stage(project_root):
    from annotate.agreement.report import REPORT_STEPS, agreement_report
    from annotate.schema import load_schema

    steps: list[int] = []
    agreement_report(_shared_tasks(3), load_schema(project_root / "guidelines"), bootstrap=10,
                     progress=steps.append)
    assert sum(steps) == len(steps) == REPORT_STEPS


@pytest.mark.parametrize(("n_tasks", "total"), [(25, 5), (3, 0)])
def test_agreement_command_shows_a_bar_for_enough_tasks(project_root, monkeypatch, n_tasks, total):
    import annotate.cli.agreement as cli_agreement

    calls: list[tuple[str, int]] = []
    steps: list[int] = []
    source = pipeline.TaskSource(_shared_tasks(n_tasks), [], project_root / "exports" / "raw" / "x.json")
    monkeypatch.setattr(pipeline, "read_tasks", lambda *_args: source)
    monkeypatch.setattr(cli_agreement, "progress",
                        lambda desc, n, **_kw: calls.append((desc, n)) or steps.append)
    result = _invoke(["--root", str(project_root), "agreement", "--bootstrap", "10", "--json"])
    assert result.exit_code == 0, result.stderr
    assert calls == [("agreement", total)]
    assert json.loads(result.stdout)["data"]["n_tasks"] == n_tasks  # stdout is the report alone


@pytest.mark.integration
def test_push_dash_reads_articles_from_stdin(live_server, project_root):
    (project_root / "annotate.toml").write_text('project_title = "shell-stdin"\n', encoding="utf-8")
    articles = "".join(json.dumps({"id": f"s{i}", "text": f"Rebels shelled Idlib on day {i}."}) + "\n" for i in range(2))
    result = CliRunner().invoke(main, ["push", "-", "--root", str(project_root), "--url", live_server.url,
                                       "--api-key", live_server.token], input=articles)
    assert result.exit_code == 0, result.output
    assert "2 task(s) created" in result.stdout
