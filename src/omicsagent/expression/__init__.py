"""Gene-expression toolkit: GEO and TCGA cohorts to trait-associated genes, GenoTEX compatible.

Layout (scanpy-like): ``io`` readers, ``pp`` preprocessing (symbols, probe mapping, clinical features,
linking, cleaning, cohort records), ``tl`` tools (cohort selection, regression), ``metrics``
(CSC, P/R/F1, AUROC, GSEA-ES), ``pipeline`` (preprocess / analyze / evaluate), ``knowledge`` (disease
names, synonyms and abbreviations from the Disease Ontology), ``synthetic`` (cohorts in the real file
formats), ``cli`` (``expr_app``). The method is described in docs/expression.md. Nothing runs on
import, and the submodules load on first use (``omicsagent.expression.knowledge`` does not pull in
scikit-learn).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omicsagent.expression import io, knowledge, metrics, pipeline, pp, synthetic, tl
    from omicsagent.expression.pipeline import (
        AnalyzeOptions,
        PreprocessOptions,
        analyze,
        evaluate,
        preprocess_cohort,
    )
    from omicsagent.expression.pp.symbols import load_alias_table

_SUBMODULES = ("io", "knowledge", "metrics", "pipeline", "pp", "synthetic", "tl")
_ATTRIBUTES = {
    "AnalyzeOptions": "omicsagent.expression.pipeline",
    "PreprocessOptions": "omicsagent.expression.pipeline",
    "analyze": "omicsagent.expression.pipeline",
    "evaluate": "omicsagent.expression.pipeline",
    "preprocess_cohort": "omicsagent.expression.pipeline",
    "load_alias_table": "omicsagent.expression.pp.symbols",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AnalyzeOptions",
    "PreprocessOptions",
    "analyze",
    "evaluate",
    "io",
    "knowledge",
    "load_alias_table",
    "metrics",
    "pipeline",
    "pp",
    "preprocess_cohort",
    "synthetic",
    "tl",
]
