"""Span precision, recall and F1 between gold and predicted Documents (pure functions, stdlib only).

Matching rules (the same for model-vs-gold and annotator-vs-annotator):
- exact: a predicted span is a true positive when a gold span has the same (start, end, label).
  Duplicates count once each (multiset intersection).
- overlap: a gold span and a predicted span can match when they have the same label and share at
  least one character (``p.start < g.end and g.start < p.end``). Each gold span and each predicted
  span is used at most once; tp is the size of the LARGEST such one-to-one matching (computed per
  label with augmenting paths), so the figure does not depend on span order.
Per label: fp = predicted - tp, fn = gold - tp. Overall figures are micro-averaged (summed counts).
Precision, recall or F1 whose denominator is 0 is reported as 0.0.

Relations (per type) are matched through their end spans: exact, a predicted relation is right when a
gold relation of the same type joins spans with the same (start, end, label) at both ends; overlap, each
predicted span stands for the gold span the one-to-one overlap matching above pairs it with (exact pairs
first). Each gold relation is counted at most once. `reachable` counts the gold relations whose two ends
both have a matching predicted span: the most a relation step over these spans could get right.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple, Protocol

from .errors import InputError
from .records import Document, SpanKey, relation_keys

Mode = Literal["exact", "overlap"]
MODES: tuple[Mode, ...] = ("exact", "overlap")


class SpanLike(Protocol):
    start: int
    end: int
    label: str


class Counts(NamedTuple):
    """True positives, false positives, false negatives for one label."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: object) -> Counts:  # type: ignore[override]
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def match_spans(gold: Iterable[SpanLike], pred: Iterable[SpanLike], mode: Mode = "exact") -> dict[str, Counts]:
    """Per-label (tp, fp, fn) of `pred` against `gold` under the module's exact or overlap rule."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    by_label_gold: dict[str, list[SpanLike]] = defaultdict(list)
    by_label_pred: dict[str, list[SpanLike]] = defaultdict(list)
    for span in gold:
        by_label_gold[span.label].append(span)
    for span in pred:
        by_label_pred[span.label].append(span)
    result: dict[str, Counts] = {}
    for label in sorted(set(by_label_gold) | set(by_label_pred)):
        g, p = by_label_gold[label], by_label_pred[label]
        tp = _exact_tp(g, p) if mode == "exact" else _overlap_tp(g, p)
        result[label] = Counts(tp, len(p) - tp, len(g) - tp)
    return result


def _exact_tp(gold: Sequence[SpanLike], pred: Sequence[SpanLike]) -> int:
    common = Counter((s.start, s.end) for s in gold) & Counter((s.start, s.end) for s in pred)
    return sum(common.values())


def _overlap_tp(gold: Sequence[SpanLike], pred: Sequence[SpanLike]) -> int:
    return len(_overlap_pairs(gold, pred))


def _overlap_pairs(gold: Sequence[SpanLike], pred: Sequence[SpanLike]) -> dict[int, int]:
    """Gold index -> pred index of a largest one-to-one overlap matching (spans of one label)."""
    # Maximum bipartite matching (Kuhn): a greedy pass can miss matches when one long span overlaps two.
    # Seeding with the exact pairs keeps them paired unless that would make the matching smaller.
    edges = [[gi for gi, g in enumerate(gold) if p.start < g.end and g.start < p.end] for p in pred]
    owner: dict[int, int] = {}  # gold index -> pred index
    for pi, p in enumerate(pred):
        same = [gi for gi in edges[pi] if (gold[gi].start, gold[gi].end) == (p.start, p.end) and gi not in owner]
        if same:
            owner[same[0]] = pi
    paired = set(owner.values())

    def augment(pi: int, seen: set[int]) -> bool:
        for gi in edges[pi]:
            if gi in seen:
                continue
            seen.add(gi)
            if gi not in owner or augment(owner[gi], seen):
                owner[gi] = pi
                return True
        return False

    for pi in range(len(pred)):
        if pi not in paired and edges[pi]:
            augment(pi, set())
    return owner




def match_relations(gold: Document, pred: Document, mode: Mode = "exact") -> dict[str, tuple[Counts, int]]:
    """Per relation type: (tp, fp, fn) of `pred`'s relations against `gold`'s, and how many gold ones are reachable."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    gold_rels = relation_keys(gold.spans, gold.relations)
    pred_rels = relation_keys(pred.spans, pred.relations)
    if mode == "exact":
        found = {s.key for s in pred.spans}
        aligned = {key: key for key in found}
    else:
        aligned = _aligned_spans(gold.spans, pred.spans)
        found = set(aligned.values())
    moved = [(aligned.get(a), aligned.get(b), label) for a, b, label in pred_rels]
    result = {}
    for label in sorted({r[2] for r in gold_rels} | {r[2] for r in moved}):
        g = Counter(r for r in gold_rels if r[2] == label)
        p = Counter(r for r in moved if r[2] == label)
        tp = sum((g & p).values())
        reachable = sum(n for (a, b, _), n in g.items() if a in found and b in found)
        result[label] = (Counts(tp, sum(p.values()) - tp, sum(g.values()) - tp), reachable)
    return result


