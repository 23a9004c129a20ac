"""The ML backend connected to a real Label Studio: predictions on import, annotations through the webhook.

The backend runs in a thread on a free 127.0.0.1 port and serves a small model trained on the seed gold;
Label Studio (session fixture) is started with ML_BLOCK_LOCAL_IP=false and SSRF protection off. It connects
with basic auth, as a lead would: `ml.create(auth_method="BASIC_AUTH", basic_auth_user=..., basic_auth_pass=...)`
(label-studio-sdk 2.1.2). Label Studio 1.23.2 sends that login on /health, /setup, /predict and the
START_TRAINING /webhook call, but the project webhook it adds for the backend's /webhook (every project event)
is created without it: the test gives that webhook the Authorization header, as the README tells leads to.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import request as http_request
from werkzeug.serving import make_server

from annotate import pipeline
from annotate.labelstudio.client import connect
from annotate.mlbackend import create_backend
from annotate.mlbackend.credentials import ensure_credentials
from annotate.training.train import TrainOptions, train_model

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Jihadists on Friday withdrew from Saraqeb, their last bastion in Idlib province, a monitor said."


def _wait(what: str, check: Callable[[], object], timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A small model trained on the seed gold (about 15 s)."""
    from annotate.config import load_settings

    root = tmp_path_factory.mktemp("mlb-train")
    (root / "guidelines").symlink_to(ROOT / "guidelines", target_is_directory=True)
    settings = load_settings({}, env={}, root=root)
    return train_model(settings, ROOT / "guidelines" / "seed-gold.jsonl",
                       TrainOptions(max_steps=40, patience=40, eval_frequency=20)).folder


@pytest.fixture
def backend(live_server, project_root, model, request):
    """The backend app in a thread: (url, app, received webhook actions, training calls)."""
    settings = live_server.settings(root=project_root, project_title=f"mlb-{request.node.name}"[:50])
    trainings: list[float] = []

    def train(project_id: int) -> str:
        trainings.append(time.time())
        return str(model)

    app = create_backend(settings, model, retrain_every=1, train=train)
    received: list[dict] = []

    @app.after_request
    def record(response):  # after, so that requests the login refuses are recorded too, with their status
        received.append({"path": http_request.path, "json": http_request.get_json(silent=True),
                         "status": response.status_code, "auth": http_request.authorization is not None})
        return response

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield settings, f"http://127.0.0.1:{server.port}", app, received, trainings
    finally:
        server.shutdown()
        _wait_trainings(app)


@pytest.fixture
def connected(backend):
    """A project of our own with the backend connected through the SDK."""
    settings, url, app, received, trainings = backend
    conn, project = pipeline.open_project(settings)
    creds = ensure_credentials(settings)
    ml = conn.sdk.ml.create(url=url, project=project.id, title="annotate backend", is_interactive=False,
                            auth_method="BASIC_AUTH", basic_auth_user=creds.user, basic_auth_pass=creds.password)
    return conn, project.id, ml, app, received, trainings


def _wait_trainings(app, timeout: float = 120) -> None:
    for state in app.extensions["annotate_backend"]["projects"].all():
        assert state.retrainer.wait(timeout), f"project {state.id}: the retraining did not end in {timeout} s"


def _backend_webhook(conn, project_id: int, url: str):
    hooks = [h for h in conn.sdk.webhooks.list(project=str(project_id)) if h.url == f"{url}/webhook"]
    assert len(hooks) == 1, f"Label Studio made {len(hooks)} webhooks to {url}/webhook"
    return hooks[0]


@pytest.fixture
def authorised_webhook(connected, backend):
    """`connected`, with the Authorization header added to the project webhook Label Studio made for it."""
    conn, project_id, *_ = connected
    settings, url, *_ = backend
    hook = _backend_webhook(conn, project_id, url)
    assert not hook.headers, "Label Studio now copies the backend's login to its webhook: update the README"
    conn.sdk.webhooks.update(id=hook.id, headers={"Authorization": ensure_credentials(settings).header()})
    return connected


def _import(conn, project_id: int) -> int:
    result = conn.sdk.projects.import_tasks(id=project_id, request=[{"data": {"text": TEXT, "title": "t"}}],
                                            return_task_ids=True)
    return int(result.task_ids[0])


def test_label_studio_checks_health_and_setup_when_connecting(connected):
    _, _, ml, _, received, _ = connected
    calls = {r["path"]: (r["status"], r["auth"]) for r in received}
    assert calls["/health"] == (200, True) and calls["/setup"] == (200, True)
    assert ml.id is not None


