"""The shell: `--json` reports, `pull --archive-only`, `export --out DIR`, a whole-page `guidelines --html`, completion."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from gold_fixtures import TEXT, project
from test_gold_cli import ls_export

from annotate.cli import main
from annotate.config import load_settings
from annotate.labelstudio.client import connect
from annotate.labelstudio.project import find_project
from annotate.procs import free_port
from annotate.procs.dashboard import start_dashboard, stop_dashboard
from annotate.records import Document, Span

ROOT = Path(__file__).resolve().parent.parent
NO_SERVER = {"LABEL_STUDIO_URL": None, "LABEL_STUDIO_API_KEY": None, "ANNOTATE_PROJECT_TITLE": None}


def run(root: Path, *args: str, env: dict | None = None):
    # Click 8.2+ keeps stderr apart from stdout in `result.stdout`, so "nothing else on stdout" is checkable.
    return CliRunner().invoke(main, ["--root", str(root), *args], env={**NO_SERVER, **(env or {})},
                              catch_exceptions=False)


def one_object(result) -> dict:
    """stdout is exactly one JSON object (one line), with the report version and command."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    body = json.loads(lines[0])
    assert body["report_version"] == 2
    return body


@pytest.fixture
def exported(tmp_path):
    project(tmp_path)
    path = tmp_path / "project-1.json"
    path.write_text(json.dumps(ls_export()), encoding="utf-8")
    return tmp_path, path


def test_export_json_is_the_summary_as_one_object(exported):
    root, path = exported
    result = run(root, "export", "--from-export", str(path), "--json")
    assert result.exit_code == 0, result.output
    body = one_object(result)
    assert body["command"] == "export"
    assert body["counts"]["documents"] == {"train": 1, "dev": 0} and body["counts"]["spans"] == 1
    assert body["counts"]["open_disagreements"] == 1
    assert Path(body["folder"]) == (root / "exports" / "gold" / "latest").resolve() and body["quality_gate"] is None
    assert "reading project-1.json" in result.stderr  # the note stays on stderr


def test_export_json_on_a_failed_quality_gate_still_reports_the_build(exported):
    root, path = exported
    result = run(root, "export", "--from-export", str(path), "--min-agreement", "0.9", "--json")
    assert result.exit_code == 3
    body = one_object(result)
    assert "agreement 0.667 is below --min-agreement 0.9" in body["quality_gate"]
    assert Path(body["folder"]).is_dir() and body["agreement"] == pytest.approx(2 / 3)
    assert result.stderr.startswith("reading ") and "Error: quality gate failed" in result.stderr


def test_export_out_writes_there_and_leaves_latest_alone(exported, tmp_path_factory):
    root, path = exported
    first = run(root, "export", "--from-export", str(path))
    latest = (root / "exports" / "gold" / "latest").resolve()
    before = sorted(p.name for p in (root / "exports" / "gold").iterdir())
    out = tmp_path_factory.mktemp("elsewhere") / "gold"
    result = run(root, "export", "--from-export", str(path), "--out", str(out), "--json")
    assert first.exit_code == 0 and result.exit_code == 0, result.output
    assert Path(one_object(result)["folder"]) == out
    assert (out / "gold.jsonl").read_text() == (latest / "gold.jsonl").read_text()
    assert sorted(p.name for p in (root / "exports" / "gold").iterdir()) == before
    assert (root / "exports" / "gold" / "latest").resolve() == latest
    # A second export into the same folder replaces the earlier one; nothing is left beside it.
    (out / "stale.txt").write_text("from before")
    again = run(root, "export", "--from-export", str(path), "--out", str(out))
    assert again.exit_code == 0, again.output
    assert not (out / "stale.txt").exists() and (out / "manifest.json").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["gold"]


def test_export_out_accepts_an_empty_folder(exported):
    root, path = exported
    out = root / "empty"
    out.mkdir()
    result = run(root, "export", "--from-export", str(path), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "gold.jsonl").exists() and not (root / "exports" / "gold" / "latest").exists()