def _aligned_spans(gold: Sequence[SpanLike], pred: Sequence[SpanLike]) -> dict[SpanKey, SpanKey]:
    """Predicted span key -> key of the gold span the overlap matching pairs it with."""
    out: dict[SpanKey, SpanKey] = {}
    for label in {s.label for s in gold} & {s.label for s in pred}:
        g = [s for s in gold if s.label == label]
        p = [s for s in pred if s.label == label]
        for gi, pi in _overlap_pairs(g, p).items():
            out[(p[pi].start, p[pi].end, label)] = (g[gi].start, g[gi].end, label)
    return out


def prf(counts: Counts) -> dict[str, float | int]:
    """Counts plus precision, recall and F1 (0.0 where a denominator is 0)."""
    tp, fp, fn = counts
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(f1, 4)}


def score_documents(gold_docs: Iterable[Document], pred_docs: Iterable[Document]) -> dict[str, Any]:
    """Score predictions against gold documents matched by id, for both matching modes.

    A gold document absent from the predictions counts all its spans as missed and is listed in
    `documents.missing_in_pred`; predicted documents absent from gold are ignored and listed in
    `documents.extra_in_pred`. The same id with different text raises InputError.
    """
    gold = _by_id(gold_docs, "gold")
    pred = _by_id(pred_docs, "pred")
    totals: dict[Mode, dict[str, Counts]] = {mode: defaultdict(Counts) for mode in MODES}
    relations: dict[Mode, dict[str, Counts]] = {mode: defaultdict(Counts) for mode in MODES}
    reachable: dict[Mode, Counter[str]] = {mode: Counter() for mode in MODES}
    for doc_id, gdoc in gold.items():
        pdoc = pred.get(doc_id)
        if pdoc is not None and pdoc.text != gdoc.text:
            raise InputError(f"document {doc_id!r} has different text in the gold and the predictions; "
                             "both files must come from the same ingested articles")
        for mode in MODES:
            for label, counts in match_spans(gdoc.spans, pdoc.spans if pdoc else (), mode).items():
                totals[mode][label] = totals[mode][label] + counts
            for label, (counts, ends) in match_relations(gdoc, pdoc or Document(doc_id, gdoc.text, ()), mode).items():
                relations[mode][label] = relations[mode][label] + counts
                reachable[mode][label] += ends
    result: dict[str, Any] = {
        "documents": {
            "gold": len(gold),
            "pred": len(pred),
            "matched": sum(1 for doc_id in gold if doc_id in pred),
            "missing_in_pred": sorted(set(gold) - set(pred)),
            "extra_in_pred": sorted(set(pred) - set(gold)),
        }
    }
    for mode in MODES:
        labels = totals[mode]
        overall = sum(labels.values(), Counts())
        result[mode] = {"labels": {lab: prf(labels[lab]) for lab in sorted(labels)}, "overall": prf(overall)}
    result["relations"] = {mode: _relation_block(relations[mode], reachable[mode]) for mode in MODES}
    return result


def _relation_block(counts: dict[str, Counts], reachable: Counter[str]) -> dict[str, Any]:
    types = {label: {**prf(counts[label]), "reachable": reachable[label]} for label in sorted(counts)}
    return {"types": types, "overall": {**prf(sum(counts.values(), Counts())), "reachable": sum(reachable.values())}}


def _by_id(docs: Iterable[Document], which: str) -> dict[str, Document]:
    out: dict[str, Document] = {}
    for doc in docs:
        if doc.id in out:
            raise InputError(f"document id {doc.id!r} appears twice in the {which} file; ids must be unique")
        out[doc.id] = doc
    return out


def format_scores(result: dict[str, Any]) -> str:
    """A plain-text table of a `score_documents` result, one block per matching mode."""
    lines = []
    docs = result["documents"]
    lines.append(f"documents: {docs['gold']} gold, {docs['pred']} predicted, {docs['matched']} matched")
    if docs["missing_in_pred"]:
        lines.append(f"missing from predictions (gold spans counted as missed): {', '.join(docs['missing_in_pred'])}")
    if docs["extra_in_pred"]:
        lines.append(f"predicted but not in gold (ignored): {', '.join(docs['extra_in_pred'])}")
    header = f"{'label':<12}{'tp':>6}{'fp':>6}{'fn':>6}{'P':>8}{'R':>8}{'F1':>8}"
    for mode in MODES:
        lines += ["", f"{mode} match", header, "-" * len(header)]
        rows = [*result[mode]["labels"].items(), ("overall", result[mode]["overall"])]
        for name, r in rows:
            lines.append(_row(name, r))
    header += f"{'reach':>8}"
    for mode in MODES:
        block = result["relations"][mode]
        lines += ["", f"relations, {mode} match (reach: gold relations with both ends predicted)", header,
                  "-" * len(header)]
        for name, r in [*block["types"].items(), ("overall", block["overall"])]:
            lines.append(_row(name, r) + f"{r['reachable']:>8}")
    return "\n".join(lines)


def _row(name: str, r: dict[str, Any]) -> str:
    return f"{name:<12}{r['tp']:>6}{r['fp']:>6}{r['fn']:>6}{r['precision']:>8.3f}{r['recall']:>8.3f}{r['f1']:>8.3f}"
