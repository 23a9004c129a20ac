"""Dashboard documents, adjudication, escaping, exports and downloads."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from web_fixtures import TEXT2, page_token

from annotate.web import documents


def _text(response) -> str:
    return response.get_data(as_text=True)


def _task_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr><td class="n"><a href="/documents/(\d+)"', html)]


def _decide(client: FlaskClient, task_id: int, action: str, start: int, end: int, label: str, **extra: str):
    data = {"action": action, "start": str(start), "end": str(end), "label": label,
            "csrf_token": page_token(client, f"/documents/{task_id}"), **extra}
    return client.post(f"/documents/{task_id}/decide", data=data)


def _gold_column(html: str) -> str:
    return html.split('<article class="column gold">')[1].split("</article>")[0]


def _log(settings) -> list[dict]:
    path = settings.exports_dir / "decisions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --- the list -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), [
    ("", [1, 2, 3, 4]),                       # worst first: F1 0.4, 1.0, then unmeasured by id
    ("?sort=id", [1, 2, 3, 4]),
    ("?label=OUTCOME", [1]),
    ("?label=ACTOR&annotator=bilal@example.org", [1, 2]),
    ("?annotator=amal@example.org&sort=open", [1, 2, 3]),
    ("?open=1", [1]),
    ("?label=NOPE", []),
])
def test_document_list_sorts_and_filters(logged_in: FlaskClient, query: str, expected: list[int]) -> None:
    assert _task_ids(_text(logged_in.get("/documents/" + query))) == expected


def test_worst_first_puts_the_lowest_f1_on_top(tmp_path) -> None:
    from annotate.web.data import Index

    # tasks 1-4: exact F1 0.9, none, 0.1, 0.1 with two open disagreements
    index = Index({"task_id": [1, 2, 3, 4], "completed": [2] * 4, "status": ["majority"] * 4,
                   "n_open": [0, 0, 0, 2], "overlapping": [0] * 4, "token_alpha": [None] * 4,
                   "exact_f1": [0.9, None, 0.1, 0.1], "annotators": [[]] * 4, "labels": [[]] * 4})
    assert list(index.select()) == [4, 3, 1, 2]


def test_document_list_paginates(logged_in: FlaskClient, monkeypatch) -> None:
    monkeypatch.setattr(documents, "PAGE_SIZE", 3)
    first, second = _text(logged_in.get("/documents/")), _text(logged_in.get("/documents/?page=2"))
    assert _task_ids(first) == [1, 2, 3] and _task_ids(second) == [4]
    assert "page 2 / 2" in second and "?page=1" in second
    assert _task_ids(_text(logged_in.get("/documents/?page=99"))) == [4]  # clamped to the last page


# --- one document ----------------------------------------------------------------------------------------

def test_document_shows_every_version_side_by_side(logged_in: FlaskClient) -> None:
    html = _text(logged_in.get("/documents/1"))
    titles = re.findall(r'<article class="column (\w+)">\s*<h3>([^<]+?) <span', html)
    assert titles == [("annotator", "amal@example.org"), ("annotator", "bilal@example.org"),
                      ("prediction", "model m1"), ("gold", "gold")]


def test_document_marks_spans_not_everyone_marked(logged_in: FlaskClient) -> None:
    html = _text(logged_in.get("/documents/1"))
    # bilal's "Idlib on" differs from amal's "Idlib": both dashed; "Rebels" is shared, not dashed
    assert re.search(r'<mark class="diff"[^>]*title="LOCATION 14–22">Idlib', html)
    assert re.search(r'<mark class=""[^>]*title="ACTOR 0–6">Rebels<sub>ACTOR</sub>', html)


def test_document_links_to_label_studio(logged_in: FlaskClient) -> None:
    assert 'href="http://127.0.0.1:8089/projects/7/data?task=1"' in _text(logged_in.get("/documents/1"))


def test_document_lists_open_disagreements(logged_in: FlaskClient) -> None:
    html = _text(logged_in.get("/documents/1"))
    assert re.findall(r'data-span="([^"]+)"', html) == ["7-13-OUTCOME", "14-19-LOCATION", "14-22-LOCATION"]


@pytest.mark.parametrize("path", ["/documents/2", "/documents/?sort=id"])
def test_article_text_is_escaped(logged_in: FlaskClient, path: str) -> None:
    html = _text(logged_in.get(path))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_annotator_note_is_escaped(logged_in: FlaskClient) -> None:
    _decide(logged_in, 1, "accept", 7, 13, "OUTCOME", note="<img src=x onerror=alert(1)>")
    html = _text(logged_in.get("/documents/1"))
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# --- decisions -------------------------------------------------------------------------------------------

def test_accept_is_logged_and_shows_in_gold(logged_in: FlaskClient, settings) -> None:
    response = _decide(logged_in, 1, "accept", 7, 13, "OUTCOME")
    assert response.status_code == 302
    assert [(d["action"], d["span"]["text"], d["by"]) for d in _log(settings)] == [("accept", "seized", "lead@example.org")]
    html = _text(logged_in.get("/documents/1"))
    gold = _gold_column(html)
    assert re.search(r'<mark class="decided"[^>]*title="OUTCOME 7–13">seized', gold)
    assert re.findall(r'data-span="([^"]+)"', html) == ["14-19-LOCATION", "14-22-LOCATION"]
    # one of three disagreements decided: the task is not adjudicated yet
    assert "Status <b>in adjudication (2 open)</b>" in html
    assert '<td class="status in_adjudication">in adjudication (2 open)</td>' in _text(logged_in.get("/documents/"))


def test_task_is_adjudicated_once_nothing_is_open(logged_in: FlaskClient) -> None:
    _decide(logged_in, 1, "choose", 14, 19, "LOCATION")
    _decide(logged_in, 1, "reject", 7, 13, "OUTCOME")
    assert "Status <b>adjudicated</b>" in _text(logged_in.get("/documents/1"))
    assert '<td class="status adjudicated">adjudicated</td>' in _text(logged_in.get("/documents/"))
    assert re.search(r"<b>1</b><span>adjudicated", _text(logged_in.get("/")))


def test_reject_removes_the_disagreement(logged_in: FlaskClient, settings) -> None:
    _decide(logged_in, 1, "reject", 7, 13, "OUTCOME")
    html = _text(logged_in.get("/documents/1"))
    assert "seized</mark>" not in _gold_column(html)
    assert "7-13-OUTCOME" not in html


def test_choose_accepts_one_version_and_rejects_its_rival(logged_in: FlaskClient, settings) -> None:
    _decide(logged_in, 1, "choose", 14, 19, "LOCATION")
    assert [(d["action"], d["span"]["start"], d["span"]["end"]) for d in _log(settings)] == \
        [("accept", 14, 19), ("reject", 14, 22)]
    html = _text(logged_in.get("/documents/1"))
    assert re.findall(r'data-span="([^"]+)"', html) == ["7-13-OUTCOME"]
    gold = _gold_column(html)
    assert re.search(r'<mark class="decided"[^>]*title="LOCATION 14–19">Idlib<sub>', gold) and "14–22" not in gold


def test_decision_updates_overview_counts(logged_in: FlaskClient) -> None:
    _decide(logged_in, 1, "choose", 14, 19, "LOCATION")
    html = _text(logged_in.get("/"))
    # seized OUTCOME is still open: decided in part, not adjudicated
    assert re.search(r"<b>0</b><span>adjudicated", html) and re.search(r"<b>1</b><span>in adjudication", html)
    assert re.search(r"<b>1</b><span>open disagreements", html)


def test_decisions_follow_the_article_not_the_task_id(logged_in: FlaskClient, settings) -> None:
    """A log from a project whose task ids meant other articles: art1 was task 99, art3 was task 1."""
    def line(task_id: int, article: str, start: int, end: int, label: str, text: str, action: str) -> str:
        return json.dumps({"task_id": task_id, "article_id": article, "action": action, "by": "lead@example.org",
                           "span": {"start": start, "end": end, "label": label, "text": text}, "new": None,
                           "at": "2025-01-05T00:00:00Z", "guideline_version": "1.1.0", "note": None}) + "\n"
    (settings.exports_dir / "decisions.jsonl").write_text(
        line(99, "art1", 7, 13, "OUTCOME", "seized", "reject") + line(1, "art3", 0, 8, "ACTOR", "Soldiers", "reject"))
    one, three = _text(logged_in.get("/documents/1")), _text(logged_in.get("/documents/3"))
    decided = one.split("<h2>Decisions on this task</h2>")[1]
    assert "<q>seized</q> OUTCOME 7–13" in decided and "Soldiers" not in decided
    assert "7-13-OUTCOME" not in one.split('<section id="disagreements">')[1].split("</section>")[0]
    assert "Status <b>in adjudication (2 open)</b>" in one
    assert "<q>Soldiers</q> ACTOR 0–8" in three.split("<h2>Decisions on this task</h2>")[1]
    assert "Soldiers</mark>" not in _gold_column(three) and "Status <b>adjudicated</b>" in three


@pytest.mark.parametrize(("action", "start", "end", "label", "message"), [
    ("reject", 0, 3, "ACTOR", "no annotation contains span 0-3 ACTOR"),
    ("accept", 0, 6, "WEAPON", "unknown label"),
    ("accept", 5, 500, "ACTOR", "out of range"),
    ("delete", 0, 6, "ACTOR", "is not one of accept, reject, choose"),
])
def test_invalid_decisions_are_refused_and_not_logged(logged_in: FlaskClient, settings, action: str, start: int,
                                                      end: int, label: str, message: str) -> None:
    response = _decide(logged_in, 1, action, start, end, label)
    assert response.status_code == 400
    assert message in _text(response)
    assert _log(settings) == []


def test_decision_by_someone_not_a_lead_is_refused(logged_in: FlaskClient, settings) -> None:
    token = page_token(logged_in, "/documents/1")
    with logged_in.session_transaction() as sess:
        sess["user"] = "intruder@example.org"
    response = logged_in.post("/documents/1/decide", data={"action": "accept", "start": "7", "end": "13",
                                                              "label": "OUTCOME", "csrf_token": token})
    # The login gate refuses it first now: the session's user no longer matches its server-side record.
    assert response.status_code == 403 and "Log in first" in _text(response)
    assert _log(settings) == []


# --- exports and downloads ---------------------------------------------------------------------------------

BUILD_MESSAGE: dict[int, str] = {}


@pytest.fixture
def built(logged_in: FlaskClient) -> FlaskClient:
    response = logged_in.post("/exports/build", data={"csrf_token": page_token(logged_in, "/exports")},
                              follow_redirects=True)
    assert response.status_code == 200, _text(response)
    BUILD_MESSAGE[id(logged_in)] = _text(response)
    return logged_in


def test_build_writes_gold_and_lists_its_files(built: FlaskClient, settings) -> None:
    html = _text(built.get("/exports"))
    assert (settings.exports_dir / "gold" / "latest" / "gold.jsonl").exists()
    for name in ("gold.jsonl", "train.spacy", "README.md", "manifest.json"):
        assert f'href="/exports/files/latest/{name}"' in html
    assert "Dataset card" in html and "<h1" in html.split("Dataset card")[1]


def test_build_reports_what_it_wrote(built: FlaskClient) -> None:
    # gold: Rebels (task 1, both), militants + Kabul (task 2), Soldiers (task 3, single); 3 still open on task 1
    message = re.search(r"Gold built in [0-9a-f]{16}: (\d+) train, (\d+) dev documents, (\d+) spans, (\d+) open",
                        BUILD_MESSAGE[id(built)])
    assert message
    train, dev, spans, open_ = map(int, message.groups())
    assert (train + dev, spans, open_) == (3, 4, 3)


def test_download_a_gold_file(built: FlaskClient) -> None:
    response = built.get("/exports/files/latest/gold.jsonl")
    assert response.status_code == 200
    ids = [json.loads(line)["id"] for line in response.get_data(as_text=True).splitlines()]
    assert ids == ["art1", "art2", "art3"]
    assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize("path", [
    "/exports/files/../decisions.jsonl",
    "/exports/files/..%2Fraw%2Fproject-7-20250102T120000Z.json",
    "/exports/files/latest/../../raw/project-7-20250102T120000Z.json",
    "/exports/files/%2Fetc%2Fpasswd",
    "/exports/files/latest/..%2F..%2F..%2F.annotate%2Fdashboard-users.json",
])
def test_downloads_cannot_leave_the_gold_folder(built: FlaskClient, settings, path: str) -> None:
    (settings.exports_dir / "decisions.jsonl").write_text("")
    response = built.get(path, follow_redirects=True)  # "//etc" is first merged to "/etc" by a 308
    assert response.status_code == 404
    assert "scrypt" not in _text(response) and "root:" not in _text(response)


def test_build_without_data_is_refused(logged_in: FlaskClient, settings) -> None:
    token = page_token(logged_in, "/exports")
    for path in (settings.exports_dir / "raw").iterdir():
        path.unlink()
    assert logged_in.post("/exports/build", data={"csrf_token": token}).status_code == 409


def test_document_text_reaches_the_gold_unchanged(built: FlaskClient) -> None:
    rows = [json.loads(line) for line in built.get("/exports/files/latest/gold.jsonl").get_data(as_text=True).splitlines()]
    assert rows[1]["text"] == TEXT2


def test_a_decision_made_with_the_cli_shows_at_once_and_after_a_restart(logged_in: FlaskClient, settings,
                                                                         password: str) -> None:
    """`annotate decide` writes the log beside a running dashboard: its next page rebuilds the gold row of that task
    only; a dashboard started afterwards on the summary written before the decision shows it too."""
    from click.testing import CliRunner
    from web_fixtures import APP_CONFIG, LEAD, login

    from annotate.cli import main
    from annotate.web import create_app

    assert "in adjudication" not in _text(logged_in.get("/documents/"))  # summary made, nothing decided
    done = CliRunner().invoke(main, ["decide", "--root", str(settings.root), "--task", "1", "--start", "7",
                                     "--end", "13", "--label", "OUTCOME", "--accept", "--by", LEAD])
    assert done.exit_code == 0, done.output
    expected = '<td class="status in_adjudication">in adjudication (2 open)</td>'
    assert expected in _text(logged_in.get("/documents/"))
    assert "Status <b>in adjudication (2 open)</b>" in _text(logged_in.get("/documents/1"))
    restarted = create_app(settings, APP_CONFIG).test_client()
    login(restarted, LEAD, password)
    assert expected in _text(restarted.get("/documents/"))
