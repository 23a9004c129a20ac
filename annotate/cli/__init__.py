"""The `annotate` command line: a thin layer over pipeline and library functions.

Each command group lives in its own module; importing it registers its commands on `main`.
"""

from . import _commands  # noqa: F401  (registers every command module)
from .app import main

__all__ = ["main"]
