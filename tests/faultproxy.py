"""A fault-injecting HTTP proxy between the client and the real Label Studio, for lost-answer tests.

It forwards every request to the server on a fresh upstream connection and returns the answer, except for
requests matching a rule, which it breaks in one of two ways:
- "after_commit": forward the request, read the server's whole answer (the server has committed), then close
  the client's connection without sending a byte of it;
- "while_working": forward the request, then close the client's connection at once while the server is still
  working on it (the server finishes and commits on its own; its answer is read and thrown away).
Both look the same to the client (httpx.RemoteProtocolError: the server disconnected without an answer), which is
the point: the client cannot tell whether its request took effect.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

HOST = "127.0.0.1"
MODES = ("after_commit", "while_working")


@dataclass
class Rule:
    method: str
    path: re.Pattern[str]
    mode: str
    times: int = 1  # how many matching requests to break
    fired: int = 0


@dataclass
class FaultProxy:
    upstream: tuple[str, int]
    rules: list[Rule] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request forwarded
    _server: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{HOST}:{self._server.getsockname()[1]}"

    def break_next(self, method: str, path_regex: str, mode: str, times: int = 1) -> Rule:
        """Break the next `times` requests whose method and path match, in `mode`."""
        assert mode in MODES, mode
        rule = Rule(method.upper(), re.compile(path_regex), mode, times)
        with self._lock:
            self.rules.append(rule)
        return rule

    def start(self) -> FaultProxy:
        self._server = socket.create_server((HOST, 0))
        self._server.settimeout(0.2)
        thread = threading.Thread(target=self._accept, daemon=True, name="fault-proxy")
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()  # type: ignore[union-attr]
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _rule_for(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.fired < rule.times and rule.method == method and rule.path.search(path):
                    rule.fired += 1
                    return rule
        return None

    def _serve(self, client: socket.socket) -> None:
        """One client connection: requests one after another (keep-alive), each on its own upstream connection."""
        with client:
            buffer = b""
            while not self._stop.is_set():
                request, buffer = _read_request(client, buffer)
                if request is None:
                    return
                head = request.split(b"\r\n", 1)[0].decode("latin-1")
                method, path = head.split(" ")[0], head.split(" ")[1]
                self.seen.append((method, path))
                rule = self._rule_for(method, path)
                upstream = socket.create_connection(self.upstream)
                upstream.sendall(_close_after(request))
                if rule is not None and rule.mode == "while_working":
                    client.shutdown(socket.SHUT_RDWR)
                    threading.Thread(target=_drain, args=(upstream,), daemon=True).start()
                    return
                answer = _drain(upstream)
                if rule is not None:  # after_commit: the server answered; the client never hears it
                    client.shutdown(socket.SHUT_RDWR)
                    return
                client.sendall(_close_after(answer))
                return  # Connection: close was sent; the client opens a new connection for its next request


def _read_request(sock: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    length = int(match.group(1)) if match else 0
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def _close_after(message: bytes) -> bytes:
    """The same HTTP message with `Connection: close`, so each side closes after one exchange."""
    head, sep, body = message.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + sep + body


def _drain(sock: socket.socket) -> bytes:
    data = b""
    with sock:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


@pytest.fixture
def fault_proxy(live_server) -> Iterator[FaultProxy]:
    """A FaultProxy in front of the session's Label Studio; point settings at `fault_proxy.url`."""
    port = int(live_server.url.rsplit(":", 1)[1])
    proxy = FaultProxy((HOST, port)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
