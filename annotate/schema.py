"""The label schema: read once from guidelines/schema.toml; every consumer is generated from it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import SchemaError

SCHEMA_FILE = "schema.toml"
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Label:
    name: str
    description: str
    color: str
    hotkey: str
    model_labels: tuple[str, ...] = ()  # base-model entity labels mapped onto this label by pre-annotation


@dataclass(frozen=True)
class RelationType:
    name: str
    description: str
    source: str
    target: str


@dataclass(frozen=True)
class Schema:
    """Labels and relation types, with the guidelines version they belong to."""

    version: str
    labels: tuple[Label, ...]
    relations: tuple[RelationType, ...] = ()

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def color(self, name: str) -> str:
        return next((lab.color for lab in self.labels if lab.name == name), "#7f7f7f")

    def require_label(self, name: str, where: str = "") -> None:
        """Raise SchemaError unless `name` is one of the schema's labels."""
        if name not in self.label_names:
            prefix = f"{where}: " if where else ""
            raise SchemaError(f"{prefix}unknown label {name!r}; valid labels: {', '.join(self.label_names)}")


def load_schema(guidelines_dir: Path | str) -> Schema:
    """Read and validate `schema.toml` in the guidelines folder."""
    path = Path(guidelines_dir) / SCHEMA_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SchemaError(f"{path}: not found; the label schema must live there") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"{path}: not valid TOML ({exc})") from exc
    try:
        labels = tuple(
            Label(d["name"], d.get("description", ""), d.get("color", "#7f7f7f"), d.get("hotkey", ""),
                  tuple(str(m) for m in d.get("model_labels", ())))
            for d in data["labels"]
        )
        relations = tuple(
            RelationType(d["name"], d.get("description", ""), d["from"], d["to"]) for d in data.get("relations", [])
        )
        schema = Schema(str(data["version"]), labels, relations)
    except (KeyError, TypeError) as exc:
        raise SchemaError(f"{path}: missing field {exc}; each label needs name, each relation name/from/to") from exc
    _validate(schema, path)
    return schema


def _validate(schema: Schema, path: Path) -> None:
    names = schema.label_names
    if not names:
        raise SchemaError(f"{path}: defines no labels")
    if len(set(names)) != len(names):
        raise SchemaError(f"{path}: duplicate label names in {names}")
    hotkeys = [lab.hotkey for lab in schema.labels if lab.hotkey]
    if len(set(hotkeys)) != len(hotkeys):
        raise SchemaError(f"{path}: two labels share a hotkey ({hotkeys})")
    for lab in schema.labels:
        if not _NAME.match(lab.name):
            raise SchemaError(f"{path}: label {lab.name!r} must be upper case letters, digits or _")
        if not _COLOR.match(lab.color):
            raise SchemaError(f"{path}: label {lab.name} colour {lab.color!r} must look like #1f77b4")
    mapped = [m for lab in schema.labels for m in lab.model_labels]
    if len(set(mapped)) != len(mapped):
        raise SchemaError(f"{path}: a model label is mapped onto two labels ({mapped}); each may map to one label")
    for rel in schema.relations:
        for end in (rel.source, rel.target):
            if end not in names:
                raise SchemaError(f"{path}: relation {rel.name} uses unknown label {end!r}; valid: {', '.join(names)}")
