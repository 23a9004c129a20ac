"""The dataset card (README.md of an export folder): what is in it, where it came from, how to load it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..gold.provenance import ACCEPTED, inflation_caveat
from ..scoring import NA
from .eventcard import TYPES, events_lines
from .rows import SPAN_FIELDS

LOADING = """\
```python
import json
gold = [json.loads(line) for line in open("gold.jsonl", encoding="utf-8")]

import spacy
from spacy.tokens import DocBin
nlp = spacy.blank("en")
train = list(DocBin().from_disk("train.spacy").get_docs(nlp.vocab))  # spans: doc.spans["sc"], doc.ents

import pandas as pd
spans = pd.read_parquet("spans.parquet")     # or pd.read_csv("spans.csv"); meta: spans["meta"].map(json.loads)
both = pd.read_parquet(["old/spans.parquet", "new/spans.parquet"])  # every export has the same schema: they stack
events = pd.read_parquet("events.parquet")  # or pd.read_csv("events.csv"); relations: doc.user_data["relations"]
```

Train a spaCy NER model on it: `python -m spacy train config.cfg --paths.train train.spacy --paths.dev dev.spacy`.
Convert the CoNLL file yourself: `python -m spacy convert gold.conll out/ --converter conll`.
"""

FILES = {
    "gold.jsonl": "one article per line: text, meta, status, gold spans with provenance, relations (see gold.jsonl)",
    "disagreements.jsonl": "spans and relations still open for the lead (partial support), one per line; `kind` "
                           "says which",
    "train.spacy / dev.spacy": "spaCy DocBin; every span in `doc.spans['sc']`, non-overlapping ones in `doc.ents`; "
                               "relations in `doc.user_data['relations']` as `[head, child, type]`, head and child "
                               "indexing `doc.spans['sc']` (head = the relation's from span)",
    "gold.conll": "CoNLL-2003 style BIO (from `doc.ents`), `-DOCSTART- -X- O O` per document",
    "spans.csv / spans.parquet": "one row per gold span with document metadata (see Spans table)",
    "events.csv / events.parquet": "one row per gold OUTCOME: type, casualty count, tied actors and places by span "
                                   "id and text, its sentence (see Events)",
    "problems.jsonl": "everything reported while building (misaligned spans, quarantined annotations, ...)",
    "manifest.json": "sha256 of every file, counts",
}


# What each kind in problems.jsonl means; kinds not listed are shown by name only.
PROBLEM_KINDS = {
    "quarantined": "annotations or relations left out because they do not fit the schema (fails the quality gate)",
    "offset": "annotations whose offsets do not select their text, left out (fails the quality gate)",
    "overlapping_spans": "two spans of one annotation overlap, which the guidelines forbid; both kept, for the lead "
                         "to look at (see problems.jsonl for annotator, task and spans)",
    "overlap": "a gold span inside or across a longer gold span: in `doc.spans['sc']`, left out of `doc.ents` and "
               "CoNLL",
    "alignment": "a gold span that does not fall on token boundaries: expanded (or left out) in DocBin and CoNLL",
    "duplicate": "an article imported as more than one task: the task with most annotators kept",
    "decision": "a lead decision for an article not in this export",
    "edited_by_other": "an annotation last saved by someone other than its author (Label Studio's updated_by): "
                       "kept, but agreement on it may not be two people's",
    "relation_end": "a lead accepted a relation whose end span is not in the gold (still open): left out until it is",
    "stale_decision": "a lead decision made on another text at its offsets (the article changed, or an old log "
                      "line's task id now names another article): not applied",
    "events": "guidelines/rules/events.toml is missing or does not fit schema.toml: events written without types "
              "and counts (or with relation types the schema lacks)",
}


GOLD_JSONL = [
    "Span offsets are characters: `start`/`end` in `text`, `source_start`/`source_end` in the input as given.",
    "`aligned_start`/`aligned_end` are the character offsets the span has in the DocBin and CoNLL: equal to "
    "`start`/`end` when `token_aligned`, else expanded to token boundaries (null when it covers no token). They are "
    "not called `token_start`/`token_end` because in Prodigy-style JSONL those hold token indices, and there are "
    "no `tokens` here: tokenise with `spacy.blank(\"en\")` (as the DocBin does) for token indices.",
    "`origin` is where the span came from: `prediction` (a model prediction accepted unchanged), `corrected` "
    "(`correction` says how) or `hand`.",
]


def _spans_lines() -> list[str]:
    """The spans table's columns: one schema for every export, the CSV the same columns as the Parquet."""
    lines = ["## Spans table (spans.csv, spans.parquet)", "",
             "- Every export has the same columns and types (an empty column keeps its type), so exports stack: "
             "`pd.read_parquet([a, b])`, `pyarrow.dataset.dataset([a, b])`.",
             "- `meta` is the article's metadata as one JSON text (sorted keys), in the CSV as in the Parquet; "
             "`annotators` is joined by `|`.", "", "| column | type |", "|---|---|"]
    return lines + [f"| `{name}` | {TYPES.get(kind, 'true/false')} |" for name, kind in SPAN_FIELDS] + [""]


@dataclass(frozen=True)
class CardInputs:
    source: str
    guideline_version: str
    documents: Mapping[str, int]  # split -> documents
    label_counts: Mapping[str, Mapping[str, int]]  # label -> split -> spans
    statuses: Mapping[str, int]
    annotators: Sequence[str]
    origins: Mapping[str, int]
    open_disagreements: int
    problems: Mapping[str, int]
    agreement: float | None
    agreement_reason: str | None  # why `agreement` is None (n/a)
    agreement_report: Mapping[str, Any] | None
    report_reason: str | None  # why the agreement report is omitted
    tasks_with_predictions: int = 0


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _fmt(value: Any) -> str:
    return NA if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _ci(row: Mapping[str, Any]) -> str:
    """The interval, or why there is none (too few tasks), or nothing where there is no value."""
    if row.get("ci_reason"):
        return str(row["ci_reason"])
    if row.get("ci_low") is None or row.get("ci_high") is None:  # no value (its note says why), or no bootstrap
        return ""
    return f"{_fmt(row['ci_low'])}-{_fmt(row['ci_high'])}"


