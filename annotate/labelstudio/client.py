"""Connecting to Label Studio through label-studio-sdk, with errors that name the URL and what failed.

The API token is never printed or logged: messages carry the URL and the HTTP status only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from ..config import Settings
from ..errors import LabelStudioError
from . import server as ls_server

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 4
BACKOFF = 0.5  # seconds, doubled after each failed attempt
TIMEOUT = 120.0


class Connection:
    """A checked SDK client plus the URL it talks to (for messages and links)."""

    def __init__(self, url: str, client: LabelStudio):
        self.url = url.rstrip("/")
        self.sdk = client

    def call(self, what: str, fn: Callable[..., T], *args: Any, retry: bool = True, **kwargs: Any) -> T:
        """Call an SDK method; retry transient failures (connection, 5xx) with backoff, then fail clearly."""
        delay = BACKOFF
        attempts = RETRIES if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return fn(*args, **kwargs)
            except (httpx.TransportError, ApiError) as exc:
                if not is_transient(exc) or attempt == attempts:
                    raise describe_error(self.url, what, exc) from exc
                log.warning("%s failed (%s); retry %d of %d in %.1f s", what, _short(exc), attempt, attempts - 1, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")


    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path through the SDK's authenticated HTTP client, skipping pydantic models (speed)."""
        http = self.sdk._client_wrapper.httpx_client  # noqa: SLF001 - the SDK's own client, auth included
        response = http.request(path, method="GET", params=params or {})
        if response.status_code >= 400:
            json_body = "json" in response.headers.get("content-type", "")
            raise ApiError(status_code=response.status_code, headers=dict(response.headers),
                           body=response.json() if json_body else response.text)
        return response.json()


def is_transient(exc: Exception) -> bool:
    if isinstance(exc, ApiError):
        return exc.status_code is not None and exc.status_code >= 500
    return True


def _short(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def describe_error(url: str, what: str, exc: Exception) -> LabelStudioError:
    """One line naming the URL, the operation and what failed (unreachable, 401, 404, ...)."""
    if isinstance(exc, httpx.TransportError):
        return LabelStudioError(f"cannot reach Label Studio at {url} ({what}): {type(exc).__name__}: {exc or 'no answer'}")
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return LabelStudioError(f"Label Studio at {url} refused the API token (HTTP {status}) while trying to {what}; "
                                "check LABEL_STUDIO_API_KEY")
    if status == 404:
        return LabelStudioError(f"Label Studio at {url} answered 404 Not Found while trying to {what}; "
                                "check the URL (it must be the server's base URL) and the project id")
    detail = getattr(exc, "body", None)
    return LabelStudioError(f"Label Studio at {url} answered HTTP {status} while trying to {what}: {_brief(detail)}")


def _brief(body: Any) -> str:
    if isinstance(body, dict):
        body = body.get("validation_errors") or body.get("detail") or body
    text = str(body)
    return text if len(text) <= 300 else text[:300] + "..."


def connect(settings: Settings, start: bool = True) -> Connection:
    """A checked connection: the external server when configured, else the embedded one (started if needed)."""
    if settings.external:
        url, token = str(settings.label_studio_url), str(settings.label_studio_api_key)
    else:
        info = ls_server.start_server(settings) if start else ls_server.server_status(settings)
        if info is None:
            raise LabelStudioError("the embedded Label Studio is not running: run `annotate server start`")
        url, token = info.url, ls_server.load_credentials(settings).token
    conn = Connection(url, LabelStudio(base_url=url, api_key=token, timeout=TIMEOUT))
    conn.call("connect (GET /api/current-user/whoami)", conn.sdk.users.whoami, retry=False)
    return conn
