"""Label Studio's ML backend protocol over Flask: /health, /setup, /predict, /webhook, /metrics (and /training).

Label Studio calls /predict on every task import into a connected project and sends every project event to
/webhook (START_TRAINING when someone presses "Start training"). Each request names its project, and each
project is served and retrained on its own (see projects.py). Predictions reuse the push's result format,
renamed to the names the project's labelling config uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..config import Settings
from ..errors import AnnotateError
from ..hosts import host_allowed, refusal, served_names
from ..labelstudio.labelconfig import FROM_NAME, TO_NAME, SpanConfig, parse_span_config
from ..labelstudio.payloads import ID_KEY, prediction_payload
from ..records import Article, Document
from ..schema import load_schema
from .credentials import CREDENTIALS_FILE, Credentials, ensure_credentials
from .projects import BadRequest, Projects, project_id
from .state import Annotator

log = logging.getLogger(__name__)
MODEL_CLASS = "AnnotateSpanModel"
# Label Studio 1.23.2 names a deletion ANNOTATIONS_DELETED (webhooks/models.py); a deleted annotation changes the
# gold as much as a new one, so it counts towards --retrain-every too.
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED")
TRAIN_ACTION = "START_TRAINING"
REALM = "annotate ml-backend"
STATE_DIR = "ml-backend"  # under .annotate/: the project list, and each project's own pull and gold build
OURS = SpanConfig(FROM_NAME, TO_NAME, TO_NAME, ())  # what prediction_payload writes


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(f"{request.path}: expected a JSON object body (Content-Type: application/json)")
    return body


def _article(task: Any, index: int, names: SpanConfig) -> Article:
    """A Label Studio task -> Article; the text is used as stored, so offsets match what the editor shows."""
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise BadRequest(f"/predict: tasks[{index}] must be an object with a 'data' object")
    text = task["data"].get(names.data_key)
    if not isinstance(text, str):
        raise BadRequest(f"/predict: tasks[{index}] (id {task.get('id')}) has no string data.{names.data_key}; "
                         f"the labelling config reads the text from ${names.data_key}")
    doc_id = task["data"].get(ID_KEY) or f"task-{task.get('id', index)}"
    return Article(str(doc_id), text, {"task_id": task.get("id")})


def prediction(doc: Document, names: SpanConfig = OURS) -> dict[str, Any]:
    """One Label Studio prediction for a document, the push's own: model_version, mean span score, result items
    (spans and the relations between them), with the project's control and object names."""
    payload = prediction_payload(doc)
    for item in payload["result"]:
        if "from_name" in item:
            item["from_name"], item["to_name"] = names.from_name, names.to_name
    return payload


@lru_cache(maxsize=32)
def _parsed(config: str) -> SpanConfig:
    return parse_span_config(config)


def span_config(config: Any, where: str, labels: tuple[str, ...] = ()) -> SpanConfig:
    """The names in the project's labelling config (sent with /setup and /predict); ours when none is sent.

    The config must offer every label in `labels` (the schema's): the model predicts those, and Label Studio
    would show a span whose label its config lacks without any label to correct it with."""
    if config is None:
        return OURS
    if not isinstance(config, str):
        raise BadRequest(f"{where}: label_config/schema must be the labelling config XML as a string")
    try:
        names = _parsed(config)
    except AnnotateError as exc:
        raise BadRequest(f"{where}: {exc}") from exc
    missing = [label for label in labels if label not in names.labels]
    if missing:
        raise BadRequest(f"{where}: the project's <Labels name=\"{names.from_name}\"> lacks {', '.join(missing)} "
                         f"(it has {', '.join(names.labels) or 'none'}); this backend predicts "
                         f"{', '.join(labels)}")
    return names