@pytest.mark.parametrize("where", ["mine", "content-addressed"])
def test_export_out_refuses_a_folder_that_is_not_an_export(exported, where):
    root, path = exported
    out = root / "mine" if where == "mine" else root / "exports" / "gold" / "x"
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("keep me")
    result = run(root, "export", "--from-export", str(path), "--out", str(out))
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"Error: --out {out}: ")
    assert (out / "notes.txt").read_text() == "keep me"
    assert not (root / "exports" / "gold" / "latest").exists()


def test_guidelines_json_and_a_whole_html_page(tmp_path):
    shutil.copytree(ROOT / "guidelines", tmp_path / "guidelines")
    page = tmp_path / "guidelines.html"
    result = run(tmp_path, "guidelines", "--json", "--html", str(page))
    assert result.exit_code == 0, result.output
    body = one_object(result)
    assert body["command"] == "guidelines" and body["consistent"] is True and body["html"] == str(page)
    assert "ACTOR" in body["labels"] and body["guidelines_version"]
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>\n<html lang=\"en\">")
    assert '<meta charset="utf-8">' in html and "<style>" in html and html.rstrip().endswith("</html>")
    assert f"<title>Annotation guidelines {body['guidelines_version']}</title>" in html
    assert '<p class="guidelines-version">' in html.split("<body>")[1]


def test_status_json_when_nothing_runs(tmp_path):
    server = run(tmp_path, "server", "status", "--json")
    board = run(tmp_path, "dashboard", "status", "--json")
    assert (server.exit_code, board.exit_code) == (1, 1)
    s, b = one_object(server), one_object(board)
    assert (s["command"], s["running"], s["pid"], s["url"]) == ("server status", False, None, None)
    assert s["data"].endswith("label-studio-data") or Path(s["data"]).is_relative_to(tmp_path)
    assert (b["command"], b["running"], b["pid"]) == ("dashboard status", False, None)
    assert Path(b["log"]).is_relative_to(tmp_path)


@pytest.mark.integration
def test_server_status_json_of_a_running_server(live_server):
    result = run(live_server.root, "server", "status", "--json")
    assert result.exit_code == 0, result.output
    body = one_object(result)
    assert body["running"] is True and body["healthy"] is True and body["url"] == live_server.url
    assert isinstance(body["pid"], int) and isinstance(body["port"], int)


def test_dashboard_status_json_of_a_running_dashboard(project_root):
    settings = load_settings({"dashboard_port": free_port()}, env={}, root=project_root)
    info = start_dashboard(settings)
    try:
        result = run(project_root, "dashboard", "status", "--json",
                     env={"ANNOTATE_DASHBOARD_PORT": str(settings.dashboard_port)})
    finally:
        assert stop_dashboard(settings) == info.pid
    assert result.exit_code == 0, result.output
    body = one_object(result)
    assert (body["running"], body["pid"], body["url"], body["healthy"]) == (True, info.pid, info.url, True)
    assert body["log"] == str(info.log)


