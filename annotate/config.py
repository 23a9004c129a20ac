"""Settings: one frozen dataclass, resolved as flags > environment > config file > defaults."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_FILE = "annotate.toml"
ENV_PREFIX = "ANNOTATE_"
# Label Studio's own variable names, honoured as users of its SDK expect.
EXTERNAL_ENV = {"label_studio_url": "LABEL_STUDIO_URL", "label_studio_api_key": "LABEL_STUDIO_API_KEY"}


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know; paths are absolute once resolved."""

    root: Path = field(default_factory=Path.cwd)
    label_studio_url: str | None = field(default=None, repr=False)  # may carry a password (user:pass@host)
    label_studio_api_key: str | None = field(default=None, repr=False)
    port: int = 8089
    dashboard_port: int = 5000
    project_title: str = "Conflict news (annotate)"
    spacy_model: str = "en_core_web_sm"
    max_article_chars: int = 100_000
    csv_text_column: str = "text"
    near_duplicate_threshold: float = 0.7  # ingest reports article pairs at least this similar (MinHash Jaccard)
    split_near_duplicate_threshold: float = 0.5  # the train/dev split keeps articles this similar on one side
    annotators_per_task: int = 2
    overlap_percent: int = 100
    leads: tuple[str, ...] = ()
    dev_ratio: float = 0.2
    batch_size: int = 250
    keep_archives: int = 20  # raw pulls kept in exports/raw/ (0: keep all); referenced ones are never pruned
    allowed_hosts: tuple[str, ...] = ()  # Host names the dashboard and ML backend answer to, beside loopback
    # The embedded Label Studio's database: "sqlite" (its own file), "postgresql" (a private cluster under
    # .annotate/postgres/) or a postgresql://user@host:port/db URL (may carry a password from a flag or the env).
    database: str = field(default="sqlite", repr=False)

    @property
    def state_dir(self) -> Path:
        """Git-ignored folder for the embedded server, its venv, credentials and sync state."""
        return self.root / ".annotate"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def guidelines_dir(self) -> Path:
        return self.root / "guidelines"

    @property
    def seeds_dir(self) -> Path:
        return self.root / "seeds"

    @property
    def external(self) -> bool:
        """True when a Label Studio server is configured and the embedded one must not be used."""
        return bool(self.label_studio_url)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def redact_url(url: str) -> str:
    """The URL with any password in it replaced by ***, for messages and links (user:pass@host -> user:***@host)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    userinfo, _, host = authority.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}{slash}{path}"


DATABASE_SCHEMES = ("postgresql://", "postgres://")


def _url_password(url: str) -> bool:
    """True when a URL's authority carries a password (user:pass@host)."""
    authority = url.partition("://")[2].partition("/")[0]
    return "@" in authority and ":" in authority.rpartition("@")[0]


def _coerce(name: str, value: Any, source: str) -> Any:
    kind = _FIELDS[name].type
    try:
        if kind in ("int", "float") and isinstance(value, bool):
            raise TypeError(value)
        if kind == "int":
            if isinstance(value, float):
                raise TypeError(value)  # 80.5 is not a port; never truncate silently
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "Path":
            return Path(value).expanduser().resolve()
        if kind.startswith("tuple"):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {name} must be a {kind}, got {value!r}") from exc
    return None if value in ("", None) else str(value)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    unknown = sorted(set(data) - set(_FIELDS) - {"root"})
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(_FIELDS))}")
    database = data.get("database")
    if isinstance(database, str) and _url_password(database):
        # A file that may be shared or committed never holds the database password.
        raise ConfigError(f"{path}: database URL {redact_url(database)!r} holds a password; remove it and put it in "
                          "ANNOTATE_DATABASE_PASSWORD or .annotate/database-password (mode 0600)")
    return {k: _coerce(k, v, str(path)) for k, v in data.items()}


def load_settings(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    root: Path | str | None = None,
) -> Settings:
    """Resolve settings from flags > environment > `annotate.toml` under root > defaults."""
    env = os.environ if env is None else env
    base = Path(root or env.get(ENV_PREFIX + "ROOT") or Path.cwd()).resolve()
    values: dict[str, Any] = {}
    config_path = Path(env.get(ENV_PREFIX + "CONFIG", base / CONFIG_FILE))
    if config_path.is_file():
        values.update(_read_file(config_path))
    for name in _FIELDS:
        key = EXTERNAL_ENV.get(name, ENV_PREFIX + name.upper())
        if name != "root" and env.get(key) not in (None, ""):
            values[name] = _coerce(name, env[key], f"environment variable {key}")
    for name, value in (flags or {}).items():
        if value is not None:
            if name not in _FIELDS:
                raise ConfigError(f"unknown setting {name!r}; valid: {', '.join(sorted(_FIELDS))}")
            values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    values["root"] = base
    settings = Settings(**values)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    if s.label_studio_url and not s.label_studio_api_key:
        raise ConfigError("LABEL_STUDIO_URL is set but LABEL_STUDIO_API_KEY is not; set both to use an external server")
    if s.label_studio_url and not s.label_studio_url.startswith(("http://", "https://")):
        raise ConfigError(f"LABEL_STUDIO_URL must start with http:// or https://, got {redact_url(s.label_studio_url)!r}")
    database = s.database or ""  # an empty value in annotate.toml arrives as None
    if database not in ("sqlite", "postgresql") and not database.startswith(DATABASE_SCHEMES):
        raise ConfigError(f"database must be sqlite, postgresql (a private cluster) or a postgresql://user@host:port/db "
                          f"URL, got {redact_url(database)!r}")
    for name in ("port", "dashboard_port"):
        if not 1 <= getattr(s, name) <= 65535:
            raise ConfigError(f"{name} must be between 1 and 65535, got {getattr(s, name)}")
    if s.annotators_per_task < 1:
        raise ConfigError(f"annotators_per_task must be at least 1, got {s.annotators_per_task}")
    if not 0 <= s.overlap_percent <= 100:
        raise ConfigError(f"overlap_percent must be between 0 and 100, got {s.overlap_percent}")
    for name in ("near_duplicate_threshold", "split_near_duplicate_threshold"):
        if not 0.0 < getattr(s, name) <= 1.0:
            raise ConfigError(f"{name} must be in (0, 1] (Jaccard similarity of two articles' word 5-gram sets; "
                              f"1: the same wording only), got {getattr(s, name)}")
    if not 0.0 <= s.dev_ratio < 1.0:
        raise ConfigError(f"dev_ratio must be in [0, 1), got {s.dev_ratio}")
    if s.batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1 (tasks per import request), got {s.batch_size}")
    if s.keep_archives < 0:
        raise ConfigError(f"keep_archives must be 0 (keep all) or more, got {s.keep_archives}")
