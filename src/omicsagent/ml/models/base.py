"""The model protocol shared by every model kind, label handling and ``build_model``."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml import fitcache
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.metrics import TASK_TYPES

Log = Callable[[str], None]


def quiet(_: str) -> None:
    """A ``log`` that prints nothing."""


@dataclass
class Model:
    """Base class: subclasses are dataclasses whose init fields are the spec options.

    ``fit(X, y)`` takes a ``FeatureSet`` and raw labels (strings or ints for classification; numbers
    for regression); ``classes_`` are the sorted labels, ``predict_proba`` columns follow them.

    ``target_transform`` (regression, every kind): "none", or "rank": fit on the normal scores of the
    target's ranks and map predictions back through the training targets' quantiles (monotone), which
    helps when the target is bimodal or saturating (fitness scores of variants).
    """

    kind: ClassVar[str] = ""
    importance_kind: ClassVar[str] = ""  # what ``feature_importances()`` values mean
    multilabel: ClassVar[bool] = False  # fits a multi-label target (rows x labels, 0/1 or NaN) itself
    task_type: str = field(default="binary", kw_only=True)
    seed: int = field(default=0, kw_only=True)
    target_transform: str = field(default="none", kw_only=True)
    classes_: np.ndarray | None = field(default=None, init=False, repr=False)
    fit_seconds_: float = field(default=0.0, init=False, repr=False)
    _target_quantiles: np.ndarray | None = field(default=None, init=False, repr=False)

    @classmethod
    def option_names(cls) -> list[str]:
        return sorted(f.name for f in fields(cls) if f.init and f.name not in ("task_type", "seed"))

    def check(self) -> None:
        """Validate options; raise ``InputError`` with one sentence."""

    # --- public API -------------------------------------------------------------------------
    def fit(self, X: FeatureSet, y, *, time_limit_s: float | None = None, log: Log = print) -> Model:
        if not isinstance(X, FeatureSet):
            raise InputError(
                "fit() expects the FeatureSet returned by featurizer.fit_transform(); pass that."
            )
        y_enc = self._encode_targets(y, len(X))
        if self.target_transform == "rank" and self.task_type == "regression":
            y_enc, self._target_quantiles = rank_normal(y_enc)
        start = time.monotonic()
        key = None
        if fitcache.active():  # inside a run: an identical earlier fit is read back, not fitted again
            key = fitcache.fit_key(self, X, y_enc)
            if (done := fitcache.load(key, type(self))) is not None:
                self.__dict__.update(done.__dict__)
                self.fit_seconds_ = time.monotonic() - start
                log(f"{self.kind}: reused the identical fit of an earlier iteration (same options, seed, "
                    f"features and labels)")
                return self
        self._fit(X, y_enc, time_limit_s=time_limit_s, log=log)
        self.fit_seconds_ = time.monotonic() - start
        if key is not None:
            fitcache.store(key, self, log)
        return self

    def predict_proba(self, X: FeatureSet) -> np.ndarray:
        if self.task_type == "regression":
            raise InputError("predict_proba() is for classification; call predict() for regression.")
        return self._predict_raw(X)

    def feature_importances(self) -> np.ndarray | None:
        """One number per flat feature column (``importance_kind`` says what it means), or ``None``
        when this kind of model does not report importances (the neural networks)."""
        return None

    def predict(self, X: FeatureSet) -> np.ndarray:
        raw = self._output(X)
        if self.task_type == "multilabel":
            return (raw >= 0.5).astype(int)
        if self.task_type == "regression":
            return raw.astype(float)
        assert self.classes_ is not None
        return self.classes_[raw.argmax(axis=1)]

    def _output(self, X: FeatureSet) -> np.ndarray:
        """Probabilities, or regression values on the target's own scale (after any target transform)."""
        raw = self._predict_raw(X)
        if self.task_type == "regression" and self._target_quantiles is not None:
            q = self._target_quantiles
            from scipy.stats import norm

            return np.interp(norm.cdf(np.asarray(raw, dtype=float)), (np.arange(len(q)) + 0.5) / len(q), q)
        return raw

    # --- for subclasses ---------------------------------------------------------------------
    def _fit(self, X: FeatureSet, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> None:
        raise NotImplementedError

    def _predict_raw(self, X: FeatureSet) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` or regression values ``(n,)``."""
        raise NotImplementedError

    @property
    def n_classes(self) -> int:
        return 0 if self.classes_ is None else len(self.classes_)

    def _encode_targets(self, y, n_rows: int) -> np.ndarray:
        if self.task_type == "multilabel":
            Y = encode_multilabel(y, n_rows)
            self.classes_ = np.arange(Y.shape[1])  # one "class" per label: the columns of predict_proba
            return Y
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n_rows:
            raise InputError(f"The target has {len(y)} values for {n_rows} rows; pass one target per row.")
        if self.task_type == "regression":
            try:
                yf = y.astype(float)
            except ValueError as exc:
                raise InputError(
                    "The regression target has non-numeric values; convert or drop them."
                ) from exc
            if not np.isfinite(yf).all():
                raise InputError(
                    "The target has missing or infinite values; drop those rows before training."
                )
            return yf
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in y.tolist()):
            raise InputError("The target has missing values; drop those rows before training.")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise InputError("The target has a single class; classification needs at least two.")
        if self.task_type == "binary" and len(self.classes_) != 2:
            raise InputError(
                f"A binary task needs exactly 2 classes but the target has {len(self.classes_)}; "
                f"use task_type='multiclass'."
            )
        return np.searchsorted(self.classes_, y)


def encode_multilabel(y, n_rows: int) -> np.ndarray:
    """A multi-label target as floats of shape (rows, labels): 0, 1, or NaN where a label was not measured."""
    try:
        Y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise InputError("Multi-label targets must be 0/1 numbers (missing allowed); convert them.") from None
    if Y.ndim != 2 or len(Y) != n_rows:
        raise InputError(f"Multi-label targets need shape (rows, labels) with {n_rows} rows; pass "
                         f"train[LABELS].to_numpy().")
    known = Y[~np.isnan(Y)]
    if not np.isin(known, (0.0, 1.0)).all():
        raise InputError("Multi-label targets must hold only 0, 1 or missing values; fix the label columns.")
    return Y


def rank_normal(y: np.ndarray, max_quantiles: int = 4001) -> tuple[np.ndarray, np.ndarray]:
    """(normal scores of the ranks of ``y``, sorted quantiles of ``y`` to map scores back)."""
    from scipy.stats import norm, rankdata

    z = norm.ppf((rankdata(y) - 0.5) / len(y))
    q = np.sort(np.asarray(y, dtype=float))
    if len(q) > max_quantiles:
        q = np.quantile(q, (np.arange(max_quantiles) + 0.5) / max_quantiles)
    return z, q


def need_flat(X: FeatureSet, kind: str) -> np.ndarray | sparse.csr_matrix:
    if X.flat is None or X.flat.shape[1] == 0:
        raise InputError(f"Model {kind!r} needs flat features (kmer, tabular, smiles, pair_features or a "
                         f"flattened onehot block); add one to the representation.")
    return X.flat


def model_classes() -> dict[str, type[Model]]:
    from omicsagent.ml.models.ensemble import Ensemble
    from omicsagent.ml.models.gbm import LightGBM
    from omicsagent.ml.models.group_ridge import GroupRidge
    from omicsagent.ml.models.linear import Linear
    from omicsagent.ml.models.multilabel import PerLabel
    from omicsagent.ml.models.torchfit import MLP, MPNN, GridCNN, SeqCNN

    return {c.kind: c for c in (Linear, LightGBM, SeqCNN, GridCNN, MLP, MPNN, Ensemble, GroupRidge, PerLabel)}


def build_model(spec: dict[str, Any], *, task_type: str, seed: int = 0) -> Model:
    """Build an unfitted model from ``{"kind": ..., <options>}``."""
    from omicsagent.ml.runtime import prefer_passive_openmp

    prefer_passive_openmp()  # before LightGBM/torch load their OpenMP runtime (see ml/runtime.py)
    if task_type not in TASK_TYPES:
        raise InputError(f"Unknown task type {task_type!r}; use one of: {', '.join(TASK_TYPES)}.")
    classes = model_classes()
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind not in classes:
        raise InputError(f"Unknown model kind {kind!r}; choose one of: {', '.join(classes)}.")
    cls = classes[kind]
    if task_type == "multilabel" and not cls.multilabel:
        raise InputError(f"Model {kind!r} fits one label at a time; for a multilabel task wrap the spec as "
                         f"{{\"kind\": \"per_label\", \"base\": {{\"kind\": \"{kind}\", ...}}}}.")
    allowed = set(cls.option_names())
    unknown = sorted(set(spec) - allowed - {"kind"})
    if unknown:
        raise InputError(
            f"Model {kind!r} has no option(s) {', '.join(unknown)}; use only: {', '.join(sorted(allowed))}."
        )
    model = cls(**{k: v for k, v in spec.items() if k != "kind"}, task_type=task_type, seed=seed)
    if model.target_transform not in ("none", "rank"):
        raise InputError(
            f'target_transform must be "none" or "rank", got {model.target_transform!r}; fix the model spec.'
        )
    if model.target_transform == "rank" and task_type != "regression":
        raise InputError(
            'target_transform "rank" applies to regression targets only; remove it from the model spec.'
        )
    model.check()
    return model


def inner_split(
    y: np.ndarray, *, task_type: str, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (fit, early-stopping) inside the training data; stratified when every class allows."""
    n = len(y)
    rng = np.random.default_rng(seed)
    n_val = max(1, round(n * fraction))
    if task_type in ("binary", "multiclass"):
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2:
            val = []
            for c, cnt in zip(classes, counts):
                members = rng.permutation(np.flatnonzero(y == c))
                take = min(cnt - 1, max(1, round(cnt * fraction)))
                val.append(members[:take])
            val_idx = np.sort(np.concatenate(val))
            return np.setdiff1d(np.arange(n), val_idx), val_idx
    perm = rng.permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])
