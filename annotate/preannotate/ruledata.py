"""The rule files and label mapping a rule component carries, saved with the pipeline (to_disk/from_disk).

A saved pipeline holds its own copy of the rule files it was built from, byte for byte, so the rules'
digest, and with it the pre-annotator's model_version, is the same after `spacy.load`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..schema import Schema
from .relrules import RelationRules, load_relation_rules
from .rules import RULES_DIR, RuleSet, load_rules, rule_files

CFG_FILE = "cfg.json"


@dataclass(frozen=True)
class RuleData:
    """Rule file bytes by name, the schema's labels and base-model label mapping, and both parses of the files."""

    files: dict[str, bytes]
    labels: tuple[str, ...]
    mapping: dict[str, str]
    rules: RuleSet
    relations: RelationRules

    def to_disk(self, path: Path) -> None:
        """Write `path/rules/<file>` for every rule file and `path/cfg.json` (labels, mapping)."""
        folder = Path(path) / RULES_DIR
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (folder / name).write_bytes(data)
        cfg = {"labels": list(self.labels), "mapping": self.mapping}
        (Path(path) / CFG_FILE).write_text(json.dumps(cfg, indent=2, sort_keys=True), encoding="utf-8")


def rule_data(guidelines_dir: Path | str, schema: Schema) -> RuleData:
    """Read the rules of a guidelines folder with the schema's labels and mapping (InputError if invalid)."""
    mapping = {m: label.name for label in schema.labels for m in label.model_labels}
    return _parse(guidelines_dir, schema.label_names, mapping)


def read_rule_data(path: Path | str) -> RuleData:
    """The RuleData that `RuleData.to_disk(path)` wrote."""
    cfg = json.loads((Path(path) / CFG_FILE).read_text(encoding="utf-8"))
    return _parse(path, tuple(cfg["labels"]), dict(cfg["mapping"]))


def _parse(folder: Path | str, labels: tuple[str, ...], mapping: dict[str, str]) -> RuleData:
    files = {p.name: p.read_bytes() for p in rule_files(folder)}
    rules = load_rules(folder, labels)
    return RuleData(files, labels, mapping, rules, load_relation_rules(folder, rules.lexicon))
