"""LightGBM with early stopping on an inner split of the training data and a wall-clock limit."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.models.base import Log, Model, inner_split, need_flat

SMALL_DATA_VALUES = 20_000_000  # below this many stored values one thread was faster (2-core box)


@dataclass
class LightGBM(Model):
    """Gradient-boosted trees. ``"auto"`` options adapt to the data size (fewer, smaller leaves and a
    slower learning rate below 2,000 rows). ``refit``: after early stopping, retrain on all training
    rows with the chosen number of rounds (auto: when fewer than 20,000 rows)."""

    kind = "lgbm"
    learning_rate: float | str = "auto"
    num_leaves: int | str = "auto"
    min_child_samples: int | str = "auto"
    max_depth: int = -1
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    max_rounds: int = 3000
    early_stopping_rounds: int = 100
    val_fraction: float = 0.1
    refit: bool | str = "auto"
    class_weight: str | None = None
    num_threads: int | str = "auto"
    _booster: object = field(default=None, init=False, repr=False)
    _best_iter: int = field(default=0, init=False, repr=False)

    def check(self) -> None:
        if not 0.0 < self.val_fraction < 0.5:
            raise InputError("val_fraction must be between 0 and 0.5; fix the lgbm spec.")
        if self.max_rounds < 1 or self.early_stopping_rounds < 1:
            raise InputError("max_rounds and early_stopping_rounds must be positive; fix the lgbm spec.")
        if self.class_weight not in (None, "balanced"):
            raise InputError('class_weight must be null or "balanced"; fix the lgbm spec.')

    def threads(self, n_rows: int, n_values: int) -> int:
        """1 thread for small data (thread wake-ups cost more than they save), else 2."""
        if self.num_threads != "auto":
            return int(self.num_threads)
        return 1 if n_values < SMALL_DATA_VALUES else 2

    def params(self, n_rows: int, n_values: int = 0) -> dict:
        small = n_rows < 2000
        p = {
            "learning_rate": (0.03 if small else 0.05)
            if self.learning_rate == "auto"
            else self.learning_rate,
            "num_leaves": (15 if small else 63) if self.num_leaves == "auto" else self.num_leaves,
            "min_child_samples": (
                max(3, min(20, n_rows // 50)) if self.min_child_samples == "auto" else self.min_child_samples
            ),
            "max_depth": self.max_depth,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": self.lambda_l2,
            "num_threads": self.threads(n_rows, n_values),
            "verbose": -1,
            "seed": self.seed,
            "deterministic": True,
            "force_col_wise": True,
        }
        if self.task_type == "binary":
            p.update(objective="binary", metric="binary_logloss")
        elif self.task_type == "multiclass":
            p.update(objective="multiclass", num_class=self.n_classes, metric="multi_logloss")
        else:
            p.update(objective="regression", metric="l2")
        return p

    def _weights(self, y: np.ndarray) -> np.ndarray | None:
        if self.class_weight != "balanced" or self.task_type == "regression":
            return None
        counts = np.bincount(y, minlength=self.n_classes).astype(float)
        return (len(y) / (self.n_classes * np.maximum(counts, 1)))[y]

    def _fit(self, X: FeatureSet, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> None:
        import lightgbm as lgb

        flat = need_flat(X, self.kind)
        start = time.monotonic()
        deadline = None if time_limit_s is None else start + 0.9 * time_limit_s
        n_values = flat.nnz if hasattr(flat, "nnz") else flat.size
        params = self.params(len(y), n_values)
        fit_idx, val_idx = inner_split(
            y, task_type=self.task_type, fraction=self.val_fraction, seed=self.seed
        )
        w = self._weights(y)
        train_set = lgb.Dataset(flat[fit_idx], y[fit_idx], weight=None if w is None else w[fit_idx],
                                free_raw_data=False)
        val_set = lgb.Dataset(flat[val_idx], y[val_idx], weight=None if w is None else w[val_idx],
                              reference=train_set)
        record: dict = {}
        callbacks = [lgb.record_evaluation(record),
                     lgb.early_stopping(self.early_stopping_rounds, verbose=False),
                     _deadline_callback(deadline)]
        booster = lgb.train(params, train_set, num_boost_round=self.max_rounds, valid_sets=[val_set],
                            valid_names=["inner"], callbacks=callbacks)
        curve = next(iter(record["inner"].values()))
        self._best_iter = int(np.argmin(curve)) + 1
        took = time.monotonic() - start
        log(f"lgbm: best round {self._best_iter}/{len(curve)} inner-val {params['metric']} "
            f"{curve[self._best_iter - 1]:.4f} ({took:.1f}s, {len(fit_idx)} fit rows)")
        self._booster = booster
        refit = (len(y) < 20000) if self.refit == "auto" else bool(self.refit)
        rounds = max(1, round(self._best_iter * (1.0 + self.val_fraction)))
        remaining = None if deadline is None else deadline - time.monotonic()
        if refit and (remaining is None or remaining > 1.5 * took * rounds / max(len(curve), 1)):
            full = lgb.Dataset(flat, y, weight=w)
            self._booster = lgb.train(
                params, full, num_boost_round=rounds, callbacks=[_deadline_callback(deadline)]
            )
            self._best_iter = self._booster.current_iteration()
            log(f"lgbm: refitted on all {len(y)} training rows for {self._best_iter} rounds")

    importance_kind = "share of the total split gain (LightGBM gain importance)"

    def feature_importances(self) -> np.ndarray | None:
        if self._booster is None:
            return None
        gain = np.asarray(self._booster.feature_importance(importance_type="gain", iteration=self._best_iter),
                          dtype=float)
        total = gain.sum()
        return gain / total if total > 0 else gain

    def _predict_raw(self, X: FeatureSet) -> np.ndarray:
        raw = self._booster.predict(need_flat(X, self.kind), num_iteration=self._best_iter)
        if self.task_type == "binary":
            return np.column_stack([1.0 - raw, raw])
        return raw


def _deadline_callback(deadline: float | None):
    import lightgbm as lgb

    def stop_at_deadline(env) -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list or [])

    stop_at_deadline.order = 40  # type: ignore[attr-defined]
    return stop_at_deadline
