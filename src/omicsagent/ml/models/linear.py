"""Regularised linear models: logistic regression (classification) or ridge (regression)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.models.base import Log, Model, inner_split, need_flat

C_GRID = (1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
ALPHA_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0)


@dataclass
class Linear(Model):
    """``C``: inverse L2 strength for logistic regression; ``alpha``: ridge strength; ``"auto"`` picks
    it on an inner 20% split of the training rows, then refits on all of them. Features are
    standardised (without centring when sparse) unless ``standardize`` is false (features already on one
    scale, such as tf-idf n-grams); ``class_weight``: null or "balanced"."""

    kind = "linear"
    C: float | str = 1.0
    alpha: float | str = 1.0
    class_weight: str | None = None
    max_iter: int = 2000
    standardize: bool = True
    _scaler: object = field(default=None, init=False, repr=False)
    _est: object = field(default=None, init=False, repr=False)
    chosen_: float | None = field(default=None, init=False, repr=False)

    def check(self) -> None:
        for name in ("C", "alpha"):
            v = getattr(self, name)
            if not (v == "auto" or (isinstance(v, (int, float)) and v >= 0 and not (name == "C" and v == 0))):
                raise InputError(
                    f'Linear model needs {name} as a positive number or "auto"; fix the model spec.'
                )
        if self.class_weight not in (None, "balanced"):
            raise InputError('class_weight must be null or "balanced"; fix the model spec.')

    def _make(self, strength: float):
        from sklearn.linear_model import LogisticRegression, Ridge

        if self.task_type == "regression":
            return Ridge(alpha=strength, random_state=self.seed)
        return LogisticRegression(C=strength, max_iter=self.max_iter, class_weight=self.class_weight,
                                  random_state=self.seed)

    def _fit(self, X: FeatureSet, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> None:
        from sklearn.preprocessing import StandardScaler

        flat = need_flat(X, self.kind)
        self._scaler = StandardScaler(with_mean=not sparse.issparse(flat)) if self.standardize else None
        Z = self._scaler.fit_transform(flat) if self._scaler is not None else flat
        regression = self.task_type == "regression"
        strength = self.alpha if regression else self.C
        if strength == "auto":
            strength = self._choose(Z, y, time_limit_s=time_limit_s, log=log)
        self.chosen_ = float(strength)
        self._est = self._make(float(strength)).fit(Z, y)
        log(f"linear: fitted on {Z.shape[0]} rows x {Z.shape[1]} features "
            f"({'alpha' if regression else 'C'}={float(strength):g})")

    def _choose(self, Z, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> float:
        start = time.monotonic()
        fit_idx, val_idx = inner_split(y, task_type=self.task_type, fraction=0.2, seed=self.seed)
        regression = self.task_type == "regression"
        grid = ALPHA_GRID if regression else C_GRID
        best, best_loss, worse = grid[0], np.inf, 0
        for s in grid:
            est = self._make(s).fit(Z[fit_idx], y[fit_idx])
            if regression:
                loss = float(np.mean((est.predict(Z[val_idx]) - y[val_idx]) ** 2))
            else:
                p = np.clip(est.predict_proba(Z[val_idx]), 1e-12, 1.0)
                loss = float(-np.mean(np.log(p[np.arange(len(val_idx)), y[val_idx]])))
            log(f"linear: {'alpha' if regression else 'C'}={s:g} inner-val "
                f"{'mse' if regression else 'log-loss'} {loss:.4f}")
            if loss < best_loss:
                best, best_loss, worse = s, loss, 0
            else:
                worse += 1
            elapsed = time.monotonic() - start
            if worse >= 2 or (time_limit_s is not None and elapsed * 1.5 > 0.5 * time_limit_s):
                break
        return best

    @property
    def importance_kind(self) -> str:  # type: ignore[override]
        if self.task_type == "binary" and self.classes_ is not None:
            return (f"coefficient on the standardised feature (positive: towards class {self.classes_[1]!s}, "
                    f"negative: towards {self.classes_[0]!s})")
        if self.task_type == "multiclass":
            return "mean absolute coefficient over the classes, on the standardised feature"
        return "coefficient on the standardised feature (change in the prediction per standard deviation)"

    def feature_importances(self) -> np.ndarray | None:
        if self._est is None:
            return None
        coef = np.asarray(self._est.coef_, dtype=float)
        if coef.ndim == 1:
            return coef
        if coef.shape[0] == 1:  # binary logistic regression
            return coef[0]
        return np.abs(coef).mean(axis=0)

    def _predict_raw(self, X: FeatureSet) -> np.ndarray:
        flat = need_flat(X, self.kind)
        Z = self._scaler.transform(flat) if self._scaler is not None else flat
        if self.task_type == "regression":
            return self._est.predict(Z)
        return self._est.predict_proba(Z)
