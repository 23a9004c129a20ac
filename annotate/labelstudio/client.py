"""Connecting to Label Studio through label-studio-sdk, with one retry policy and errors that name the URL.

One retry layer: the SDK is built with `max_retries=0`, because its own retries re-send non-idempotent POSTs
(an import whose answer was lost would be imported twice). `Connection.call` retries idempotent calls itself;
a call that creates something is made with `retry=False`, and its caller checks the server before sending it
again (see push.py).

The API token is never printed or logged, and a password inside the URL is shown as ***: messages carry the
redacted URL and the HTTP status only.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.core.request_options import RequestOptions

from ..config import Settings, redact_url
from ..errors import LabelStudioError
from . import server as ls_server

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 4  # attempts of an idempotent call
BACKOFF = 0.5  # seconds, doubled after each failed attempt
TIMEOUT = 120.0
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class Connection:
    """A checked SDK client plus the URL it talks to; `url` is the redacted form for messages and links."""

    def __init__(self, url: str, client: LabelStudio, sleep: Callable[[float], None] = time.sleep):
        self.base_url = url.rstrip("/")
        self.url = redact_url(self.base_url)
        self.sdk = client
        self._sleep = sleep

    def call(self, what: str, fn: Callable[..., T], *args: Any, retry: bool = True, **kwargs: Any) -> T:
        """Call an SDK method; retry transient failures (connection, timeout, 5xx) with backoff, then fail clearly.

        `retry=False` for calls that create something: a lost answer must be checked, not re-sent blindly.
        """
        delay = BACKOFF
        attempts = RETRIES if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return fn(*args, **kwargs)
            except (httpx.TransportError, ApiError) as exc:
                if not is_transient(exc) or attempt == attempts:
                    raise describe_error(self.url, what, exc) from exc
                log.warning("%s failed (%s); retry %d of %d in %.1f s", what, _short(exc), attempt, attempts - 1, delay)
                self._sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET an API path through the SDK's authenticated HTTP client, skipping pydantic models (speed)."""
        return self.request_json("GET", path, params=params)

    def request_json(self, method: str, path: str, params: dict[str, Any] | None = None, json: Any = None,
                     timeout: float | None = None) -> Any:
        """Any API request through the SDK's HTTP client (auth, base URL); ApiError on an error answer. `timeout`
        (seconds) replaces the client's for a request known to take long."""
        http = self.sdk._client_wrapper.httpx_client  # noqa: SLF001 - the SDK's own client, auth included
        options = RequestOptions(max_retries=0)
        if timeout is not None:
            options["timeout"] = timeout
        response = http.request(path, method=method, params=params or {}, json=json, request_options=options)
        if response.status_code >= 400:
            raise ApiError(status_code=response.status_code, headers=dict(response.headers), body=_body(response))
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:  # an HTML page, a proxy's error text: not Label Studio's API
            raise ApiError(status_code=response.status_code, headers=dict(response.headers),
                           body=response.text) from exc


def _body(response: httpx.Response) -> Any:
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


def is_transient(exc: BaseException) -> bool:
    """Worth trying again: the network, a timeout, or a server error (5xx); not a 4xx or an HTML page."""
    if isinstance(exc, ApiError):
        return exc.status_code is not None and exc.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def never_sent(exc: BaseException) -> bool:
    """True when the request certainly did not reach the server (it could not connect), so it is safe to re-send."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def _short(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def describe_error(url: str, what: str, exc: Exception) -> LabelStudioError:
    """One line naming the (redacted) URL, the operation and what failed (unreachable, 401, 404, HTML, ...)."""
    url = redact_url(url)
    if isinstance(exc, httpx.TransportError):
        detail = " ".join(str(exc).split()) or "no answer"
        return LabelStudioError(f"cannot reach Label Studio at {url} ({what}): {type(exc).__name__}: {detail}")
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    page = _html_title(body)
    if page is not None:
        return LabelStudioError(f"{url} answered an HTML page{page} with HTTP {status} while trying to {what}, "
                                "not Label Studio's API; check LABEL_STUDIO_URL (the server's base URL)")
    if status in (401, 403):
        return LabelStudioError(f"Label Studio at {url} refused the API token (HTTP {status}) while trying to {what}; "
                                "check LABEL_STUDIO_API_KEY")
    if status == 404:
        return LabelStudioError(f"Label Studio at {url} answered 404 Not Found while trying to {what}; "
                                "check the URL (it must be the server's base URL) and the project id")
    return LabelStudioError(f"Label Studio at {url} answered HTTP {status} while trying to {what}: {_brief(body)}")


def _html_title(body: Any) -> str | None:
    """' ("Title")' for an HTML body ('' when it has no title); None when the body is not HTML."""
    if not isinstance(body, str) or not re.search(r"<(?:!doctype\s+)?html|<head|<body", body[:2000], re.IGNORECASE):
        return None
    match = _TITLE.search(body)
    title = " ".join(html.unescape(match.group(1)).split())[:80] if match else ""
    return f" ({title!r})" if title else ""


def _brief(body: Any) -> str:
    if isinstance(body, dict):
        body = body.get("validation_errors") or body.get("detail") or body
    text = " ".join(str(body).split())  # one line, whatever the server sent
    return text if len(text) <= 300 else text[:300] + "..."


def make_client(url: str, token: str, transport: httpx.BaseTransport | None = None) -> LabelStudio:
    """The SDK client with its own retries off (ours are in Connection.call); `transport` is for tests."""
    http = httpx.Client(timeout=TIMEOUT, follow_redirects=True, transport=transport)
    return LabelStudio(base_url=url, api_key=token, timeout=TIMEOUT, max_retries=0, httpx_client=http)


def connect(settings: Settings, start: bool = True, transport: httpx.BaseTransport | None = None) -> Connection:
    """A checked connection: the external server when configured, else the embedded one (started if needed)."""
    if settings.external:
        url, token = str(settings.label_studio_url), str(settings.label_studio_api_key)
    else:
        info = ls_server.start_server(settings) if start else ls_server.server_status(settings)
        if info is None:
            raise LabelStudioError("the embedded Label Studio is not running: run `annotate server start`")
        url, token = info.url, ls_server.load_credentials(settings).token
    conn = Connection(url, make_client(url, token, transport))
    whoami = conn.call("connect (GET /api/current-user/whoami)", conn.get_json, "api/current-user/whoami", retry=False)
    if not isinstance(whoami, dict) or "id" not in whoami:
        raise LabelStudioError(f"{conn.url} answered /api/current-user/whoami without a user: is it Label Studio? "
                               "Check LABEL_STUDIO_URL (the server's base URL)")
    return conn
