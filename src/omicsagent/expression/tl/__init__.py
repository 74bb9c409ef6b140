"""Tools: cohort selection and sparse regression for trait-associated genes."""

from __future__ import annotations

from omicsagent.expression.tl.regress import (
    ALPHAS,
    ResidualizedRegressor,
    SparseLMM,
    cross_validate,
    cross_validate_grid,
    detect_batch_effect,
    kfold_splits,
    standardize,
    tune_penalty,
)
from omicsagent.expression.tl.select import (
    TwoStepChoice,
    load_cohort_info,
    select_one_step,
    select_two_step,
    usable_cohorts,
)

__all__ = [
    "ALPHAS",
    "ResidualizedRegressor",
    "SparseLMM",
    "TwoStepChoice",
    "cross_validate",
    "cross_validate_grid",
    "detect_batch_effect",
    "kfold_splits",
    "load_cohort_info",
    "select_one_step",
    "select_two_step",
    "standardize",
    "tune_penalty",
    "usable_cohorts",
]
