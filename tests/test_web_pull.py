"""The dashboard's Pull button against a real Label Studio: it writes exports/raw/ and exports/gold/ as `annotate pull`
does (one pipeline function, pipeline.pull_and_export), and shows the lines the command prints."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import link_project_files
from web_fixtures import APP_CONFIG, LEAD, login, page_token

from annotate import pipeline
from annotate.cli import main
from annotate.labelstudio.client import connect
from annotate.labelstudio.project import find_project
from annotate.records import Document
from annotate.web import create_app
from annotate.web.users import ensure_users

pytestmark = pytest.mark.integration

TITLE = "t-web-pull"
TEXTS = {"wp-1": "Rebels seized Idlib on Tuesday.", "wp-2": "Soldiers withdrew from Homs."}


def _region(text: str, phrase: str, label: str, rid: str) -> dict:
    start = text.index(phrase)
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]}}


def _user(conn, email: str) -> int:
    for user in conn.sdk.users.list():
        if user.email == email:
            return int(user.id)
    return int(conn.sdk.users.create(username=email.split("@")[0], email=email, password="pw-annotate-1").id)


def _project(live_server, root: Path) -> None:
    """Two articles: one annotated by two annotators who disagree on a span, the other by one (and by a second whose
    annotation does not fit its text)."""
    settings = live_server.settings(root=root, project_title=TITLE)
    pipeline.push(settings, [Document(doc_id, text, (), {"title": doc_id}) for doc_id, text in TEXTS.items()])
    conn = connect(settings)
    tasks = {t.data["doc_id"]: t.id for t in conn.sdk.tasks.list(project=find_project(conn, settings))}
    amal, bilal = _user(conn, "amal@example.org"), _user(conn, "bilal@example.org")
    text = TEXTS["wp-1"]
    conn.sdk.annotations.create(id=tasks["wp-1"], completed_by=amal,
                                result=[_region(text, "Rebels", "ACTOR", "a"), _region(text, "Idlib", "LOCATION", "l")])
    conn.sdk.annotations.create(id=tasks["wp-1"], completed_by=bilal,
                                result=[_region(text, "Rebels", "ACTOR", "a"),
                                        _region(text, "Idlib on", "LOCATION", "l")])
    text = TEXTS["wp-2"]
    conn.sdk.annotations.create(id=tasks["wp-2"], completed_by=amal, result=[_region(text, "Soldiers", "ACTOR", "s")])
    misfit = _region(text, "Homs", "LOCATION", "m")
    misfit["value"]["text"] = "Hama"  # not the text at those offsets: quarantined, named by task and annotator
    conn.sdk.annotations.create(id=tasks["wp-2"], completed_by=bilal, result=[misfit])


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name -> bytes), and where each symlink points."""
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    links = {p.relative_to(folder).as_posix(): str(p.readlink()).encode() for p in folder.rglob("*") if p.is_symlink()}
    return {**files, **links}


def test_pull_button_writes_the_files_annotate_pull_writes(live_server, tmp_path, monkeypatch):
    """Two project folders on the same project: `annotate pull` in one, the Pull button in the other. Same files
    under exports/ (byte for byte), and the page shows the lines the command printed (warnings as warnings)."""
    from annotate.labelstudio.archive import raw_dir

    # The archive is named after the second it was written in; the gold names its source archive. One name for
    # both pulls, so the files can be compared byte for byte.
    monkeypatch.setattr(pipeline.sync, "archive_name",
                        lambda settings, project_id: raw_dir(settings) / f"project-{project_id}-20260101T000000Z.json")
    by_cli, by_web = link_project_files(tmp_path / "cli"), link_project_files(tmp_path / "web")
    for root in (by_cli, by_web):
        (root / "annotate.toml").write_text(f'leads = ["{LEAD}"]\nproject_title = "{TITLE}"\n', encoding="utf-8")
    _project(live_server, by_cli)
    env = {"LABEL_STUDIO_URL": live_server.url, "LABEL_STUDIO_API_KEY": live_server.token}
    printed = CliRunner().invoke(main, ["--root", str(by_cli), "pull"], env=env)
    assert printed.exit_code == 0, printed.output

    settings = live_server.settings(root=by_web, project_title=TITLE, leads=(LEAD,))
    # In this process: the archive name patched above must apply (the dashboard's worker would not see it)
    client = create_app(settings, {**APP_CONFIG, "ISOLATE_WORK": False}).test_client()
    assert login(client, LEAD, ensure_users(settings)[LEAD]).status_code == 302
    response = client.post("/pull", data={"csrf_token": page_token(client)}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)

    written, pressed = _tree(by_cli / "exports"), _tree(by_web / "exports")
    assert any(name.startswith("gold/") and name.endswith("/gold.jsonl") for name in written), sorted(written)
    assert "gold/latest" in written and any(name.endswith(".quarantine.jsonl") for name in written), sorted(written)
    assert sorted(pressed) == sorted(written)
    assert [name for name in written if pressed[name] != written[name]] == []

    flashes = [(kind, html.unescape(text).replace(str(by_web), str(by_cli)))
               for kind, text in re.findall(r'<p class="flash (ok|warning)">(.*?)</p>', page, re.S)]
    assert flashes == [("ok", line) for line in printed.stdout.splitlines()[:1]] + \
        [("warning", line) for line in printed.stderr.splitlines()] + \
        [("ok", line) for line in printed.stdout.splitlines()[1:]]
    assert any("gold dataset -> " in text for _, text in flashes) and "Data: project-" in page

    # The pull also wrote the dashboard's summary of its archive: a dashboard started on the CLI's folder opens
    # it at once and never reads the project itself (the executor that would do so refuses).
    from concurrent.futures import Executor

    from annotate.web.store import DataStore

    class Refusing(Executor):
        def submit(self, *args, **kwargs):  # type: ignore[override]
            raise AssertionError("the dashboard summarised the archive itself")

    cli_settings = live_server.settings(root=by_cli, project_title=TITLE, leads=(LEAD,))
    view = DataStore(cli_settings, executor=Refusing()).snapshot()
    assert view.n_tasks == 2 and view.meta("tasks") == 2 and view.quarantined == 1
    assert sorted(p.name for p in (by_cli / ".annotate" / "summary").iterdir()) == [f"{view.archive.name}.sqlite"]


def test_the_pull_button_pulls_in_a_worker_process(live_server, tmp_path, monkeypatch):
    """By default the pull (which reads every task and builds the gold) runs in the dashboard's worker process: the
    refusing stand-in patched into this process is never called, and the page still shows what the pull said."""
    root = link_project_files(tmp_path / "worker")
    (root / "annotate.toml").write_text(f'leads = ["{LEAD}"]\nproject_title = "{TITLE}-w"\n', encoding="utf-8")
    settings = live_server.settings(root=root, project_title=f"{TITLE}-w", leads=(LEAD,))
    pipeline.push(settings, [Document("w-1", TEXTS["wp-1"], (), {"title": "w-1"})])

    def refuse(*args, **kwargs):
        raise AssertionError("the dashboard process pulled itself")
    monkeypatch.setattr(pipeline.sync, "pull_and_export", refuse)
    client = create_app(settings, APP_CONFIG).test_client()
    assert login(client, LEAD, ensure_users(settings)[LEAD]).status_code == 302
    page = client.post("/pull", data={"csrf_token": page_token(client)}, follow_redirects=True)
    assert page.status_code == 200 and "pulled 1 task" in html.unescape(page.get_data(as_text=True)), page.get_data(
        as_text=True)[-3000:]
    assert list((root / "exports" / "raw").glob("project-*.json")) and (root / ".annotate" / "summary").is_dir()
