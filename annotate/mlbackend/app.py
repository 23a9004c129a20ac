"""Label Studio's ML backend protocol over Flask: /health, /setup, /predict, /webhook (and /training).

Label Studio calls /predict on every task import into a connected project and sends every project event to
/webhook (START_TRAINING when someone presses "Start training"). Predictions reuse the push's result
format, offsets converted at the boundary by OffsetMap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from ..config import Settings
from ..errors import AnnotateError
from ..hosts import host_allowed, refusal, served_names
from ..labelstudio.labelconfig import FROM_NAME, TO_NAME
from ..labelstudio.payloads import ID_KEY, prediction_payload
from ..records import Article, Document
from .credentials import CREDENTIALS_FILE, Credentials, ensure_credentials
from .state import Annotator, ModelHolder, Retrainer

log = logging.getLogger(__name__)
MODEL_CLASS = "AnnotateSpanModel"
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED")
TRAIN_ACTION = "START_TRAINING"
REALM = "annotate ml-backend"


class BadRequest(AnnotateError):
    """A request that does not follow Label Studio's ML backend protocol (HTTP 400)."""


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(f"{request.path}: expected a JSON object body (Content-Type: application/json)")
    return body


def _article(task: Any, index: int) -> Article:
    """A Label Studio task -> Article; the text is used as stored, so offsets match what the editor shows."""
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise BadRequest(f"/predict: tasks[{index}] must be an object with a 'data' object")
    text = task["data"].get(TO_NAME)
    if not isinstance(text, str):
        raise BadRequest(f"/predict: tasks[{index}] (id {task.get('id')}) has no string data.{TO_NAME}; "
                         f"the labelling config reads the text from ${TO_NAME}")
    doc_id = task["data"].get(ID_KEY) or f"task-{task.get('id', index)}"
    return Article(str(doc_id), text, {"task_id": task.get("id")})


def prediction(doc: Document) -> dict[str, Any]:
    """One Label Studio prediction for a document, the push's own: model_version, mean span score, result items
    (spans and the relations between them)."""
    return prediction_payload(doc)


def _check_label_config(config: Any) -> None:
    if config is None:
        return
    if not isinstance(config, str):
        raise BadRequest("label_config/schema must be the labelling config XML as a string")
    if f'name="{FROM_NAME}"' not in config or f'name="{TO_NAME}"' not in config:
        raise BadRequest(f"the project's labelling config has no Labels name=\"{FROM_NAME}\" on Text name=\"{TO_NAME}\"; "
                         "connect this backend to a project made by `annotate project` (or use its config)")


def create_backend(settings: Settings, model: str | Path | None = None, *, with_rules: bool = True,
                   retrain_every: int = 0, train: Callable[[], Path | str | None] | None = None,
                   build: Callable[[str | None], Annotator] | None = None, host: str | None = None,
                   credentials: Credentials | None = None) -> Flask:
    """The ML backend app; `model` is served (default: the newest models/ folder, else the rules).

    It answers to the Host names of loopback, `allowed_hosts` and `host` (the address it listens on), and only
    to HTTP basic auth with `credentials` (default: .annotate/ml-backend.json, made on first start).

    `train` runs a retraining and returns the new model folder (default: pull, export gold, `annotate train`);
    `build` turns a model folder into a pre-annotator (default: annotate.preannotate.build_preannotator).
    """
    from .training import default_build, default_train, newest_model

    chosen = str(model) if model else newest_model(settings)
    holder = ModelHolder(build or default_build(settings, with_rules), chosen)
    retrainer = Retrainer(train or default_train(settings), holder.swap, retrain_every)
    names = served_names(settings, host)
    login = credentials or ensure_credentials(settings)
    app = Flask(__name__)
    app.extensions["annotate_backend"] = {"holder": holder, "retrainer": retrainer}

    @app.before_request
    def check_host() -> None:  # before anything else: a DNS-rebinding page must not start a training
        if not host_allowed(request.headers.get("Host"), names):
            raise BadRequest(refusal(request.headers.get("Host"), names))

    @app.before_request
    def check_login():  # type: ignore[no-untyped-def]
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
    def annotate_error(exc: AnnotateError):  # type: ignore[no-untyped-def]
        return jsonify({"error": str(exc)}), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        return jsonify({"error": f"{request.method} {request.path}: {exc.description}"}), exc.code

    @app.get("/health")
    @app.get("/")
    def health():  # type: ignore[no-untyped-def]
        return jsonify({"status": "UP", "model_class": MODEL_CLASS, "model": holder.model})

    @app.post("/setup")
    def setup():  # type: ignore[no-untyped-def]
        body = _json_body()
        _check_label_config(body.get("schema", body.get("label_config")))
        return jsonify({"model_version": holder.get().model_version})

    @app.post("/predict")
    def predict():  # type: ignore[no-untyped-def]
        body = _json_body()
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise BadRequest("/predict: expected {\"tasks\": [...]} with a list of Label Studio tasks")
        _check_label_config(body.get("label_config"))
        articles = [_article(task, i) for i, task in enumerate(tasks)]
        served = holder.get()  # one model for the whole request, even if a retraining swaps it meanwhile
        docs = list(served.annotate(articles)) if articles else []
        return jsonify({"results": [prediction(doc) for doc in docs], "model_version": served.model_version})

    @app.post("/webhook")
    def webhook():  # type: ignore[no-untyped-def]
        body = _json_body()
        action = body.get("action")
        if not isinstance(action, str):
            raise BadRequest("/webhook: expected a Label Studio event with an 'action' string")
        started = False
        if action == TRAIN_ACTION:
            started = retrainer.start("START_TRAINING from Label Studio")
        elif action in ANNOTATION_ACTIONS:
            started = retrainer.note_annotation()
        return jsonify({"status": "ok", "action": action, "training_started": started, **retrainer.status()})

    @app.get("/training")
    def training():  # type: ignore[no-untyped-def]
        return jsonify({"model": holder.model, **retrainer.status()})

    return app
