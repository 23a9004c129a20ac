"""Gold dataset exports: gold.jsonl, DocBin, CoNLL, span and event tables, dataset card."""

from .build import ExportResult, export_gold, pooled_span_f1

__all__ = ["ExportResult", "export_gold", "pooled_span_f1"]
