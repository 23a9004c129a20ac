"""The rule stages as registered spaCy components: entities, outcomes, relations.

Each carries the rule files it was built from (ruledata.RuleData), saved by to_disk and read back by
from_disk, so `spacy.load` of a saved pre-annotator needs no guidelines folder. A component made from
config alone has no rules yet: `set_rules` (build time) or `from_disk` (load time) gives it them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from ..errors import ConfigError
from .matchers import RuleMatcher, model_candidates, quoted_parties, reporting_sources, taken_places
from .outcome import OutcomeFinder
from .relations import RelationFinder
from .resolve import Candidate, clean, extend_names, propagate, resolve
from .ruledata import RuleData, read_rule_data
from .rules import SOURCE_LABEL
from .spangroups import ENTITIES, RULE_RELATIONS, RULES, get_candidates, put_candidates, register_extensions, to_records


class RuleStage:
    """What the three rule components share: their RuleData and its serialisation."""

    def __init__(self, nlp: Language, name: str):
        self.nlp, self.name = nlp, name  # the matcher tokenizes phrase patterns with nlp.make_doc
        self.data: RuleData | None = None
        register_extensions()

    def set_rules(self, data: RuleData) -> None:
        """Give the component its rules (and build what it derives from them)."""
        self.data = data
        self._setup(data)

    def _setup(self, data: RuleData) -> None:
        raise NotImplementedError

    def _rules(self) -> RuleData:
        if self.data is None:
            raise ConfigError(f"pipeline component {self.name!r} has no rules: build the pipeline with "
                              "preannotate.build_pipeline or load a saved one with spacy.load")
        return self.data

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self._rules().to_disk(Path(path))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> RuleStage:
        self.set_rules(read_rule_data(path))
        return self


class EntityStage(RuleStage):
    """ACTOR/LOCATION (and SOURCE) spans: rule matches and mapped base-model entities, cleaned and resolved."""

    def _setup(self, data: RuleData) -> None:
        rules = data.rules
        self.matcher = RuleMatcher(self.nlp, rules)
        self.mapping = data.mapping
        self.attribute_suffixes = rules.words("attribute_suffixes")
        self.reporting_verbs = rules.words("reporting_verbs")
        self.event_nouns = rules.words("event_nouns")
        self.place_verbs = rules.words("place_taking_verbs")
        self.group_heads = rules.words("group_heads") | rules.words("weak_group_heads")

    def __call__(self, doc: Doc) -> Doc:
        self._rules()
        raw = [*self.matcher(doc), *model_candidates(doc, self.mapping, self.event_nouns),
               *reporting_sources(doc, self.reporting_verbs), *taken_places(doc, self.place_verbs)]
        entities = [c for c in raw if c.label != "OUTCOME"]
        patterned_outcomes = [c for c in raw if c.label == "OUTCOME"]
        first = extend_names(doc, resolve(self._clean(doc, entities)), self.group_heads)
        second = resolve([*first, *self._clean(doc, propagate(doc, first))])
        second = quoted_parties(doc, second, self.reporting_verbs)
        put_candidates(doc, ENTITIES, [*second, *patterned_outcomes])
        return doc

    def _clean(self, doc: Doc, cands: Iterable[Candidate]) -> list[Candidate]:
        cleaned = (clean(doc, c, self.attribute_suffixes) for c in cands)
        return [c for c in cleaned if c is not None]


class OutcomeStage(RuleStage):
    """OUTCOME spans from the parse, resolved against the entities: the rules' final spans (no SOURCE)."""

    def _setup(self, data: RuleData) -> None:
        self.outcomes = OutcomeFinder(data.rules)

    def __call__(self, doc: Doc) -> Doc:
        self._rules()
        entities = get_candidates(doc, ENTITIES)
        final = resolve([*entities, *self.outcomes(doc, entities)])
        # a cited source (SOURCE) was kept only to block ACTOR on its words
        put_candidates(doc, RULES, [c for c in final if c.label != SOURCE_LABEL])
        return doc


class RelationStage(RuleStage):
    """agent_of / target_of / located_at relations between the rules' spans, by relations.toml."""

    def _setup(self, data: RuleData) -> None:
        self.finder = RelationFinder(data.relations)

    def __call__(self, doc: Doc) -> Doc:
        self._rules()
        spans = to_records(doc, get_candidates(doc, RULES))
        setattr(doc._, RULE_RELATIONS, [[r.from_id, r.to_id, r.label] for r in self.finder(doc, spans)])
        return doc


@Language.factory("annotate_entities")
def make_entities(nlp: Language, name: str) -> EntityStage:
    """The entity rule stage (rules given by set_rules or from_disk)."""
    return EntityStage(nlp, name)


@Language.factory("annotate_outcomes")
def make_outcomes(nlp: Language, name: str) -> OutcomeStage:
    """The OUTCOME rule stage, after annotate_entities."""
    return OutcomeStage(nlp, name)


@Language.factory("annotate_relations")
def make_relations(nlp: Language, name: str) -> RelationStage:
    """The relation rule stage, after annotate_outcomes."""
    return RelationStage(nlp, name)
