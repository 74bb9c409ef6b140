"""Metrics that know their direction.

Classification metrics take ``y_true`` labels, ``y_pred`` labels and ``proba``: a 2-D array whose
columns follow ``classes`` (sorted class labels). For binary tasks the positive class is ``classes[1]``.
Regression metrics take ``y_true`` and ``y_pred`` numbers. Multi-label metrics take ``y_true`` as a 2-D
array (rows x labels) of 0/1 with NaN where a label was not measured, and ``proba`` of the same shape: the
probability that each label is 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

TASK_TYPES = ("binary", "multiclass", "regression", "multilabel")
DEFAULT_METRIC = {
    "binary": "auroc",
    "multiclass": "macro_f1",
    "regression": "rmse",
    "multilabel": "mean_auroc",
}


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    greater_is_better: bool
    needs_proba: bool
    task_types: tuple[str, ...]
    fn: Callable[..., float]

    def better(self, a: float | None, b: float | None) -> bool:
        """True when score ``a`` is strictly better than ``b`` (``None``/NaN is worst)."""
        if a is None or (isinstance(a, float) and math.isnan(a)):
            return False
        if b is None or (isinstance(b, float) and math.isnan(b)):
            return True
        return a > b if self.greater_is_better else a < b

    @property
    def direction(self) -> str:
        return "higher is better" if self.greater_is_better else "lower is better"

    def compute(self, y_true, y_pred=None, proba=None, classes: Sequence | None = None) -> float:
        return float(self.fn(np.asarray(y_true), None if y_pred is None else np.asarray(y_pred),
                             None if proba is None else np.asarray(proba, dtype=float), classes))


def _pos_scores(y_true, proba, classes):
    classes = list(classes)
    if proba.ndim == 2:
        scores = proba[:, 1] if proba.shape[1] > 1 else proba[:, 0]
    else:
        scores = proba
    return (y_true == classes[1]).astype(int), scores


def auroc(y, scores) -> float:
    """Area under the ROC curve of binary labels ``y`` (1 = positive) by the rank-sum (Mann-Whitney)
    identity, ties counted half: the value of ``sklearn.metrics.roc_auc_score`` at a fraction of its cost,
    which the bootstrap intervals pay a thousand times per label. ``ValueError`` when one class is absent
    or a score is not finite, as sklearn."""
    from scipy.stats import rankdata

    pos = np.asarray(y) == 1
    s = np.asarray(scores, dtype=float)
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC is not defined when only one class is present.")
    if not np.isfinite(s).all():
        raise ValueError("AUROC needs finite scores; the input contains NaN or infinity.")
    ranks = rankdata(s)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _auroc(y_true, y_pred, proba, classes):
    from sklearn.metrics import roc_auc_score

    if len(classes) == 2:
        y, s = _pos_scores(y_true, proba, classes)
        return auroc(y, s)
    present = [c for c in classes if np.any(y_true == c)]
    if len(present) < 2:
        return float("nan")
    idx = [list(classes).index(c) for c in present]
    p = proba[:, idx]
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    return roc_auc_score(y_true, p, multi_class="ovr", average="macro", labels=present)


def _auprc(y_true, y_pred, proba, classes):
    from sklearn.metrics import average_precision_score

    if len(classes) == 2:
        y, s = _pos_scores(y_true, proba, classes)
        return average_precision_score(y, s)
    scores = [average_precision_score((y_true == c).astype(int), proba[:, i])
              for i, c in enumerate(classes) if np.any(y_true == c)]
    return float(np.mean(scores)) if scores else float("nan")


def _accuracy(y_true, y_pred, proba, classes):
    return float(np.mean(y_true.astype(str) == y_pred.astype(str)))


def _macro_f1(y_true, y_pred, proba, classes):
    from sklearn.metrics import f1_score

    return f1_score(y_true.astype(str), y_pred.astype(str), average="macro", zero_division=0)


def _mcc(y_true, y_pred, proba, classes):
    from sklearn.metrics import matthews_corrcoef

    return matthews_corrcoef(y_true.astype(str), y_pred.astype(str))


def _log_loss(y_true, y_pred, proba, classes):
    from sklearn.metrics import log_loss

    p = np.clip(proba, 1e-15, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    return log_loss(y_true.astype(str), p, labels=[str(c) for c in classes])


def _rmse(y_true, y_pred, proba, classes):
    return float(np.sqrt(np.mean((y_true.astype(float) - y_pred.astype(float)) ** 2)))


def _mae(y_true, y_pred, proba, classes):
    return float(np.mean(np.abs(y_true.astype(float) - y_pred.astype(float))))


def _r2(y_true, y_pred, proba, classes):
    from sklearn.metrics import r2_score

    return r2_score(y_true.astype(float), y_pred.astype(float))


def _pearson(y_true, y_pred, proba, classes):
    a, b = y_true.astype(float), y_pred.astype(float)
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _spearman(y_true, y_pred, proba, classes):
    from scipy.stats import spearmanr

    a, b = y_true.astype(float), y_pred.astype(float)
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def per_label_scores(y_true, proba, keys: Sequence[str] = ("auroc", "auprc")) -> list[dict[str, float]]:
    """For each label (column): rows measured, positives, and each of ``keys`` (AUROC, AUPRC) on the rows
    where it was measured (NaN where the label has a single class there)."""
    from sklearn.metrics import average_precision_score

    Y = np.asarray(y_true, dtype=float)
    P = np.asarray(proba, dtype=float)
    if Y.ndim != 2 or Y.shape != P.shape:
        raise ValueError(f"multi-label labels {Y.shape} and probabilities {P.shape} must be 2-D and alike")
    out = []
    for j in range(Y.shape[1]):
        measured = ~np.isnan(Y[:, j])
        y, p = Y[measured, j], P[measured, j]
        row = {"n": int(measured.sum()), "positives": int((y == 1).sum()), "auroc": float("nan"),
               "auprc": float("nan")}
        if 0 < row["positives"] < row["n"]:
            if "auroc" in keys:
                row["auroc"] = auroc(y, p)
            if "auprc" in keys:
                row["auprc"] = float(average_precision_score(y, p))
        out.append(row)
    return out


def _mean_over_labels(key: str, y_true, proba) -> float:
    values = [r[key] for r in per_label_scores(y_true, proba, keys=(key,)) if not math.isnan(r[key])]
    return float(np.mean(values)) if values else float("nan")


def _mean_auroc(y_true, y_pred, proba, classes):
    return _mean_over_labels("auroc", y_true, proba)


def _mean_auprc(y_true, y_pred, proba, classes):
    return _mean_over_labels("auprc", y_true, proba)


_CLS = ("binary", "multiclass")
_ML = ("multilabel",)
_REG = ("regression",)
METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("auroc", "AUROC", True, True, _CLS, _auroc),
    Metric("auprc", "AUPRC", True, True, _CLS, _auprc),
    Metric("accuracy", "accuracy", True, False, _CLS, _accuracy),
    Metric("macro_f1", "macro-F1", True, False, _CLS, _macro_f1),
    Metric("mcc", "MCC", True, False, _CLS, _mcc),
    Metric("log_loss", "log-loss", False, True, _CLS, _log_loss),
    Metric("rmse", "RMSE", False, False, _REG, _rmse),
    Metric("mae", "MAE", False, False, _REG, _mae),
    Metric("r2", "R²", True, False, _REG, _r2),
    Metric("pearson", "Pearson r", True, False, _REG, _pearson),
    Metric("spearman", "Spearman ρ", True, False, _REG, _spearman),
    Metric("mean_auroc", "mean AUROC", True, True, _ML, _mean_auroc),
    Metric("mean_auprc", "mean AUPRC", True, True, _ML, _mean_auprc),
]}

_ALIASES = {
    "roc_auc": "auroc", "auc": "auroc", "rocauc": "auroc", "au_roc": "auroc",
    "ap": "auprc", "pr_auc": "auprc", "average_precision": "auprc", "au_prc": "auprc",
    "acc": "accuracy", "f1": "macro_f1", "f1_macro": "macro_f1", "macro-f1": "macro_f1",
    "logloss": "log_loss", "cross_entropy": "log_loss", "r²": "r2", "r^2": "r2",
    "pearsonr": "pearson", "spearmanr": "spearman",
}


def metric_names() -> list[str]:
    return list(METRICS)


def resolve_metric_name(name: str) -> str | None:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    key = _ALIASES.get(key, _ALIASES.get(name.strip().lower(), key))
    return key if key in METRICS else None


def get_metric(name: str) -> Metric:
    key = resolve_metric_name(name)
    if key is None:
        raise KeyError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)}")
    return METRICS[key]


def metrics_for(task_type: str) -> list[Metric]:
    return [m for m in METRICS.values() if task_type in m.task_types]


def evaluate(task_type: str, y_true, y_pred, proba=None, classes: Sequence | None = None) -> dict[str, float]:
    """Every metric that applies to ``task_type`` (those needing probabilities only when given)."""
    out: dict[str, float] = {}
    for m in metrics_for(task_type):
        if m.needs_proba and proba is None:
            continue
        try:
            out[m.name] = m.compute(y_true, y_pred, proba, classes)
        except ValueError:  # e.g. one class present in a small validation fold
            out[m.name] = float("nan")
    return out
