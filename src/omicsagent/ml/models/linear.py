"""Regularised linear models: logistic regression (classification) or ridge (regression)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.models.base import Log, Model, need_flat


@dataclass
class Linear(Model):
    """``C``: inverse L2 strength for logistic regression; ``alpha``: ridge strength; features are
    standardised (without centring when sparse); ``class_weight``: null or "balanced"."""

    kind = "linear"
    C: float = 1.0
    alpha: float = 1.0
    class_weight: str | None = None
    max_iter: int = 2000
    _scaler: object = field(default=None, init=False, repr=False)
    _est: object = field(default=None, init=False, repr=False)

    def check(self) -> None:
        if self.C <= 0 or self.alpha < 0:
            raise InputError("Linear model needs C > 0 and alpha >= 0; fix the model spec.")
        if self.class_weight not in (None, "balanced"):
            raise InputError('class_weight must be null or "balanced"; fix the model spec.')

    def _fit(self, X: FeatureSet, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> None:
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.preprocessing import StandardScaler

        flat = need_flat(X, self.kind)
        self._scaler = StandardScaler(with_mean=not sparse.issparse(flat))
        Z = self._scaler.fit_transform(flat)
        if self.task_type == "regression":
            self._est = Ridge(alpha=self.alpha, random_state=self.seed)
        else:
            self._est = LogisticRegression(C=self.C, max_iter=self.max_iter, class_weight=self.class_weight,
                                           random_state=self.seed)
        self._est.fit(Z, y)
        log(f"linear: fitted on {Z.shape[0]} rows x {Z.shape[1]} features")

    def _predict_raw(self, X: FeatureSet) -> np.ndarray:
        Z = self._scaler.transform(need_flat(X, self.kind))
        if self.task_type == "regression":
            return self._est.predict(Z)
        return self._est.predict_proba(Z)
