"""Sparse regression of a trait on genes, corrected for a condition (GenoTEX ``statistics.py`` method).

* Model: Lasso, or a sparse linear mixed model when the spectrum of X shows batch structure.
* Condition Z: Y is residualised on [1, Z] by OLS, the sparse model is fitted on the residual.
* Penalty: 5-fold CV over a fixed grid, choosing the value with the best selection precision against
  known trait genes (0.1 when nothing scores above 0).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

# scikit-learn, scipy and threadpoolctl are imported where they are used: a preprocessing script that only
# needs the package's readers then starts in a second instead of five.

ALPHAS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
FALLBACK_ALPHA = 0.1


@contextmanager
def quiet_fits() -> Iterator[None]:
    """One BLAS thread and no convergence warnings (the reference silences them too)."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def standardize(train: np.ndarray, test: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Centre and scale with the training statistics; a zero standard deviation is replaced by 1."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    return (train - mean) / std, None if test is None else (test - mean) / std


def detect_batch_effect(X: np.ndarray) -> bool:
    """A gap > 200/n between consecutive top-10 eigenvalues of XcXc^T (normalised by the largest).
    Normalised gaps are at most 1, so this can only fire when n > 200."""
    n = X.shape[0]
    centred = X - X.mean(axis=0)
    eig = np.sort(np.linalg.eigvalsh(centred @ centred.T))[::-1][:10]
    if eig[0] <= 0:
        return False
    norm = eig / eig[0]
    return bool(np.any(norm[:-1] - norm[1:] > 200 / n))


