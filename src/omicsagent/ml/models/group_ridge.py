"""Ridge regression with one penalty per column group: shared effects and specific effects shrunk apart.

The groups come from the blocks (``FeatureSet.column_groups``; e.g. the ``mutations`` block's
position-independent descriptors, one-hot sites, site x property and substitution columns); every other
flat column is group ``other`` and is scaled to unit variance. A group's columns are multiplied by its
strength before a unit ridge penalty, so strength 0 drops the group, small strengths shrink it hard and
large ones leave it almost free. With ``strengths: "auto"`` the strengths are chosen by a coordinate search
over ``grid`` that minimises the mean squared error of an inner K-fold cross-validation of the training
rows, then the model is refitted on all of them.

On variant-effect data this is an additive model over single mutations (multi-mutants sum their
mutations' columns) with per-position effects shrunk towards position-independent substitution effects.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.models.base import Log, Model, need_flat

OTHER = "other"


@dataclass
class GroupRidge(Model):
    """``strengths``: "auto" or {group: multiplier} (unlisted groups: 1); ``grid``: multipliers tried by the
    search; ``folds``: inner cross-validation folds; ``passes``: rounds of the coordinate search."""

    kind = "group_ridge"
    strengths: dict | str = "auto"
    grid: list[float] = field(default_factory=lambda: [0.0, 0.1, 0.3, 1.0, 3.0, 10.0])
    folds: int = 3
    passes: int = 2
    _groups: dict = field(default_factory=dict, init=False, repr=False)
    _col_scale: np.ndarray | None = field(default=None, init=False, repr=False)
    _coef: np.ndarray | None = field(default=None, init=False, repr=False)
    _intercept: float = field(default=0.0, init=False, repr=False)
    chosen_: dict = field(default_factory=dict, init=False, repr=False)

    def check(self) -> None:
        if self.task_type != "regression":
            raise InputError('group_ridge predicts numbers; use "linear" or "lgbm" for classification tasks.')
        if self.strengths != "auto" and not (isinstance(self.strengths, dict) and all(
                isinstance(v, (int, float)) and v >= 0 for v in self.strengths.values())):
            raise InputError(
                'group_ridge strengths must be "auto" or a dict of non-negative numbers per group.'
            )
        if not self.grid or any(not isinstance(v, (int, float)) or v < 0 for v in self.grid):
            raise InputError("group_ridge grid must list non-negative multipliers; fix the model spec.")
        if not isinstance(self.folds, int) or not 2 <= self.folds <= 10:
            raise InputError("group_ridge folds must be an integer from 2 to 10; fix the model spec.")

    # --- design ------------------------------------------------------------------------------------
    def _layout(self, X: FeatureSet, Z) -> None:
        p = Z.shape[1]
        owner = np.full(p, -1)
        names = []
        for name, cols in X.column_groups.items():
            cols = np.asarray(cols, dtype=int)
            if len(cols):
                owner[cols] = len(names)
                names.append(name)
        other = np.flatnonzero(owner < 0)
        if len(other):
            owner[other] = len(names)
            names.append(OTHER)
        self._groups = {name: np.flatnonzero(owner == i) for i, name in enumerate(names)}
        # columns outside the named groups get unit variance (the blocks' groups are already scaled)
        scale = np.ones(p)
        if len(other):
            sub = Z[:, other]
            mean = np.asarray(sub.mean(axis=0)).ravel()
            sq = (
                np.asarray(sub.multiply(sub).mean(axis=0)).ravel()
                if sparse.issparse(sub)
                else (sub**2).mean(axis=0)
            )
            sd = np.sqrt(np.maximum(sq - mean ** 2, 0.0))
            scale[other] = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 0.0)
        self._col_scale = scale

    def _multipliers(self, strengths: dict[str, float]) -> np.ndarray:
        s = self._col_scale.copy()
        for name, cols in self._groups.items():
            s[cols] *= float(strengths.get(name, 1.0))
        return s

    # --- fit ---------------------------------------------------------------------------------------
    def _fit(self, X: FeatureSet, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> None:
        start = time.monotonic()
        flat = need_flat(X, self.kind)
        Z = (
            sparse.csr_matrix(flat, dtype=np.float64)
            if sparse.issparse(flat)
            else np.asarray(flat, dtype=np.float64)
        )
        self._layout(X, Z)
        names = list(self._groups)
        log(f"group_ridge: {Z.shape[0]} rows x {Z.shape[1]} columns in groups "
            + ", ".join(f"{n} ({len(c)})" for n, c in self._groups.items()))
        solver = _Solver(Z, y, folds=self.folds, seed=self.seed)
        if self.strengths == "auto":
            deadline = None if time_limit_s is None else start + 0.7 * time_limit_s
            best = self._search(solver, names, deadline, log)
        else:
            unknown = sorted(set(self.strengths) - set(names))
            if unknown:
                raise InputError(
                    f"group_ridge strengths name unknown group(s) {', '.join(unknown)}; the groups are "
                    f"{', '.join(names)}."
                )
            best = {n: float(self.strengths.get(n, 1.0)) for n in names}
        self.chosen_ = best
        self._coef, self._intercept = solver.fit_all(self._multipliers(best))
        log(f"group_ridge: strengths {', '.join(f'{k}={v:g}' for k, v in best.items())} "
            f"({time.monotonic() - start:.1f}s)")

    def _search(
        self, solver: _Solver, names: list[str], deadline: float | None, log: Log
    ) -> dict[str, float]:
        cache: dict[tuple, float] = {}

        def loss(cfg: dict[str, float]) -> float:
            key = tuple(cfg[n] for n in names)
            if key not in cache:
                cache[key] = solver.cv_mse(self._multipliers(cfg))
            return cache[key]

        best = {n: 1.0 for n in names}
        best_loss = loss(best)
        for _ in range(self.passes):
            improved = False
            for name in names:
                for value in self.grid:
                    if deadline is not None and time.monotonic() > deadline:
                        log(
                            "group_ridge: time limit reached during the strength search; "
                            "keeping the best so far"
                        )
                        return best
                    cfg = {**best, name: float(value)}
                    current = loss(cfg)
                    if current < best_loss - 1e-12:
                        best, best_loss, improved = cfg, current, True
            log(
                f"group_ridge: inner-CV mse {best_loss:.5f} with "
                + ", ".join(f"{k}={v:g}" for k, v in best.items())
            )
            if not improved:
                break
        return best

    importance_kind = (
        "coefficient per unit of the feature column as the featurizer gives it (the mutations "
        "block's columns are already scaled; on the rank-normal scale when target_transform is rank)"
    )

    def feature_importances(self) -> np.ndarray | None:
        return None if self._coef is None else np.asarray(self._coef, dtype=float).ravel()

    def _predict_raw(self, X: FeatureSet) -> np.ndarray:
        flat = need_flat(X, self.kind)
        return np.asarray(flat @ self._coef).ravel() + self._intercept


class _Solver:
    """Ridge solves for many column multipliers on the same data. Each solve runs preconditioned conjugate
    gradients on the centred normal equations using only products with the (sparse) design matrix, warm-
    started from the previous solution of the same fold, so a configuration costs a few hundred sparse
    matrix-vector products."""

    def __init__(self, Z, y: np.ndarray, *, folds: int, seed: int) -> None:
        self.Z, self.y = Z, np.asarray(y, dtype=float)
        n = Z.shape[0]
        order = np.random.default_rng(seed).permutation(n)
        self.fold_rows = [np.sort(order[k::folds]) for k in range(folds)]
        self._warm: dict[int, np.ndarray] = {}
        sq = Z.multiply(Z) if sparse.issparse(Z) else Z ** 2
        self._sq = sq

    def _solve(self, rows: np.ndarray | None, s: np.ndarray, key: int) -> tuple[np.ndarray, float]:
        from scipy.sparse.linalg import LinearOperator, cg

        Z = self.Z if rows is None else self.Z[rows]
        y = self.y if rows is None else self.y[rows]
        n = Z.shape[0]
        mean = np.asarray(Z.mean(axis=0)).ravel()
        ymean = float(y.mean())
        sq = np.asarray((self._sq if rows is None else self._sq[rows]).sum(axis=0)).ravel()
        diag = s ** 2 * np.maximum(sq - n * mean ** 2, 0.0) + 1.0
        ZT = Z.T

        def matvec(v: np.ndarray) -> np.ndarray:
            u = s * v
            zu = Z @ u - mean @ u
            return s * (ZT @ zu - mean * zu.sum()) + v

        p = len(s)
        A = LinearOperator((p, p), matvec=matvec, dtype=float)
        M = LinearOperator((p, p), matvec=lambda v: v / diag, dtype=float)
        rhs = s * (ZT @ (y - ymean))
        x, _ = cg(A, rhs, x0=self._warm.get(key), M=M, rtol=1e-6 if key >= 0 else 1e-8, maxiter=3000)
        self._warm[key] = x
        w = s * x
        return w, ymean - mean @ w

    def fit_all(self, s: np.ndarray) -> tuple[np.ndarray, float]:
        return self._solve(None, s, -1)

    def cv_mse(self, s: np.ndarray) -> float:
        errs = []
        everything = np.arange(self.Z.shape[0])
        for k, rows in enumerate(self.fold_rows):
            w, b0 = self._solve(np.setdiff1d(everything, rows), s, k)
            pred = np.asarray(self.Z[rows] @ w).ravel() + b0
            errs.append(np.mean((pred - self.y[rows]) ** 2))
        return float(np.mean(errs))