def test_ingest_json_reports_on_stdout_when_the_articles_go_to_a_file(tmp_path):
    (tmp_path / "in").mkdir()
    article = "Rebels seized the town of Saraqeb on Monday after a week of fighting, residents said.\n"
    (tmp_path / "in" / "a.txt").write_text(article, encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_text(article, encoding="utf-8")
    (tmp_path / "in" / "c.txt").write_text("", encoding="utf-8")
    out = tmp_path / "articles.jsonl"
    result = run(tmp_path, "ingest", str(tmp_path / "in"), "--out", str(out), "--json")
    assert result.exit_code == 1  # c.txt is rejected; the rest is written and reported
    body = one_object(result)
    assert (body["command"], body["out"], body["accepted"]) == ("ingest", str(out), 1)
    assert len(body["rejected"]) == 1 and "c.txt" in body["rejected"][0]
    [dup] = body["duplicates"]
    assert dup["first"].endswith("a.txt") and dup["duplicate"].endswith("b.txt")
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    assert "1 article(s) accepted" in result.stderr  # the text summary stays on stderr


def test_ingest_json_to_stdout_is_refused_before_reading(tmp_path):
    result = run(tmp_path, "ingest", str(tmp_path / "missing.txt"), "--json")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == "Error: --json needs --out FILE: with --out - the articles themselves go to stdout"


def test_bash_completion_script_and_completions():
    script = CliRunner().invoke(main, [], prog_name="annotate", env={"_ANNOTATE_COMPLETE": "bash_source"})
    assert "_annotate_completion" in script.output and "complete -o nosort -F" in script.output
    words = CliRunner().invoke(main, [], prog_name="annotate",
                               env={"_ANNOTATE_COMPLETE": "bash_complete", "COMP_WORDS": "annotate pu",
                                    "COMP_CWORD": "1"})
    assert {line.split(",")[-1] for line in words.output.splitlines()} >= {"pull", "push"}


# Push and pull against a real Label Studio.

def _doc(doc_id: str) -> Document:
    return Document(doc_id, TEXT, (Span(0, 6, "ACTOR", "Rebels", 0.9, "rule:group"),), {"title": doc_id}, "v1")


@pytest.fixture
def synced(live_server, request, tmp_path):
    root = tmp_path / "project"
    shutil.copytree(ROOT / "guidelines", root / "guidelines")
    env = {"LABEL_STUDIO_URL": live_server.url, "LABEL_STUDIO_API_KEY": live_server.token,
           "ANNOTATE_PROJECT_TITLE": f"json-{request.node.name}"[:50]}
    docs = root / "docs.jsonl"
    docs.write_text("".join(json.dumps(_doc(i).to_dict()) + "\n" for i in ("a", "b")), encoding="utf-8")
    return root, env, docs


@pytest.mark.integration
def test_push_json_then_pull_json_with_and_without_gold(synced, live_server):
    root, env, docs = synced
    pushed = run(root, "push", "--preannotated", str(docs), "--json", env=env)
    assert pushed.exit_code == 0, pushed.output
    body = one_object(pushed)
    assert (body["command"], body["created"], body["skipped"], body["rejected"]) == ("push", 2, 0, [])
    assert body["project"]["url"].startswith(live_server.url) and body["duplicates"] == {}
    assert body["project"]["created"] is True and body["project"]["changes"] == [] and "model_version" in body
    again = one_object(run(root, "push", "--preannotated", str(docs), "--json", env=env))
    assert (again["created"], again["skipped"], again["project"]["id"]) == (0, 2, body["project"]["id"])
    assert (again["project"]["created"], again["project"]["changes"], again["model_version"]) == (False, [], None)

    archived = run(root, "pull", "--archive-only", "--json", env=env)
    assert archived.exit_code == 0, archived.output
    first = one_object(archived)
    assert (first["command"], first["tasks"], first["annotations"], first["gold"]) == ("pull", 2, 0, None)
    assert Path(first["archive"]).exists() and first["quarantined"] == []

    settings = load_settings({"label_studio_url": live_server.url, "label_studio_api_key": live_server.token,
                              "project_title": env["ANNOTATE_PROJECT_TITLE"]}, env={}, root=root)
    conn = connect(settings)
    task = next(iter(conn.sdk.tasks.list(project=find_project(conn, settings))))
    result = [{"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
               "value": {"start": 0, "end": 6, "text": "Rebels", "labels": ["ACTOR"]}}]
    conn.sdk.annotations.create(id=task.id, result=result)
    text = run(root, "pull", "--archive-only", env=env)
    assert text.exit_code == 0 and "no gold written" in text.stdout
    assert not (root / "exports" / "gold").exists()  # the archive only: no gold folder at all

    full = one_object(run(root, "pull", "--json", env=env))
    assert full["annotations"] == 1 and full["unchanged_since"] is not None  # nothing changed since the text pull
    assert full["gold"]["counts"]["spans"] == 1
    assert Path(full["gold"]["folder"]) == (root / "exports" / "gold" / "latest").resolve()
