"""The Host names the dashboard and the ML backend answer to: loopback, `allowed_hosts`, the address served on.

A DNS-rebinding page (evil.example re-resolved to 127.0.0.1) reaches a local server as the same origin, so
cookies, CSRF tokens and the login form are all open to it; only the Host header it sends still says
evil.example. Requests naming another host are refused before anything else looks at them.

Flask 3.1's TRUSTED_HOSTS does not fit (measured with Flask 3.1.3, Werkzeug 3.1.9): it ignores the port, which
is fine, but cuts each trusted name at its first ":" so "[::1]" can never be trusted, compares names
case-sensitively ("LOCALHOST" is refused), and its 400 is only raised when the view is dispatched, after every
before_request hook (the login gate, the CSRF check) has already run for the foreign request.
"""

from __future__ import annotations

import ipaddress
import re

from .config import Settings
from .errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_HOST = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?", re.IGNORECASE)


def host_name(value: str | None) -> str | None:
    """The name of a Host header or setting ("Example.org:5000" -> "example.org", "::1" -> "[::1]"), or None."""
    value = (value or "").strip()
    try:  # a bare IPv6 address, as given to --host
        address = ipaddress.ip_address(value)
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    except ValueError:
        pass
    match = _HOST.fullmatch(value)
    if not match:
        return None
    name = match["name"].lower()
    if name.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(name[1:-1]).compressed}]"
        except ValueError:
            return None
    return name[:-1] if name.endswith(".") else name  # "localhost." is the same name as "localhost"


def served_names(settings: Settings, host: str | None = None) -> frozenset[str]:
    """Loopback, `allowed_hosts` and `host` (the listening address, unless a wildcard such as 0.0.0.0)."""
    names = set(LOOPBACK)
    for entry in settings.allowed_hosts:
        name = host_name(entry)
        if name is None:
            raise ConfigError(f"allowed_hosts: {entry!r} is not a host name; give names or addresses such as "
                              "annotate.example.org or 10.0.0.5 (no scheme, no path)")
        names.add(name)
    name = host_name(host)
    if name and name not in ("0.0.0.0", "[::]"):  # nobody browses to a wildcard: it names no host
        names.add(name)
    return frozenset(names)


def wildcard_hint(settings: Settings, host: str) -> str | None:
    """A warning for a wildcard --host (0.0.0.0, ::) with no allowed_hosts: it would answer to loopback only."""
    if host_name(host) in ("0.0.0.0", "[::]") and not settings.allowed_hosts:
        return (f"--host {host} listens on every address, but requests are answered only when their Host is "
                f"{', '.join(LOOPBACK)}: list the names it is reached by in allowed_hosts (ANNOTATE_ALLOWED_HOSTS)")
    return None


def host_allowed(header: str | None, names: frozenset[str]) -> bool:
    """True when a request's Host header names one of `names` (any port); a missing Host is refused."""
    return host_name(header) in names if header else False


def refusal(header: str | None, names: frozenset[str]) -> str:
    """The message of a refused request: which Host came, which ones are served, how to add one."""
    shown = (header or "")[:100]
    return (f"Host {shown!r} is not served here; this server answers to {', '.join(sorted(names))} "
            "(add a name to allowed_hosts, env ANNOTATE_ALLOWED_HOSTS)")
