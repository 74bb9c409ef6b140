"""Gene-expression toolkit: GEO and TCGA cohorts to trait-associated genes, GenoTEX compatible.

Layout (scanpy-like): ``io`` readers, ``pp`` preprocessing (symbols, probe mapping, clinical features,
linking, cleaning, cohort records), ``tl`` tools (cohort selection, regression), ``metrics``
(CSC, P/R/F1, AUROC, GSEA-ES), ``pipeline`` (preprocess / analyze / evaluate), ``cli`` (``expr_app``),
``team`` (the agent team). The method is described in docs/expression.md. Nothing runs on import, and
submodules load on first use (a preprocessing script in the sandbox does not pay for scikit-learn).
"""

from __future__ import annotations

import importlib

_SUBMODULES = ("io", "metrics", "pp", "tl", "pipeline")
_NAMES = {
    "AnalyzeOptions": "omicsagent.expression.pipeline.analyze",
    "analyze": "omicsagent.expression.pipeline.analyze",
    "evaluate": "omicsagent.expression.pipeline.evaluate",
    "PreprocessOptions": "omicsagent.expression.pipeline.common",
    "preprocess_cohort": "omicsagent.expression.pipeline.preprocess",
    "load_alias_table": "omicsagent.expression.pp.symbols",
}

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


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
