"""Scores on a common 0..1 scale, so tasks with different metrics can be averaged.

Three normalisers, chosen per task (``task.toml``: ``normaliser``):

* ``bounded``: a higher-is-better metric that already lives in [0, 1] (AUROC, AUPRC, accuracy, F1, and
  the means of AUROC / AUPRC over the labels of a multi-label task) is kept as it is (clipped to [0, 1]);
  R² is clipped too (it is already ``1 - MSE / MSE of the mean``).
* ``signed``: a correlation or MCC in [-1, 1] becomes ``(s + 1) / 2``.
* ``error_ratio``: a lower-is-better error (RMSE, MAE, log-loss) becomes
  ``max(0, 1 - error / baseline_error)``, where ``baseline_error`` is the error of a constant prediction
  made from the training labels (their mean for RMSE, their median for MAE, their class frequencies for
  log-loss). So the score measures how much of the constant model's error the agent removed, whatever the
  units of the target: an RMSE of 0.5 is 0.75 when predicting the mean gives 2.0, and 0 when it gives 0.5.

Worked examples for every family are in docs/bench.md and tests/bench/test_grading.py.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from omicsagent.ml.metrics import get_metric

DEFAULT_NORMALISER = {"auroc": "bounded", "auprc": "bounded", "accuracy": "bounded", "macro_f1": "bounded",
                      "r2": "bounded", "mean_auroc": "bounded", "mean_auprc": "bounded", "mcc": "signed",
                      "pearson": "signed", "spearman": "signed", "rmse": "error_ratio", "mae": "error_ratio",
                      "log_loss": "error_ratio"}


def default_normaliser(metric: str) -> str:
    """The normaliser of an omicsagent metric (``omicsagent.ml.metrics`` names)."""
    return DEFAULT_NORMALISER[get_metric(metric).name]


def normalise(raw: float | None, normaliser: str, *, baseline_error: float | None = None) -> float:
    """``raw`` on the 0..1 scale; a missing or undefined score is 0."""
    if raw is None or not math.isfinite(raw):
        return 0.0
    if normaliser == "bounded":
        value = raw
    elif normaliser == "signed":
        value = (raw + 1.0) / 2.0
    elif normaliser == "error_ratio":
        if baseline_error is None or not baseline_error > 0:
            raise ValueError("error_ratio needs a positive baseline_error")
        value = 1.0 - raw / baseline_error
    else:
        raise ValueError(f"unknown normaliser {normaliser!r}")
    return float(min(1.0, max(0.0, value)))


def constant_prediction(metric: str, task_type: str, y_train: Sequence, classes: Sequence | None = None):
    """The constant a know-nothing model predicts from the training labels, for this metric:
    (label or value, class probabilities or None)."""
    y = np.asarray(y_train)
    if task_type == "regression":
        values = y.astype(float)
        return (
            float(np.median(values)) if get_metric(metric).name == "mae" else float(np.mean(values))
        ), None
    labels = [str(v) for v in y]
    classes = [str(c) for c in (classes if classes is not None else sorted(set(labels)))]
    freq = np.array([labels.count(c) for c in classes], dtype=float)
    freq = np.clip(freq / freq.sum(), 1e-6, None)
    freq = freq / freq.sum()
    return classes[int(np.argmax(freq))], freq


def constant_baseline_error(metric: str, task_type: str, y_train: Sequence, y_test: Sequence,
                            classes: Sequence | None = None) -> float:
    """The test error of the constant prediction made from the training labels (see the module doc)."""
    m = get_metric(metric)
    value, proba = constant_prediction(metric, task_type, y_train, classes)
    n = len(y_test)
    if task_type == "regression":
        return m.compute(np.asarray(y_test, dtype=float), np.full(n, value))
    classes = [str(c) for c in (classes if classes is not None else sorted({str(v) for v in y_train}))]
    return m.compute(
        np.array([str(v) for v in y_test]), np.array([value] * n), np.tile(proba, (n, 1)), classes
    )