class SparseLMM:
    """Lasso on data rotated by the eigenvectors of K = XX^T with the null-model delta.

    ``rotate_y=False`` reproduces the reference quirk of fitting the rotated X against the unrotated y.
    """

    def __init__(self, lam: float = 1.0, *, rotate_y: bool = True) -> None:
        self.lam, self.rotate_y = lam, rotate_y
        self.coef_: np.ndarray | None = None
        self.intercept_ = 0.0
        self.delta_: float | None = None

    @staticmethod
    def _nll(log_delta: float, S: np.ndarray, Uy: np.ndarray) -> float:
        n, d = len(S), np.exp(log_delta)
        sd = S + d
        return 0.5 * (n * np.log(2 * np.pi) + np.sum(np.log(sd)) + n + n * np.log(np.sum(Uy**2 / sd) / n))

    def fit(self, X: np.ndarray, y: np.ndarray) -> SparseLMM:
        from scipy.optimize import minimize_scalar
        from sklearn.linear_model import Lasso

        y = np.asarray(y, dtype=float).ravel()
        S, U = np.linalg.eigh(X @ X.T)
        S = np.clip(S, 0, None)
        Uy = U.T @ y
        grid = np.linspace(-5, 5, 501)
        nll = np.array([self._nll(g, S, Uy) for g in grid])
        i = int(np.nanargmin(nll))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        best = minimize_scalar(self._nll, bounds=(lo, hi), args=(S, Uy), method="bounded")
        log_delta = best.x if best.fun <= nll[i] else grid[i]
        self.delta_ = float(np.exp(log_delta))
        scale = 1.0 / np.sqrt(S + self.delta_)
        Xr = scale[:, None] * (U.T @ X)
        yr = scale * Uy if self.rotate_y else y
        model = Lasso(alpha=self.lam).fit(Xr, yr)
        self.coef_, self.intercept_ = model.coef_, float(model.intercept_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef_ + self.intercept_


def make_model(kind: str, penalty: float, *, reference_compatible: bool = False):
    from sklearn.linear_model import Lasso

    if kind == "lmm":
        return SparseLMM(penalty, rotate_y=not reference_compatible)
    return Lasso(alpha=penalty)


class ResidualizedRegressor:
    """Fit Y on [1, Z] by OLS, then the sparse model on the residual; predict adds the Z part back."""

    def __init__(self, model) -> None:
        self.model = model
        self.beta_z: np.ndarray | None = None

    @staticmethod
    def _with_ones(Z: np.ndarray) -> np.ndarray:
        Z = Z.reshape(len(Z), -1)
        return np.column_stack([np.ones(len(Z)), Z])

    def fit(self, X: np.ndarray, y: np.ndarray, Z: np.ndarray | None = None) -> ResidualizedRegressor:
        y = np.asarray(y, dtype=float).ravel()
        if Z is not None:
            Z1 = self._with_ones(Z)
            self.beta_z = np.linalg.pinv(Z1.T @ Z1) @ Z1.T @ y
            y = y - Z1 @ self.beta_z
        self.model.fit(X, y)
        return self

    def predict(self, X: np.ndarray, Z: np.ndarray | None = None) -> np.ndarray:
        out = self.model.predict(X)
        return out + self._with_ones(Z) @ self.beta_z if Z is not None else out

    def coefficients(self) -> np.ndarray:
        """[beta_Z without intercept, beta_X]."""
        beta_x = np.asarray(self.model.coef_).ravel()
        return beta_x if self.beta_z is None else np.concatenate([self.beta_z[1:], beta_x])


def kfold_splits(n: int, k: int = 5, seed: int = 42) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffle 0..n-1 with NumPy's legacy seed; fold i tests positions [i*f, (i+1)*f), f = n // k."""
    idx = np.arange(n)
    np.random.RandomState(seed).shuffle(idx)
    f = n // k
    return [(np.setdiff1d(idx, idx[i * f : (i + 1) * f]), idx[i * f : (i + 1) * f]) for i in range(k)]


def selection_scores(pred: list[str], ref: list[str]) -> dict[str, float]:
    """Precision/recall/F1/Jaccard x 100 as in the reference CV (0 for an empty side)."""
    p, r = set(pred), set(ref)
    prec = sum(g in r for g in pred) / len(pred) if pred else 0.0
    rec = sum(g in p for g in ref) / len(ref) if ref else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    jac = len(p & r) / len(p | r) if p | r else 0.0
    return {"precision": prec * 100, "recall": rec * 100, "f1": f1 * 100, "jaccard": jac * 100}


def prediction_scores(y_true: np.ndarray, y_pred: np.ndarray, *, binary: bool) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, precision_score, r2_score, recall_score

    if binary:
        t, p = (y_true > 0.5).astype(int), (y_pred > 0.5).astype(int)
        return {
            "accuracy": accuracy_score(t, p) * 100,
            "precision": precision_score(t, p, zero_division=0) * 100,
            "recall": recall_score(t, p, zero_division=0) * 100,
            "f1": f1_score(t, p, zero_division=0) * 100,
        }
    sst = float(np.sum((y_true - y_true.mean()) ** 2))
    sse = float(np.sum((y_true - y_pred) ** 2))
    return {
        "nmse": sse / sst if sst else float("nan"),
        "r_squared": float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan"),
    }


def nonzero_genes(coefs: np.ndarray, genes: list[str]) -> list[str]:
    return [g for g, c in zip(genes, coefs) if c != 0]


@dataclass
class CVResult:
    penalty: float
    prediction: dict[str, float]  # means over the folds
    selection: dict[str, float]
    fold_prediction: list[dict[str, float]] = field(default_factory=list)  # one entry per fold (the spread)
    fold_selection: list[dict[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class _Fold:
    Xtr: np.ndarray
    Xte: np.ndarray
    ytr: np.ndarray
    yte: np.ndarray
    Ztr: np.ndarray | None
    Zte: np.ndarray | None


def _folds(X: np.ndarray, y: np.ndarray, Z: np.ndarray | None, k: int, seed: int) -> list[_Fold]:
    out = []
    for train, test in kfold_splits(len(X), k, seed):
        Xtr, Xte = standardize(X[train], X[test])
        Ztr = Zte = None
        if Z is not None:
            Ztr, Zte = standardize(Z[train].reshape(len(train), -1), Z[test].reshape(len(test), -1))
        out.append(_Fold(Xtr, Xte, y[train], y[test], Ztr, Zte))
    return out


def _score_fold(fold: _Fold, model, genes: list[str], ref: list[str], binary: bool) -> tuple[dict, dict]:
    fitted = ResidualizedRegressor(model).fit(fold.Xtr, fold.ytr, fold.Ztr)
    pred = prediction_scores(fold.yte, fitted.predict(fold.Xte, fold.Zte), binary=binary)
    beta_x = np.asarray(fitted.model.coef_).ravel()
    return pred, selection_scores(nonzero_genes(beta_x, genes), ref)


def _mean(rows: list[dict]) -> dict[str, float]:
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


def cross_validate_grid(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    genes: list[str],
    *,
    related: list[str],
    grid: tuple[float, ...],
    Z: np.ndarray | None = None,
    k: int = 5,
    seed: int = 42,
    reference_compatible: bool = False,
    n_jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[CVResult]:
    """k-fold CV of every penalty. Fits run in threads (the coordinate descent releases the GIL);
    each fit is independent, so the numbers do not depend on ``n_jobs``."""
    binary = len(np.unique(y)) == 2
    gene_set = set(genes)
    ref = [g for g in related if g in gene_set]
    folds = _folds(X, y, Z, k, seed)
    jobs = [(i, j) for i in range(len(grid)) for j in range(len(folds))]
    n_jobs = n_jobs or min(2, os.cpu_count() or 1)
    done: dict[tuple[int, int], tuple[dict, dict]] = {}

    def run(job: tuple[int, int]) -> tuple[tuple[int, int], tuple[dict, dict]]:
        i, j = job
        model = make_model(kind, grid[i], reference_compatible=reference_compatible)
        return job, _score_fold(folds[j], model, genes, ref, binary)

    # One BLAS thread per worker: the vectors are short and oversubscription only slows things down.
    # Warning filters are process-wide, so they are set here, around the threads, not inside them.
    with quiet_fits(), ThreadPoolExecutor(max_workers=n_jobs) as pool:
        for job, scores in pool.map(run, jobs):
            done[job] = scores
            if progress:
                progress(
                    f"cross-validation {len(done)}/{len(jobs)} (penalty {grid[job[0]]:g}, fold {job[1] + 1})"
                )
    return [
        CVResult(
            a,
            _mean([done[(i, j)][0] for j in range(len(folds))]),
            _mean([done[(i, j)][1] for j in range(len(folds))]),
            [done[(i, j)][0] for j in range(len(folds))],
            [done[(i, j)][1] for j in range(len(folds))],
        )
        for i, a in enumerate(grid)
    ]


def cross_validate(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    genes: list[str],
    *,
    related: list[str],
    penalty: float,
    Z: np.ndarray | None = None,
    k: int = 5,
    seed: int = 42,
    reference_compatible: bool = False,
) -> CVResult:
    return cross_validate_grid(
        kind,
        X,
        y,
        genes,
        related=related,
        grid=(penalty,),
        Z=Z,
        k=k,
        seed=seed,
        reference_compatible=reference_compatible,
        n_jobs=1,
    )[0]


@dataclass
class TuneResult:
    penalty: float
    prediction: dict[str, float]
    selection: dict[str, float]
    grid: list[CVResult] = field(default_factory=list)


def tune_penalty(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    genes: list[str],
    *,
    related: list[str],
    Z: np.ndarray | None = None,
    grid: tuple[float, ...] = ALPHAS,
    reference_compatible: bool = False,
    n_jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> TuneResult:
    """Best selection precision wins (ties keep the smaller penalty; 0.1 if none scores above 0).

    The reference reports the best prediction score over the whole grid, which may belong to another
    penalty; by default the reported prediction is the chosen penalty's own.
    """
    metric = "f1" if len(np.unique(y)) == 2 else "r_squared"
    if not reference_compatible and not set(related) & set(genes):
        # Without known genes every penalty has selection precision 0, so the choice is the fallback
        # whatever the grid says; only its own CV scores are reported, so only it is cross-validated.
        grid = (FALLBACK_ALPHA,)
    results = cross_validate_grid(
        kind,
        X,
        y,
        genes,
        related=related,
        grid=grid,
        Z=Z,
        reference_compatible=reference_compatible,
        n_jobs=n_jobs,
        progress=progress,
    )
    best_sel, chosen = -np.inf, results[0]
    for r in results:
        if r.selection["precision"] > best_sel:
            best_sel, chosen = r.selection["precision"], r
    penalty = chosen.penalty if best_sel > 0 else FALLBACK_ALPHA
    if reference_compatible:
        best_pred, prediction = -np.inf, results[0].prediction
        for r in results:
            if r.prediction[metric] > best_pred:
                best_pred, prediction = r.prediction[metric], r.prediction
        return TuneResult(penalty, prediction, chosen.selection, results)
    own = next((r for r in results if r.penalty == penalty), None)
    if own is None:
        own = cross_validate(kind, X, y, genes, related=related, penalty=penalty, Z=Z)
        results = [*results, own]
    return TuneResult(penalty, own.prediction, own.selection, results)
