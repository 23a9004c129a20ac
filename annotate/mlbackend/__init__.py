"""A Label Studio ML backend (Flask) serving the current model's predictions and retraining on new annotations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_backend"]


def create_backend(*args: Any, **kwargs: Any) -> Flask:
    """The Flask app (see app.create_backend); Flask is imported only when one is made."""
    from .app import create_backend as create

    return create(*args, **kwargs)
