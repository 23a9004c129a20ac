"""Scores of predicted Documents against gold ones: spans per label and relations per type, both matching modes.

Span matching, the counts, P/R/F1 and the empty case (n/a) are annotate.scoring's, the one definition shared with
the agreement report and the export gate: sets of (start, end, label), exact or largest one-to-one overlap.
Overall figures are micro-averaged (summed counts).

Relations (per type) are matched through their end spans: exact, a predicted relation is right when a gold
relation of the same type joins spans with the same (start, end, label) at both ends; overlap, each predicted
span stands for the gold span the one-to-one overlap matching pairs it with (exact pairs first). Relations are
sets too (one drawn twice is one), so each gold relation is counted at most once. `reachable` counts the gold
relations whose two ends both have a matching predicted span: the most a relation step over these spans could get
right.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from .errors import InputError
from .records import Document, SpanKey, relation_keys
from .scoring import MODES, Counts, Mode, SpanLike, match_spans, overlap_pairs, prf, show, span_keys


def match_relations(gold: Document, pred: Document, mode: Mode = "exact") -> dict[str, tuple[Counts, int]]:
    """Per relation type: (tp, fp, fn) of `pred`'s relations against `gold`'s, and how many gold ones are reachable."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    gold_rels = set(relation_keys(gold.spans, gold.relations))
    pred_rels = set(relation_keys(pred.spans, pred.relations))
    if mode == "exact":
        found = span_keys(pred.spans)
        aligned = {key: key for key in found}
    else:
        aligned = _aligned_spans(gold.spans, pred.spans)
        found = set(aligned.values())
    # The alignment is one-to-one, so distinct predicted relations stay distinct; ends it leaves unpaired become
    # None and still count, each as its own false positive (hence a Counter, not a set, after moving).
    moved = Counter((aligned.get(a), aligned.get(b), label) for a, b, label in pred_rels)
    result = {}
    for label in sorted({r[2] for r in gold_rels} | {r[2] for r in moved}):
        g = {r for r in gold_rels if r[2] == label}
        n_pred = sum(n for r, n in moved.items() if r[2] == label)
        tp = sum(1 for r in g if moved[r])
        reachable = sum(1 for a, b, _ in g if a in found and b in found)
        result[label] = (Counts(tp, n_pred - tp, len(g) - tp), reachable)
    return result


def _aligned_spans(gold: Iterable[SpanLike], pred: Iterable[SpanLike]) -> dict[SpanKey, SpanKey]:
    """Predicted span key -> key of the gold span the overlap matching pairs it with."""
    gold_keys, pred_keys = sorted(span_keys(gold)), sorted(span_keys(pred))
    out: dict[SpanKey, SpanKey] = {}
    for label in {k[2] for k in gold_keys} & {k[2] for k in pred_keys}:
        g = [k for k in gold_keys if k[2] == label]
        p = [k for k in pred_keys if k[2] == label]
        for gi, pi in overlap_pairs(g, p).items():
            out[p[pi]] = g[gi]
    return out


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
    types = {label: {**prf(counts[label], "relation"), "reachable": reachable[label]} for label in sorted(counts)}
    overall = prf(sum(counts.values(), Counts()), "relation")
    return {"types": types, "overall": {**overall, "reachable": sum(reachable.values())}}


def _by_id(docs: Iterable[Document], which: str) -> dict[str, Document]:
    out: dict[str, Document] = {}
    for doc in docs:
        if doc.id in out:
            raise InputError(f"document id {doc.id!r} appears twice in the {which} file; ids must be unique")
        out[doc.id] = doc
    return out


def format_scores(result: dict[str, Any]) -> str:
    """A plain-text table of a `score_documents` result, one block per matching mode; n/a cells say why beside."""
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
            lines.append(_row(name, r, ""))
    header += f"{'reach':>8}"
    for mode in MODES:
        block = result["relations"][mode]
        lines += ["", f"relations, {mode} match (reach: gold relations with both ends predicted)", header,
                  "-" * len(header)]
        for name, r in [*block["types"].items(), ("overall", block["overall"])]:
            lines.append(_row(name, r, f"{r['reachable']:>8}"))
    return "\n".join(lines)


def _row(name: str, r: dict[str, Any], extra: str) -> str:
    cells = "".join(f"{show(r[k]):>8}" for k in ("precision", "recall", "f1"))
    note = f"  ({r['reason']})" if r.get("reason") else ""
    return f"{name:<12}{r['tp']:>6}{r['fp']:>6}{r['fn']:>6}{cells}{extra}{note}"
