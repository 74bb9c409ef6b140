"""Gene-expression toolkit: GEO and TCGA cohorts to trait-associated genes, GenoTEX compatible.

Layout (scanpy-like): ``io`` readers, ``pp`` preprocessing (symbols, probe mapping, clinical features,
linking, cleaning, cohort records), ``tl`` tools (cohort selection, regression), ``metrics``
(CSC, P/R/F1, AUROC, GSEA-ES), ``pipeline`` (preprocess / analyze / evaluate), ``cli`` (``expr_app``).
The method is described in docs/expression.md. Nothing runs on import.
"""

from __future__ import annotations

from omicsagent.expression import io, metrics, pp, tl
from omicsagent.expression.pipeline import (
    AnalyzeOptions,
    PreprocessOptions,
    analyze,
    evaluate,
    preprocess_cohort,
)
from omicsagent.expression.pp.symbols import load_alias_table

__all__ = [
    "AnalyzeOptions",
    "PreprocessOptions",
    "analyze",
    "evaluate",
    "io",
    "load_alias_table",
    "metrics",
    "pp",
    "preprocess_cohort",
    "tl",
]