def _agreement_lines(card: CardInputs) -> list[str]:
    why = f" ({card.agreement_reason})" if card.agreement is None and card.agreement_reason else ""
    lines = ["## Agreement", "",
             f"Pooled pairwise exact span F1 (the `--min-agreement` measure): {_fmt(card.agreement)}{why}", ""]
    report = card.agreement_report
    if report is None:
        return lines + [f"Full agreement report omitted: {card.report_reason}.", ""]
    lines += [f"Intervals: 95% bootstrap over tasks, given only over {report['bootstrap']['min_tasks']} or more tasks "
              "(fewer allow too few distinct resamples, and the interval comes out too narrow).", ""]
    pooled = [r for r in report.get("span_f1", []) if r.get("label") == "all"]
    if pooled:
        lines += _table(["annotator a", "annotator b", "mode", "tasks", "F1", "95% CI", "note"],
                        [[r["annotator_a"], r["annotator_b"], r["mode"], r["n_tasks"], _fmt(r.get("value")),
                          _ci(r), r.get("reason") or ""] for r in pooled]) + [""]
    lines += _relation_lines(report)
    alpha = [r for r in report.get("token_alpha", []) if r.get("label", "all") == "all"]
    for row in alpha[:1]:
        lines += [f"Token-level Krippendorff's alpha: {_fmt(row.get('value'))}", ""]
    reasons = {k: v for k, v in (report.get("reasons") or {}).items() if v}
    lines += [f"- {k}: {v}" for k, v in sorted(reasons.items())]
    return lines + ([""] if reasons else [])


def _relation_lines(report: Mapping[str, Any]) -> list[str]:
    """Pooled relation F1 per annotator pair; n/a (with its reason) where neither side drew a relation."""
    pooled = [r for r in report.get("relation_f1", []) if r.get("label") == "all"]
    if not pooled:
        return []
    lines = ["Relation F1 (from span, to span, type) between annotators:", ""]
    return lines + _table(["annotator a", "annotator b", "ends", "tasks", "F1", "95% CI", "note"],
                          [[r["annotator_a"], r["annotator_b"], r["mode"], r["n_tasks"], _fmt(r.get("value")),
                            _ci(r), r.get("reason") or ""]
                           for r in pooled]) + [""]


def _model_lines(card: CardInputs) -> list[str]:
    total = sum(card.origins.values())
    lines = ["## Model vs human", "", "Where the gold spans came from (compared with the predictions shown to annotators):", ""]
    if not card.tasks_with_predictions:
        lines += ["No task carried predictions, so every span counts as drawn by hand.", ""]
    lines += _table(["origin", "spans", "share"],
                    [[k, v, _fmt(v / total if total else None)] for k, v in sorted(card.origins.items())]) + [""]
    # Scoring a model against gold made from its own accepted pre-fill inflates it (issue 17: 0.975 against 0.812).
    lines += [inflation_caveat(card.origins.get(ACCEPTED, 0), total), ""]
    report = card.agreement_report
    overall = [r for r in (report or {}).get("model_vs_human", []) if r.get("group_by") == "all"]
    if overall:
        keys = [k for k in overall[0] if k.endswith("_rate") or k in ("n_predicted", "n_tasks")]
        lines += ["Predictions vs each annotator (agreement report):", ""]
        lines += _table(keys, [[_fmt(r.get(k)) for k in keys] for r in overall]) + [""]
    return lines


def _problem_lines(problems: Mapping[str, int]) -> list[str]:
    return [f"- {kind}: {n}" + (f" ({PROBLEM_KINDS[kind]})" if kind in PROBLEM_KINDS else "")
            for kind, n in sorted(problems.items())]


def render_card(card: CardInputs) -> str:
    """The README.md text; everything in it derives from the inputs, so reruns give the same bytes."""
    sides = sorted(card.documents)
    lines = ["# Gold dataset", "", f"- Source: {card.source}", f"- Guidelines version: {card.guideline_version}",
             f"- Documents: {sum(card.documents.values())} ("
             + ", ".join(f"{s} {card.documents[s]}" for s in sides) + ")",
             f"- Annotators ({len(card.annotators)}): {', '.join(card.annotators) or 'none'}",
             f"- Open disagreements (spans and relations): {card.open_disagreements}", "", "## Spans per label", ""]
    rows = [[label, *(counts.get(s, 0) for s in sides), sum(counts.values())]
            for label, counts in sorted(card.label_counts.items())]
    lines += _table(["label", *sides, "total"], rows) + ["", "## Adjudication status of tasks", ""]
    # In the order of gold.STATUSES: adjudicated, in adjudication (decided in part, still open), ground truth, ...
    lines += _table(["status", "tasks"], [(s.replace("_", " "), n) for s, n in card.statuses.items()]) + [""]
    lines += _agreement_lines(card) + _model_lines(card)
    lines += ["## Problems", ""] + (_problem_lines(card.problems) or ["None."]) + [""]
    lines += ["## gold.jsonl", ""] + [f"- {line}" for line in GOLD_JSONL] + [""] + _spans_lines()
    lines += events_lines()
    lines += ["## Files", ""] + [f"- `{name}`: {what}" for name, what in FILES.items()] + ["", "## Loading", "", LOADING]
    return "\n".join(lines)
