"""The ML backend's endpoints with the Flask test client: a fake model and a fake (blockable) training."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import pytest
from flask.testing import FlaskClient

from annotate.config import load_settings
from annotate.labelstudio.labelconfig import build_label_config
from annotate.mlbackend import create_backend
from annotate.mlbackend.credentials import ensure_credentials
from annotate.records import Article, Document, Span
from annotate.schema import load_schema

TEXT = "🔥 ISIL fighters withdrew from Saraqeb on Friday."


class FakeAnnotator:
    """Marks every occurrence of fixed words; the version names the model folder it was built from."""

    WORDS = {"ISIL": ("ACTOR", 0.9), "withdrew": ("OUTCOME", 0.5), "Saraqeb": ("LOCATION", 0.7)}

    def __init__(self, model: str | None):
        self.model_version = f"fake-{model or 'rules'}"

    def annotate(self, articles: Iterable[Article], processes: int = 1, batch_size: int = 32):
        for a in articles:
            spans = []
            for word, (label, score) in self.WORDS.items():
                pos = a.text.find(word)
                if pos >= 0:
                    spans.append(Span(pos, pos + len(word), label, word, score, "fake"))
            yield Document(a.id, a.text, tuple(sorted(spans, key=lambda s: s.start)), a.meta, self.model_version)


class FakeTraining:
    """Counts calls and concurrent runs; blocks until `release` is set; returns a new folder name each time."""

    def __init__(self, block: bool = False):
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self.projects: list[int] = []
        self.release = threading.Event()
        if not block:
            self.release.set()
        self._lock = threading.Lock()

    def __call__(self, project_id: int) -> str:
        with self._lock:
            self.calls += 1
            self.projects.append(project_id)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            number = self.calls
        self.release.wait(10)
        with self._lock:
            self.active -= 1
        return f"models/p{project_id}-m{number}"


def _authed(app, settings):
    """Make app.test_client() send the backend's basic auth on every request, as Label Studio does."""
    creds = ensure_credentials(settings)

    class Authed(FlaskClient):
        def open(self, *args, **kwargs):
            kwargs.setdefault("auth", (creds.user, creds.password))
            return super().open(*args, **kwargs)

    app.test_client_class = Authed
    return app


@pytest.fixture
def settings(project_root):
    return load_settings({}, env={}, root=project_root)


@pytest.fixture
def training():
    return FakeTraining()


@pytest.fixture
def app(settings, training):
    return _authed(create_backend(settings, None, train=training, build=FakeAnnotator, retrain_every=2), settings)


PROJECT = "1.1700000000"  # how Label Studio names a project to its ML backend: "<id>.<created_at unix time>"


def _setup(client, project: str = PROJECT, config: str | None = None):
    from pathlib import Path

    config = config or build_label_config(load_schema(Path(__file__).resolve().parent.parent / "guidelines"))
    response = client.post("/setup", json={"project": project, "schema": config})
    assert response.status_code == 200, response.get_json()
    return response


@pytest.fixture
def client(app):
    """A client of a backend that project 1 has been set up with, as Label Studio does on connect."""
    client = app.test_client()
    _setup(client)
    return client


def _predict(client, tasks, project: str = PROJECT, **extra):
    return client.post("/predict", json={"tasks": tasks, "project": project, **extra})


def _retrainer(app, project: int = 1):
    return app.extensions["annotate_backend"]["projects"].get(project, "test").retrainer


def _task(task_id: int, text: str = TEXT) -> dict:
    return {"id": task_id, "data": {"text": text}}