def create_backend(settings: Settings, model: str | Path | None = None, *, with_rules: bool = True,
                   retrain_every: int = 0, train: Callable[[int], Path | str | None] | None = None,
                   build: Callable[[str | None], Annotator] | None = None, host: str | None = None,
                   credentials: Credentials | None = None) -> Flask:
    """The ML backend app; `model` is served (default: the newest models/ folder, else the rules).

    It answers to the Host names of loopback, `allowed_hosts` and `host` (the address it listens on), and only
    to HTTP basic auth with `credentials` (default: .annotate/ml-backend.json, made on first start).

    `train(project_id)` retrains for that project and returns the new model folder (default: pull that project,
    build its own gold, `annotate train`);
    `build` turns a model folder into a pre-annotator (default: annotate.preannotate.build_preannotator).
    """
    from .training import default_build, default_train, newest_model

    chosen = str(model) if model else newest_model(settings)
    projects = Projects(settings.state_dir / STATE_DIR, build or default_build(settings, with_rules), chosen,
                        train or default_train(settings), retrain_every)
    labels = tuple(load_schema(settings.guidelines_dir).label_names)
    names = served_names(settings, host)
    login = credentials or ensure_credentials(settings)
    app = Flask(__name__)
    app.extensions["annotate_backend"] = {"projects": projects}

    @app.before_request
    def check_host() -> None:  # before anything else: a DNS-rebinding page must not start a training
        if not host_allowed(request.headers.get("Host"), names):
            raise BadRequest(refusal(request.headers.get("Host"), names))

    @app.before_request
    def check_login() -> tuple[Response, int, dict[str, str]] | None:
        sent = request.authorization
        if sent is None or sent.type != "basic" or not login.matches(sent.username or "", sent.password or ""):
            hint = " (give Label Studio's project webhook to /webhook an Authorization header)" \
                if request.path == "/webhook" else ""
            log.warning("refused %s %s from %s: no or wrong basic auth%s", request.method, request.path,
                        request.remote_addr, hint)
            response = jsonify({"error": f"{request.method} {request.path}: this ML backend needs HTTP basic auth "
                                         f"(user and password in the project's .annotate/{CREDENTIALS_FILE})"})
            return response, 401, {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'}
        return None

    @app.errorhandler(AnnotateError)
    def annotate_error(exc: AnnotateError) -> tuple[Response, int]:
        return jsonify({"error": str(exc)}), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify({"error": f"{request.method} {request.path}: {exc.description}"}), exc.code or 500

    @app.get("/health")
    @app.get("/")
    def health() -> Response:
        return jsonify({"status": "UP", "model_class": MODEL_CLASS, "model": projects.default_model,
                        "projects": [p.id for p in projects.all()]})

    @app.get("/metrics")
    def metrics() -> Response:
        return jsonify({})  # what label_studio_ml answers: Label Studio asks, and has no metrics format of its own

    @app.post("/setup")
    def setup() -> Response:
        body = _json_body()
        span_config(body.get("schema", body.get("label_config")), "/setup", labels)
        state = projects.setup(project_id(body.get("project"), "/setup"))
        return jsonify({"model_version": state.holder.get().model_version})

    @app.post("/predict")
    def predict() -> Response:
        body = _json_body()
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise BadRequest("/predict: expected {\"tasks\": [...]} with a list of Label Studio tasks")
        state = projects.get(project_id(body.get("project"), "/predict"), "/predict")
        names = span_config(body.get("label_config"), "/predict", labels)
        articles = [_article(task, i, names) for i, task in enumerate(tasks)]
        served = state.holder.get()  # one model for the whole request, even if a retraining swaps it meanwhile
        docs = list(served.annotate(articles)) if articles else []
        return jsonify({"results": [prediction(doc, names) for doc in docs], "model_version": served.model_version})

    @app.post("/webhook")
    def webhook() -> Response:
        body = _json_body()
        action = body.get("action")
        if not isinstance(action, str):
            raise BadRequest("/webhook: expected a Label Studio event with an 'action' string")
        if action != TRAIN_ACTION and action not in ANNOTATION_ACTIONS:
            return jsonify({"status": "ignored", "action": action, "training_started": False})
        state = projects.get(project_id(body.get("project"), "/webhook"), "/webhook")
        if action == TRAIN_ACTION:
            started = state.retrainer.start("START_TRAINING from Label Studio")
        else:
            started = state.retrainer.note_annotation()
        return jsonify({"status": "ok", "action": action, "project": state.id, "training_started": started,
                        **state.retrainer.status()})

    @app.get("/training")
    def training() -> Response:
        return jsonify({"projects": {str(p.id): {"model": p.holder.model, **p.retrainer.status()}
                                     for p in projects.all()}})

    return app
