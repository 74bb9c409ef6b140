"""One binary model per label for multi-label tasks, each fitted on the rows where its label is measured."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.models.base import Log, Model


@dataclass
class PerLabel(Model):
    """``base``: the binary model spec fitted once per label (e.g. ``{"kind": "linear", "C": 1.0}``).

    ``fit(X, Y)`` takes ``Y`` of shape (rows, labels) holding 0/1 and NaN where a label was not measured;
    ``predict_proba`` returns the probability that each label is 1, shape (rows, labels). The time limit
    is shared equally among the labels still to fit.
    """

    kind = "per_label"
    multilabel = True
    importance_kind = "mean over labels of each label model's absolute importances scaled to sum to 1"
    base: dict = field(default_factory=lambda: {"kind": "linear"})
    _models: list = field(default_factory=list, init=False, repr=False)
    _constant: list = field(default_factory=list, init=False, repr=False)

    def check(self) -> None:
        if self.task_type != "multilabel":
            raise InputError(f"Model 'per_label' is for multilabel tasks, not {self.task_type}; use the base "
                             f"model directly.")
        if not isinstance(self.base, dict) or self.base.get("kind") in (None, "per_label"):
            raise InputError(
                'Model \'per_label\' needs a binary model spec in "base", e.g. {"kind": "linear"}.'
            )
        from omicsagent.ml.models.base import build_model

        build_model(self.base, task_type="binary", seed=self.seed)  # validates the base spec now

    def _fit(self, X: FeatureSet, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> None:
        from omicsagent.ml.models.base import build_model

        start = time.monotonic()
        n_labels = y.shape[1]
        self._models, self._constant = [], []
        for j in range(n_labels):
            rows = np.flatnonzero(~np.isnan(y[:, j]))
            yj = y[rows, j].astype(int)
            if len(np.unique(yj)) < 2:  # nothing to learn: predict the one value seen
                self._models.append(None)
                self._constant.append(float(yj[0]) if len(yj) else 0.0)
                continue
            limit = None
            if time_limit_s is not None:
                limit = max(1.0, (time_limit_s - (time.monotonic() - start)) / (n_labels - j))
            model = build_model(self.base, task_type="binary", seed=self.seed + j)
            model.fit(X.subset(rows), yj, time_limit_s=limit, log=lambda _m: None)
            log(f"label {j + 1}/{n_labels}: {len(rows)} measured rows, {int(yj.sum())} positive")
            self._models.append(model)
            self._constant.append(None)

    def _predict_raw(self, X: FeatureSet) -> np.ndarray:
        cols = []
        for model, const in zip(self._models, self._constant):
            if model is None:
                cols.append(np.full(len(X), const))
            else:
                proba = model.predict_proba(X)
                cols.append(proba[:, list(model.classes_).index(1)])
        return np.column_stack(cols)

    def feature_importances(self) -> np.ndarray | None:
        total, n = None, 0
        for m in self._models:
            imp = None if m is None else m.feature_importances()
            if imp is None or not np.abs(imp).sum() > 0:
                continue
            imp = np.abs(np.asarray(imp, dtype=float)) / np.abs(imp).sum()
            total = imp if total is None else total + imp
            n += 1
        return None if total is None else total / n