def test_health_is_up(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "UP"
    assert response.get_json()["model_class"] == "AnnotateSpanModel"


def test_setup_returns_the_served_model_version(client, settings):
    config = build_label_config(load_schema(settings.guidelines_dir))
    response = client.post("/setup", json={"project": "1.1700000000", "schema": config})
    assert response.status_code == 200
    assert response.get_json() == {"model_version": "fake-rules"}


@pytest.mark.parametrize(("config", "message"), [
    ('<View><Text name="body" value="$body"/></View>', "has no <Labels> on a <Text"),
    ('<View><Labels name="label" toName="text">', "cannot be parsed"),
    ('<View><Labels name="label" toName="text"><Label value="A"/></Labels><Text name="text" value="text"/></View>',
     "has no <Labels> on a <Text"),
])
def test_setup_refuses_a_label_config_without_spans_on_text(app, config, message):
    response = app.test_client().post("/setup", json={"project": "2.1700000000", "schema": config})
    assert response.status_code == 400
    assert message in response.get_json()["error"] and "\n" not in response.get_json()["error"]
    assert app.test_client().post("/predict", json={"tasks": [], "project": "2.1"}).status_code == 404


def test_setup_parses_the_names_the_project_uses(app):
    """A project whose config says <Labels name="ner" toName="body"> on $content: predictions use those names."""
    config = ('<View><Labels name="ner" toName="body"><Label value="ACTOR"/><Label value="LOCATION"/>'
              '<Label value="OUTCOME"/></Labels><Text name="body" value="$content"/></View>')
    client = app.test_client()
    _setup(client, "3.1700000000", config)
    response = _predict(client, [{"id": 9, "data": {"content": TEXT}}], "3.1700000000", label_config=config)
    assert response.status_code == 200, response.get_json()
    first = response.get_json()["results"][0]["result"][0]
    assert (first["from_name"], first["to_name"], first["value"]["text"]) == ("ner", "body", "ISIL")


def test_the_generated_label_config_is_valid_for_label_studio(settings):
    """The config `annotate project` sends, checked by the SDK's own parser (LabelInterface), and its names."""
    from label_studio_sdk.label_interface import LabelInterface

    from annotate.labelstudio.labelconfig import FROM_NAME, TO_NAME, parse_span_config

    schema = load_schema(settings.guidelines_dir)
    config = build_label_config(schema)
    interface = LabelInterface(config)
    assert interface.get_control(FROM_NAME).tag == "Labels"
    assert interface.get_object(TO_NAME).tag == "Text"
    parsed = parse_span_config(config)
    assert (parsed.from_name, parsed.to_name, parsed.data_key) == (FROM_NAME, TO_NAME, TO_NAME)
    assert parsed.labels == tuple(schema.label_names)


def test_predict_gives_one_prediction_per_task_in_order(client):
    response = _predict(client, [_task(7), _task(8, "Rebels seized Saraqeb.")], label_config=None, params={})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [[r["value"]["text"] for r in item["result"]] for item in results] == [
        ["ISIL", "withdrew", "Saraqeb"], ["Saraqeb"]]


def test_predict_result_uses_label_studio_format_and_offsets(client):
    item = _predict(client, [_task(7)]).get_json()["results"][0]
    first = item["result"][0]
    # "🔥 " is two code points: ISIL starts at 2 (Label Studio 1.23 stores code points, see test_browser_offsets.py)
    assert (first["from_name"], first["to_name"], first["type"]) == ("label", "text", "labels")
    assert first["value"] == {"start": 2, "end": 6, "text": "ISIL", "labels": ["ACTOR"]}
    assert item["model_version"] == "fake-rules"
    assert item["score"] == pytest.approx((0.9 + 0.5 + 0.7) / 3, abs=1e-4)


def test_predict_with_no_tasks_returns_no_results(client):
    assert _predict(client, []).get_json()["results"] == []


@pytest.mark.parametrize(("body", "message"), [
    ({"project": PROJECT}, "expected {\"tasks\": [...]}"),
    ({"tasks": "abc", "project": PROJECT}, "expected {\"tasks\": [...]}"),
    ({"tasks": [{"id": 3}], "project": PROJECT}, "tasks[0] must be an object with a 'data' object"),
    ({"tasks": [_task(1), {"id": 4, "data": {"body": "x"}}], "project": PROJECT},
     "tasks[1] (id 4) has no string data.text"),
    ({"tasks": []}, "expected the Label Studio project as \"project\""),
    ({"tasks": [], "project": "abc.123"}, "expected the Label Studio project as \"project\""),
])
def test_predict_rejects_malformed_requests(client, body, message):
    response = client.post("/predict", json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


@pytest.mark.parametrize(("path", "body"), [
    ("/predict", {"tasks": [_task(1)], "project": "5.1700000000"}),
    ("/webhook", {"action": "START_TRAINING", "project": {"id": 5}}),
    ("/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": 5}}),
])
def test_a_project_that_was_not_set_up_is_refused(app, client, training, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert "project 5 is not set up with this backend (set up: 1)" in error and "\n" not in error
    assert training.calls == 0


def test_metrics_answers_an_empty_object_as_label_studio_ml_does(client):
    response = client.get("/metrics")
    assert (response.status_code, response.get_json()) == (200, {})


@pytest.mark.parametrize("path", ["/predict", "/setup", "/webhook"])
def test_non_json_body_is_400_with_json_error(client, path):
    response = client.post(path, data="not json", content_type="text/plain")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{path}: expected a JSON object body")


def test_unknown_route_is_a_json_404(client):
    response = client.get("/nothing")
    assert response.status_code == 404
    assert "GET /nothing" in response.get_json()["error"]


def test_webhook_without_action_is_400(client):
    response = client.post("/webhook", json={"project": {"id": 1}})
    assert response.status_code == 400
    assert "'action'" in response.get_json()["error"]


def _start_training(client, project: int = 1):
    return client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": project}})


def test_start_training_retrains_and_serves_the_new_model(app, client, training):
    response = _start_training(client)
    assert response.get_json()["training_started"] is True
    assert _retrainer(app).wait(5)
    assert training.calls == 1
    assert _setup(client).get_json() == {"model_version": "fake-models/p1-m1"}


def test_each_project_trains_and_is_served_its_own_model(app, client, training):
    """Start training in project 2 trained for project 2 and served project 1 the result (issue 17)."""
    _setup(client, "2.1700000099")
    _start_training(client, 2)
    _retrainer(app, 2).wait(5)
    assert training.projects == [2]
    assert _setup(client, "2.1700000099").get_json() == {"model_version": "fake-models/p2-m1"}
    assert _predict(client, [_task(1)]).get_json()["model_version"] == "fake-rules"  # project 1 is unchanged
    _start_training(client, 1)
    _retrainer(app, 1).wait(5)
    assert training.projects == [2, 1]
    assert _predict(client, [_task(1)]).get_json()["model_version"] == "fake-models/p1-m2"
    assert _predict(client, [_task(1)], "2.1700000099").get_json()["model_version"] == "fake-models/p2-m1"


def test_a_restarted_backend_serves_each_project_its_retrained_model(settings, tmp_path):
    trained = tmp_path / "m1"

    def train(project_id: int) -> str:
        trained.mkdir()
        return str(trained)

    app = _authed(create_backend(settings, None, train=train, build=FakeAnnotator), settings)
    client = app.test_client()
    _setup(client)
    _start_training(client)
    _retrainer(app).wait(5)

    def restarted():
        return _authed(create_backend(settings, None, train=train, build=FakeAnnotator), settings).test_client()

    assert _predict(restarted(), [_task(1)]).get_json()["model_version"] == f"fake-{trained}"
    assert _predict(restarted(), [_task(1)], "7.1").status_code == 404
    trained.rmdir()  # a model folder deleted since: the project is served the default, not an error on every call
    assert _predict(restarted(), [_task(1)]).get_json()["model_version"] == "fake-rules"


def test_setup_refuses_a_config_without_the_labels_the_model_predicts(client):
    config = '<View><Labels name="label" toName="text"><Label value="ACTOR"/></Labels><Text name="text" value="$text"/></View>'
    response = client.post("/setup", json={"project": "4.1", "schema": config})
    assert response.status_code == 400
    assert 'lacks LOCATION, OUTCOME (it has ACTOR)' in response.get_json()["error"]


@pytest.mark.parametrize("deleting", ["ANNOTATIONS_DELETED"])  # the name Label Studio 1.23.2 sends
def test_every_second_annotation_event_starts_a_retraining(app, client, training, deleting):
    actions = ["ANNOTATION_CREATED", "ANNOTATION_UPDATED", deleting, "ANNOTATION_CREATED"]
    started = [client.post("/webhook", json={"action": action, "annotation": {"id": i}, "project": {"id": 1}})
               .get_json()["training_started"] for i, action in enumerate(actions)]
    _retrainer(app).wait(5)
    assert started == [False, True, False, True]
    assert training.calls == 2


def test_other_events_do_not_count(app, client, training):
    for _ in range(3):
        client.post("/webhook", json={"action": "TASKS_CREATED", "project": {"id": 1}})
    assert _retrainer(app).count == 0
    assert training.calls == 0


def test_webhook_answers_at_once_and_never_runs_two_trainings(settings):
    training = FakeTraining(block=True)
    app = _authed(create_backend(settings, None, train=training, build=FakeAnnotator), settings)
    client = app.test_client()
    _setup(client)
    started = time.perf_counter()
    answers = [_start_training(client).get_json()["training_started"] for _ in range(3)]
    elapsed = time.perf_counter() - started
    training.release.set()
    assert _retrainer(app).wait(5)
    assert answers == [True, False, False]
    assert elapsed < 1.0  # Label Studio gives the webhook about 1 s
    # The requests that came during the run are folded into one more run after it, never in parallel.
    assert (training.calls, training.max_active) == (2, 1)


def test_a_failed_retraining_is_reported_and_the_old_model_kept(settings):
    def failing(project_id: int) -> str:
        raise RuntimeError("no gold yet")

    app = _authed(create_backend(settings, "models/m0", train=failing, build=FakeAnnotator), settings)
    client = app.test_client()
    _setup(client)
    _start_training(client)
    _retrainer(app).wait(5)
    status = client.get("/training").get_json()
    assert status["projects"]["1"]["last"]["error"] == "RuntimeError: no gold yet"
    assert _setup(client).get_json() == {"model_version": "fake-models/m0"}


# --- Host names (DNS rebinding) -----------------------------------------------------------------------------

@pytest.fixture
def hosted(settings, training):
    """The backend as `ml-backend --host 10.0.0.5` with allowed_hosts = ["labelstudio-ml.internal"]."""
    from dataclasses import replace

    return _authed(create_backend(replace(settings, allowed_hosts=("labelstudio-ml.internal",)), None,
                                  train=training, build=FakeAnnotator, host="10.0.0.5"), settings)


@pytest.mark.parametrize("host", ["127.0.0.1:9090", "localhost:9090", "[::1]:9090", "labelstudio-ml.internal:9090",
                                  "10.0.0.5:9090"])
def test_the_backend_answers_to_its_own_host_names(hosted, host):
    assert hosted.test_client().get("/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example:9090", "127.0.0.1.evil.example", "", "10.0.0.6:9090"])