def test_label_studio_without_the_login_cannot_connect(backend, live_server):
    settings, url, _, received, _ = backend
    conn, project = pipeline.open_project(settings)
    from label_studio_sdk.core.api_error import ApiError

    with pytest.raises(ApiError) as refused:  # Label Studio checks /health first and answers 400 to the create
        conn.sdk.ml.create(url=url, project=project.id, title="no login", is_interactive=False)
    assert refused.value.status_code == 400
    assert "authentication parameters were either not provided or are incorrect" in str(refused.value.body)
    assert received and all((r["status"], r["auth"]) == (401, False) for r in received)


@pytest.mark.parametrize("login", ["none", "wrong password"])
def test_start_training_without_the_right_login_starts_nothing(backend, login):
    """One unauthenticated POST /webhook used to start a pull, a gold export and a training."""
    import base64
    import urllib.error
    import urllib.request

    settings, url, app, received, trainings = backend
    headers = {"Content-Type": "application/json"}
    if login == "wrong password":
        creds = ensure_credentials(settings)
        headers["Authorization"] = "Basic " + base64.b64encode(f"{creds.user}:wrong".encode()).decode()
    body = json.dumps({"action": "START_TRAINING", "project": {"id": 1}}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(f"{url}/webhook", body, headers), timeout=10)
    assert refused.value.code == 401 and refused.value.headers["WWW-Authenticate"].startswith("Basic ")
    time.sleep(0.5)
    assert trainings == [] and not any(p.retrainer.runs for p in app.extensions["annotate_backend"]["projects"].all())


def test_imported_task_gets_a_prediction_from_the_served_model(connected, model):
    conn, project_id, _, app, _, _ = connected
    task_id = _import(conn, project_id)
    predictions = _wait("a prediction on the imported task",
                        lambda: conn.sdk.tasks.get(id=task_id).predictions)
    version = app.extensions["annotate_backend"]["projects"].get(project_id, "test").holder.get().model_version
    prediction = predictions[0]
    get = (lambda k: prediction.get(k)) if isinstance(prediction, dict) else (lambda k: getattr(prediction, k))
    assert get("model_version") == version and version.startswith(model.name + "+rules-")
    result = get("result")
    assert result, "the served model predicted no span on a sentence the rules alone cover"
    spans = [item for item in result if item["type"] == "labels"]
    assert spans, "the served model predicted no span on a sentence the rules alone cover"
    for item in spans:
        value = item["value"]
        assert TEXT[value["start"]:value["end"]] == value["text"]
        assert value["labels"][0] in ("ACTOR", "LOCATION", "OUTCOME")
    ids = {item["id"] for item in spans}
    assert len(result) > len(spans), "the served model proposed no relation for 'Jihadists ... withdrew from Saraqeb'"
    for item in result[len(spans):]:  # after the spans: the relations between them, pre-drawn for the annotator
        assert item["type"] == "relation" and {item["from_id"], item["to_id"]} <= ids and len(item["labels"]) == 1


def test_new_annotation_reaches_the_webhook_and_starts_a_retraining(authorised_webhook):
    conn, project_id, _, app, received, trainings = authorised_webhook
    task_id = _import(conn, project_id)
    start = TEXT.index("Saraqeb")
    conn.sdk.annotations.create(id=task_id, result=[{
        "from_name": "label", "to_name": "text", "type": "labels",
        "value": {"start": start, "end": start + 7, "text": "Saraqeb", "labels": ["LOCATION"]}}])
    hook = _wait("ANNOTATION_CREATED at /webhook",
                 lambda: next((r for r in received if r["path"] == "/webhook" and r["json"] and r["status"] == 200
                               and r["json"].get("action") == "ANNOTATION_CREATED"), None))
    assert hook["json"]["annotation"]["result"][0]["value"]["text"] == "Saraqeb"
    _wait("the retraining (retrain_every=1)", lambda: trainings)


def test_the_project_webhook_without_the_header_is_refused(connected):
    """What a lead sees before adding the header: annotation events reach /webhook without the login."""
    conn, project_id, _, _, received, trainings = connected
    task_id = _import(conn, project_id)
    conn.sdk.annotations.create(id=task_id, result=[])
    hook = _wait("ANNOTATION_CREATED at /webhook", lambda: next(
        (r for r in received if r["path"] == "/webhook" and (r["json"] or {}).get("action") == "ANNOTATION_CREATED"),
        None))
    assert (hook["status"], hook["auth"]) == (401, False)
    assert trainings == []


def test_train_button_sends_start_training(connected):
    conn, _, ml, _, received, trainings = connected
    conn.sdk.ml.train(id=ml.id)
    _wait("START_TRAINING at /webhook", lambda: any(
        r["path"] == "/webhook" and (r["json"] or {}).get("action") == "START_TRAINING" and r["status"] == 200
        for r in received))
    _wait("the retraining", lambda: trainings)


