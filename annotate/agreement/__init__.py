"""Agreement between annotators, and between the pre-annotation model and annotators (pure functions)."""

from .report import agreement_report

__all__ = ["agreement_report"]
