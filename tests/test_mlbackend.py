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
        self.release = threading.Event()
        if not block:
            self.release.set()
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.calls += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            number = self.calls
        self.release.wait(10)
        with self._lock:
            self.active -= 1
        return f"models/m{number}"


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


@pytest.fixture
def client(app):
    return app.test_client()


def _retrainer(app):
    return app.extensions["annotate_backend"]["retrainer"]


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


def test_setup_refuses_a_foreign_label_config(client):
    response = client.post("/setup", json={"project": "1", "schema": '<View><Text name="body" value="$body"/></View>'})
    assert response.status_code == 400
    assert 'Labels name="label"' in response.get_json()["error"]


def test_predict_gives_one_prediction_per_task_in_order(client):
    response = client.post("/predict", json={"tasks": [_task(7), _task(8, "Rebels seized Saraqeb.")], "project": "1",
                                             "label_config": None, "params": {}})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [[r["value"]["text"] for r in item["result"]] for item in results] == [
        ["ISIL", "withdrew", "Saraqeb"], ["Saraqeb"]]


def test_predict_result_uses_label_studio_format_and_offsets(client):
    item = client.post("/predict", json={"tasks": [_task(7)]}).get_json()["results"][0]
    first = item["result"][0]
    # "🔥 " is two code points: ISIL starts at 2 (Label Studio 1.23 stores code points, see offsets.py)
    assert (first["from_name"], first["to_name"], first["type"]) == ("label", "text", "labels")
    assert first["value"] == {"start": 2, "end": 6, "text": "ISIL", "labels": ["ACTOR"]}
    assert item["model_version"] == "fake-rules"
    assert item["score"] == pytest.approx((0.9 + 0.5 + 0.7) / 3, abs=1e-4)


def test_predict_with_no_tasks_returns_no_results(client):
    assert client.post("/predict", json={"tasks": []}).get_json()["results"] == []


@pytest.mark.parametrize(("body", "message"), [
    ({"project": "1"}, "expected {\"tasks\": [...]}"),
    ({"tasks": "abc"}, "expected {\"tasks\": [...]}"),
    ({"tasks": [{"id": 3}]}, "tasks[0] must be an object with a 'data' object"),
    ({"tasks": [_task(1), {"id": 4, "data": {"body": "x"}}]}, "tasks[1] (id 4) has no string data.text"),
])
def test_predict_rejects_malformed_requests(client, body, message):
    response = client.post("/predict", json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


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


def test_start_training_retrains_and_serves_the_new_model(app, client, training):
    response = client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 1}})
    assert response.get_json()["training_started"] is True
    assert _retrainer(app).wait(5)
    assert training.calls == 1
    assert client.post("/setup", json={}).get_json() == {"model_version": "fake-models/m1"}


def test_every_second_annotation_starts_a_retraining(app, client, training):
    started = [client.post("/webhook", json={"action": action, "annotation": {"id": i}}).get_json()["training_started"]
               for i, action in enumerate(["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_CREATED"])]
    _retrainer(app).wait(5)
    assert started == [False, True, False]
    assert training.calls == 1


def test_other_events_do_not_count(app, client, training):
    for _ in range(3):
        client.post("/webhook", json={"action": "TASKS_CREATED"})
    assert _retrainer(app).count == 0
    assert training.calls == 0


def test_webhook_answers_at_once_and_never_runs_two_trainings(settings):
    training = FakeTraining(block=True)
    app = _authed(create_backend(settings, None, train=training, build=FakeAnnotator), settings)
    client = app.test_client()
    started = time.perf_counter()
    answers = [client.post("/webhook", json={"action": "START_TRAINING"}).get_json()["training_started"]
               for _ in range(3)]
    elapsed = time.perf_counter() - started
    training.release.set()
    assert _retrainer(app).wait(5)
    assert answers == [True, False, False]
    assert elapsed < 1.0  # Label Studio gives the webhook about 1 s
    # The requests that came during the run are folded into one more run after it, never in parallel.
    assert (training.calls, training.max_active) == (2, 1)


def test_a_failed_retraining_is_reported_and_the_old_model_kept(settings):
    def failing() -> str:
        raise RuntimeError("no gold yet")

    app = _authed(create_backend(settings, "models/m0", train=failing, build=FakeAnnotator), settings)
    client = app.test_client()
    client.post("/webhook", json={"action": "START_TRAINING"})
    _retrainer(app).wait(5)
    status = client.get("/training").get_json()
    assert status["last"]["error"] == "RuntimeError: no gold yet"
    assert client.post("/setup", json={}).get_json() == {"model_version": "fake-models/m0"}


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
    client = hosted.test_client()
    response = client.post("/webhook", json={"action": "START_TRAINING"}, headers={"Host": host})
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
    ("post", "/webhook", {"action": "ANNOTATION_CREATED"}),
    ("get", "/health", None), ("get", "/", None), ("post", "/setup", {}), ("post", "/predict", {"tasks": []}),
    ("get", "/training", None), ("get", "/nothing", None),
])
def test_every_endpoint_needs_basic_auth(settings, training, kind, method, path, body):
    """One request without the right login used to start a pull, a gold export and a training."""
    app = create_backend(settings, None, train=training, build=FakeAnnotator, retrain_every=1)
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