def _annotated_project(settings, docs) -> int:
    """A project titled settings.project_title holding `docs` as tasks, each annotated with the doc's spans."""
    from annotate.labelstudio.payloads import prediction_result

    project, pushed = pipeline.push(settings, [d.__class__(d.id, d.text, (), d.meta, None) for d in docs])
    conn = connect(settings)
    for doc in docs:
        result = [{k: v for k, v in item.items() if k != "origin"} for item in prediction_result(doc)]
        conn.sdk.annotations.create(id=pushed.task_ids[doc.id], result=result)
    return project.id


@pytest.mark.slow
def test_default_retraining_pulls_gold_and_trains_a_new_model(live_server, project_root):
    """The retraining the webhook starts: pull the annotations, write the gold export, train on it."""
    from annotate.mlbackend.training import newest_model, retrain
    from annotate.records import read_documents

    settings = live_server.settings(root=project_root, project_title="mlb-retrain")
    gold = list(read_documents(ROOT / "guidelines" / "seed-gold.jsonl"))
    project = _annotated_project(settings, gold)
    folder = retrain(settings, project, max_steps=20)
    assert folder.parent == project_root / "models" and newest_model(settings) == str(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["gold"]["kind"] == "export" and meta["documents"]["train"] + meta["documents"]["dev"] == 5
    assert set(meta["scores"]["trained"]["exact"]["labels"]) == {"ACTOR", "LOCATION", "OUTCOME"}
    assert Path(meta["gold"]["path"]) == settings.state_dir / "ml-backend" / f"project-{project}" / "gold"
    assert not (settings.exports_dir / "gold").exists(), "the retraining wrote the lead's exports/gold"


def test_connect_gives_the_backend_and_its_webhook_the_login(backend):
    """`annotate ml-backend --connect`: one backend, and annotation events reach /webhook with the login."""
    settings, url, app, received, trainings = backend
    project, first = pipeline.connect_ml_backend(settings, url)
    _, again = pipeline.connect_ml_backend(settings, url)  # a restart connects again: no second backend
    assert first.created and not again.created and again.backend_id == first.backend_id
    conn, _ = pipeline.open_project(settings)
    assert [m.id for m in conn.sdk.ml.list(project=project.id)] == [first.backend_id]
    hook = _backend_webhook(conn, project.id, url)
    assert hook.headers == {"Authorization": ensure_credentials(settings).header()}
    task_id = _import(conn, project.id)
    conn.sdk.annotations.create(id=task_id, result=[])
    hook_call = _wait("ANNOTATION_CREATED at /webhook", lambda: next(
        (r for r in received if r["path"] == "/webhook" and (r["json"] or {}).get("action") == "ANNOTATION_CREATED"),
        None))
    assert (hook_call["status"], hook_call["auth"]) == (200, True)
    _wait("the retraining (retrain_every=1)", lambda: trainings)


def test_cli_connect_serves_and_connects(live_server, project_root):
    """The command itself: serve, connect with the login, print no password, stop on SIGINT."""
    import os
    import signal
    import subprocess
    import sys

    from annotate.procs import free_port

    env = {**os.environ, "LABEL_STUDIO_URL": live_server.url, "LABEL_STUDIO_API_KEY": live_server.token,
           "ANNOTATE_PROJECT_TITLE": "mlb-cli-connect"}
    proc = subprocess.Popen([sys.executable, "-m", "annotate", "--root", str(project_root), "ml-backend", "--port",
                             str(free_port()), "--connect"], env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        for line in proc.stderr:  # type: ignore[union-attr]
            lines.append(line)
            if "Connected ML backend" in line or "Error" in line:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[1]
    output = "".join(lines) + rest
    assert "Connected ML backend" in output and "carry it too" in output, output
    from annotate.mlbackend.credentials import ensure_credentials

    settings = live_server.settings(root=project_root, project_title="mlb-cli-connect")
    assert ensure_credentials(settings).password not in output
    assert proc.returncode == 0, output


def _served_version(conn, project_id: int, text: str) -> str:
    """Import one task; the model_version of the prediction Label Studio got from the backend for it."""
    task_id = int(conn.sdk.projects.import_tasks(id=project_id, request=[{"data": {"text": text, "title": "t"}}],
                                                 return_task_ids=True).task_ids[0])
    predictions = _wait(f"a prediction on task {task_id}", lambda: conn.sdk.tasks.get(id=task_id).predictions)
    first = predictions[0]
    return first["model_version"] if isinstance(first, dict) else first.model_version


def test_two_projects_on_one_backend_each_train_on_their_own_annotations(live_server, project_root, model):
    """Issue 17: "Start training" in a second project trained on the first one's annotations and served that model
    to the second. Each project now pulls and builds its own gold, trains on it and is served its own model."""
    from annotate.mlbackend.training import default_train
    from annotate.records import read_documents

    gold = list(read_documents(ROOT / "guidelines" / "seed-gold.jsonl"))
    first = live_server.settings(root=project_root, project_title="mlb-two-first")
    second = live_server.settings(root=project_root, project_title="mlb-two-second")
    owned = {_annotated_project(first, gold[:3]): {d.id for d in gold[:3]},
             _annotated_project(second, gold[3:]): {d.id for d in gold[3:]}}
    app = create_backend(first, model, train=default_train(first, max_steps=20))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.port}"
    conn = connect(first)
    creds = ensure_credentials(first)
    try:
        backends = {pid: conn.sdk.ml.create(url=url, project=pid, title="annotate backend", is_interactive=False,
                                            auth_method="BASIC_AUTH", basic_auth_user=creds.user,
                                            basic_auth_pass=creds.password).id for pid in owned}
        projects = app.extensions["annotate_backend"]["projects"]
        assert [p.id for p in projects.all()] == sorted(owned)  # both set up by Label Studio's /setup on connect
        for pid in sorted(owned, reverse=True):  # the second project first: the order of the bug report
            conn.sdk.ml.train(id=backends[pid])
            _wait(f"project {pid}'s retraining", lambda pid=pid: projects.get(pid, "test").retrainer.runs)
            _wait_trainings(app)
        models = {}
        for pid, docs in owned.items():
            run = projects.get(pid, "test").retrainer.runs[-1]
            assert run.error is None and run.model, run
            meta = json.loads((Path(run.model) / "meta.json").read_text(encoding="utf-8"))
            built = Path(meta["gold"]["path"])
            assert built == first.state_dir / "ml-backend" / f"project-{pid}" / "gold"
            rows = [json.loads(line) for line in (built / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
            assert {row["id"] for row in rows} == docs, f"project {pid} trained on another project's annotations"
            models[pid] = meta["version"]
        assert len(set(models.values())) == 2
        assert not (first.exports_dir / "gold").exists(), "a retraining repointed the lead's exports/gold/latest"
        for pid, version in models.items():
            assert _served_version(conn, pid, TEXT).startswith(version + "+rules-")
    finally:
        server.shutdown()
        _wait_trainings(app)


def test_the_trained_pipeline_carries_its_provenance_in_nlp_meta(model):
    """`spacy package` names and versions the package from nlp.meta, which spaCy leaves as pipeline 0.0.0."""
    import spacy
    from packaging.version import Version

    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    nlp_meta = spacy.load(model / "model").meta
    assert nlp_meta["name"] == "annotate_ner"
    assert Version(nlp_meta["version"]).local == meta["version"].replace("-", ".")
    assert nlp_meta["annotate"] == {"model_version": meta["version"], "gold_sha256": meta["gold"]["sha256"],
                                    "guidelines_version": meta["guidelines_version"]}
    assert nlp_meta["sources"][0]["sha256"] == meta["gold"]["sha256"]


def test_disconnect_removes_the_backend_and_its_webhook(backend, live_server):
    """`annotate ml-backend --disconnect`: Label Studio deletes an ML backend but keeps the webhook it made for it."""
    from click.testing import CliRunner

    from annotate.cli import main

    settings, url, *_ = backend
    project, connected = pipeline.connect_ml_backend(settings, url)
    conn, _ = pipeline.open_project(settings)
    hook = _backend_webhook(conn, project.id, url)
    env = {"LABEL_STUDIO_URL": live_server.url, "LABEL_STUDIO_API_KEY": live_server.token,
           "ANNOTATE_PROJECT_TITLE": settings.project_title}
    port = url.rsplit(":", 1)[1]
    args = ["--root", str(settings.root), "ml-backend", "--port", port, "--disconnect"]
    result = CliRunner(env=env).invoke(main, args)
    assert result.exit_code == 0, result.output
    assert (f"Removed from project {project.id}: ML backend(s) {connected.backend_id} at {url}, webhook(s) "
            f"{hook.id} to {url}/webhook") in result.output
    assert list(conn.sdk.ml.list(project=project.id)) == []
    assert [h for h in conn.sdk.webhooks.list(project=str(project.id)) if h.url == f"{url}/webhook"] == []
    again = CliRunner(env=env).invoke(main, args)
    assert again.exit_code == 0 and "nothing removed" in again.output, again.output