def test_a_foreign_host_starts_no_training(hosted, training, host):
    hosted.extensions["annotate_backend"]["projects"].setup(1)  # a project set up, so only the Host can refuse
    client = hosted.test_client()
    response = client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 1}}, headers={"Host": host})
    assert response.status_code == 400 and "is not served here" in response.get_json()["error"]
    assert client.get("/health", headers={"Host": host}).status_code == 400
    _retrainer(hosted).wait(5)
    assert training.calls == 0 and not _retrainer(hosted).runs


# --- basic auth ---------------------------------------------------------------------------------------------

def _basic(user: str, password: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


WRONG_AUTH = {
    "none": {},
    "wrong password": "wrong-password",
    "wrong user": "wrong-user",
    "empty": {"Authorization": "Basic "},
    "bearer": {"Authorization": "Bearer abc"},
    "garbage": {"Authorization": "Basic %%%not-base64"},
}


def _wrong_headers(kind: str, settings) -> dict[str, str]:
    creds = ensure_credentials(settings)
    if kind == "wrong password":
        return _basic(creds.user, creds.password + "x")
    if kind == "wrong user":
        return _basic("admin", creds.password)
    return WRONG_AUTH[kind]


@pytest.mark.parametrize("kind", WRONG_AUTH)
@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/webhook", {"action": "START_TRAINING", "project": {"id": 1}}),
    ("post", "/webhook", {"action": "ANNOTATION_CREATED", "project": {"id": 1}}),
    ("get", "/health", None), ("get", "/", None), ("post", "/setup", {"project": "1.1"}),
    ("post", "/predict", {"tasks": [], "project": "1.1"}),
    ("get", "/training", None), ("get", "/nothing", None),
])
def test_every_endpoint_needs_basic_auth(settings, training, kind, method, path, body):
    """One request without the right login used to start a pull, a gold export and a training."""
    app = create_backend(settings, None, train=training, build=FakeAnnotator, retrain_every=1)
    app.extensions["annotate_backend"]["projects"].setup(1)  # a project set up, so only the login can refuse
    client = app.test_client()
    headers = _wrong_headers(kind, settings)
    response = getattr(client, method)(path, json=body, headers=headers) if body is not None \
        else getattr(client, method)(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="annotate ml-backend"')
    assert "needs HTTP basic auth" in response.get_json()["error"]
    assert ensure_credentials(settings).password not in response.get_data(as_text=True)
    _retrainer(app).wait(5)
    assert training.calls == 0 and not _retrainer(app).runs and _retrainer(app).count == 0


def test_the_right_login_is_accepted(settings):
    app = create_backend(settings, None, build=FakeAnnotator, train=lambda: None)
    creds = ensure_credentials(settings)
    assert app.test_client().get("/health", headers=_basic(creds.user, creds.password)).status_code == 200


def test_credentials_are_made_once_private_and_never_in_repr(settings):
    import os

    from annotate.mlbackend.credentials import credentials_path

    first = ensure_credentials(settings)
    path = credentials_path(settings)
    assert os.stat(path).st_mode & 0o777 == 0o600 and os.stat(path.parent).st_mode & 0o777 == 0o700
    assert ensure_credentials(settings) == first and len(first.password) >= 32
    assert first.password not in repr(first)


def test_parallel_first_starts_agree_on_one_password(settings):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(lambda _: ensure_credentials(settings), range(16)))
    assert len(made) == 1 and made == {ensure_credentials(settings)}
    assert not [p for p in settings.state_dir.iterdir() if p.name.endswith(".tmp")]


