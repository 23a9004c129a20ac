"""Accessors for the settings and data store of the running app (set up by create_app)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import current_app

from ..config import Settings
from .store import DataStore


def settings() -> Settings:
    return current_app.extensions["annotate.settings"]


def store() -> DataStore:
    return current_app.extensions["annotate.data"]


def label_studio_url() -> str:
    """Where annotators work: the external server, else the embedded one on 127.0.0.1."""
    s = settings()
    parts = urlsplit((s.label_studio_url or f"http://127.0.0.1:{s.port}").rstrip("/"))
    # A password inside LABEL_STUDIO_URL never reaches a page: the link carries the host only.
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
