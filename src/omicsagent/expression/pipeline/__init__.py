"""End-to-end steps: preprocess a cohort folder, analyze a trait, evaluate against a reference tree."""

from __future__ import annotations

from omicsagent.expression.pipeline.analyze import AnalyzeOptions, AnalyzeResult, analyze, load_task_info
from omicsagent.expression.pipeline.evaluate import Evaluation, evaluate
from omicsagent.expression.pipeline.preprocess import (
    PreprocessOptions,
    PreprocessResult,
    detect_kind,
    preprocess_cohort,
)

__all__ = [
    "AnalyzeOptions",
    "AnalyzeResult",
    "Evaluation",
    "PreprocessOptions",
    "PreprocessResult",
    "analyze",
    "detect_kind",
    "evaluate",
    "load_task_info",
    "preprocess_cohort",
]
