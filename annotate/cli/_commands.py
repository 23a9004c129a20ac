"""Imports every command module so its commands register on `main`. One line per module."""
# ruff: noqa: F401
from . import server
from . import sync
from . import agreement
from . import guidelines
from . import gold
from . import ingest
from . import preannotate
from . import web
from . import train
from . import mlbackend
from . import annotators