def test_a_damaged_credentials_file_is_a_one_line_error(settings):
    from annotate.errors import ConfigError
    from annotate.mlbackend.credentials import credentials_path

    credentials_path(settings).parent.mkdir(parents=True, exist_ok=True)
    credentials_path(settings).write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="ml-backend.json: not an ML backend credentials file"):
        ensure_credentials(settings)


def test_the_command_says_how_to_connect_but_never_prints_the_password(settings, monkeypatch):
    from click.testing import CliRunner
    from werkzeug import serving

    import annotate.mlbackend as mlbackend
    from annotate.cli import main

    real = mlbackend.create_backend

    class StopsAtOnce:
        port = 9090

        def serve_forever(self):
            return  # the command's wait then ends at once

        def shutdown(self):
            pass

    monkeypatch.setattr(mlbackend, "create_backend", lambda *a, **k: real(*a, **{**k, "build": FakeAnnotator}))
    monkeypatch.setattr(serving, "make_server", lambda host, port, app, threaded: StopsAtOnce())
    result = CliRunner().invoke(main, ["--root", str(settings.root), "ml-backend"])
    assert result.exit_code == 0, result.output
    creds = ensure_credentials(settings)
    assert "URL http://127.0.0.1:9090" in result.output and f"user {creds.user}" in result.output
    assert str(settings.state_dir / "ml-backend.json") in result.output
    assert creds.password not in result.output
