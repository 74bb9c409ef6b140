"""Single-cell expression features: the gene columns of a cells x genes table (an AnnData file read by
``omicsagent.ml.io.read_table``) -> normalised, log-transformed, highly variable genes -> PCA, plus optional
marker genes of each class. Everything is fitted on the training cells only.

Whether the matrix holds raw counts is decided from the data (``looks_like_counts``): integer-valued,
non-negative values are counts and get the usual per-cell normalisation to the median total plus ``log1p``;
anything else (log-normalised or scaled values) is used as it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omicsagent.errors import InputError
from omicsagent.ml.features import Block

NORMALIZE = ("auto", "log1p", "none")


def looks_like_counts(matrix: np.ndarray, *, sample: int = 200_000) -> bool:
    """Whether an expression matrix holds raw counts: non-negative whole numbers, not all zero.

    Judged on up to ``sample`` non-zero values (a fixed subsample), so a log-normalised or scaled matrix,
    whose values are fractional or negative, is never taken for counts."""
    values = np.asarray(matrix, dtype=np.float64).ravel()
    values = values[values != 0]
    if values.size == 0 or not np.isfinite(values).all():
        return False
    if values.size > sample:
        values = values[np.random.default_rng(0).choice(values.size, sample, replace=False)]
    return bool((values > 0).all() and np.allclose(values, np.round(values)))


def log_normalize(matrix: np.ndarray, target_sum: float) -> np.ndarray:
    """Counts scaled so every cell sums to ``target_sum``, then ``log1p`` (cells with no counts stay 0)."""
    totals = matrix.sum(axis=1, keepdims=True)
    scale = np.divide(target_sum, totals, out=np.zeros_like(totals, dtype=np.float64), where=totals > 0)
    return np.log1p(matrix * scale)


@dataclass
class ExpressionBlock(Block):
    """Options: ``exclude`` lists the non-gene columns (the target and cell annotations); every other
    numeric column is a gene. ``normalize``: ``auto`` (normalise + log1p when the training matrix holds
    counts), ``log1p`` or ``none``. ``n_top_genes``: the most variable genes kept; ``n_components``: the
    principal components output (0: the kept genes' scaled values instead). ``marker_genes``: for each
    class of ``target``, the genes that best separate it from the others are added (their values)."""

    kind = "expression"
    output = "flat"
    exclude: list[str] = field(default_factory=list)
    normalize: str = "auto"
    n_top_genes: int = 2000
    n_components: int = 50
    scale: bool = True
    marker_genes: int = 0
    target: str | None = None
    _genes: list[str] = field(default_factory=list, repr=False, init=False)
    _counts: bool = field(default=False, repr=False, init=False)
    _target_sum: float = field(default=1e4, repr=False, init=False)
    _hvg: np.ndarray = field(default_factory=lambda: np.zeros(0, int), repr=False, init=False)
    _mean: np.ndarray | None = field(default=None, repr=False, init=False)
    _std: np.ndarray | None = field(default=None, repr=False, init=False)
    _pca: object = field(default=None, repr=False, init=False)
    _markers: np.ndarray = field(default_factory=lambda: np.zeros(0, int), repr=False, init=False)

    def check(self) -> None:
        if self.normalize not in NORMALIZE:
            raise InputError(f'The "expression" block\'s normalize must be one of {", ".join(NORMALIZE)}; '
                             f"got {self.normalize!r}.")
        if self.n_top_genes < 1 or self.n_components < 0 or self.marker_genes < 0:
            raise InputError('The "expression" block needs n_top_genes >= 1, n_components >= 0 and '
                             "marker_genes >= 0; fix the spec.")
        if self.marker_genes and not self.target:
            raise InputError('The "expression" block needs "target" (the label column) for marker_genes; '
                             "name it or set marker_genes to 0.")

    @property
    def input_columns(self) -> list[str]:
        return list(self._genes)

    def _matrix(self, df: pd.DataFrame) -> np.ndarray:
        x = df[self._genes].to_numpy(dtype=np.float64, na_value=0.0)
        if self._counts:
            x = log_normalize(x, self._target_sum)
        return x

    def fit(self, df: pd.DataFrame) -> ExpressionBlock:
        skip = set(self.exclude) | ({self.target} if self.target else set())
        self._genes = [c for c in df.columns if c not in skip and pd.api.types.is_numeric_dtype(df[c])
                       and not pd.api.types.is_bool_dtype(df[c])]
        if not self._genes:
            raise InputError('The "expression" block found no numeric gene column outside "exclude"; '
                             "check the spec.")
        raw = df[self._genes].to_numpy(dtype=np.float64, na_value=0.0)
        self._counts = self.normalize == "log1p" or (self.normalize == "auto" and looks_like_counts(raw))
        if self._counts:
            totals = raw.sum(axis=1)
            self._target_sum = float(np.median(totals[totals > 0])) if (totals > 0).any() else 1e4
        x = self._matrix(df)
        var = x.var(axis=0)
        order = np.argsort(-var, kind="stable")
        self._hvg = np.sort(order[: min(self.n_top_genes, int((var > 0).sum()) or 1)])
        sel = x[:, self._hvg]
        self._mean = sel.mean(axis=0)
        self._std = sel.std(axis=0) if self.scale else np.ones(sel.shape[1])
        self._std[self._std == 0] = 1.0
        self._pca = None
        if self.n_components:
            from sklearn.decomposition import PCA

            k = int(min(self.n_components, sel.shape[0] - 1, sel.shape[1]))
            if k >= 1:
                self._pca = PCA(n_components=k, random_state=0).fit(self._scaled(sel))
        self._markers = self._marker_indices(x, df[self.target]) if self.marker_genes else np.zeros(0, int)
        print(f"expression: {self.describe_fit()}", flush=True)  # the training log says what was decided
        return self

    def _scaled(self, sel: np.ndarray) -> np.ndarray:
        return np.clip((sel - self._mean) / self._std, -10, 10)

    def _marker_indices(self, x: np.ndarray, y: pd.Series) -> np.ndarray:
        """For each class, the ``marker_genes`` genes whose mean in the class exceeds the mean elsewhere by
        the most pooled standard deviations (a Welch-like t score); their union."""
        labels = y.astype(str).to_numpy()
        picked: list[int] = []
        for cls in np.unique(labels):
            inside = labels == cls
            if inside.sum() < 2 or (~inside).sum() < 2:
                continue
            a, b = x[inside], x[~inside]
            t = (a.mean(axis=0) - b.mean(axis=0)) / np.sqrt(a.var(axis=0) / len(a) + b.var(axis=0) / len(b)
                                                            + 1e-12)
            picked.extend(np.argsort(-t, kind="stable")[: self.marker_genes].tolist())
        return np.array(sorted(set(picked)), dtype=int)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        x = self._matrix(df)
        sel = self._scaled(x[:, self._hvg])
        parts = [self._pca.transform(sel) if self._pca is not None else sel]
        if len(self._markers):
            parts.append(x[:, self._markers])
        return np.hstack(parts).astype(np.float32)

    def feature_names(self) -> list[str]:
        if self._pca is not None:
            names = [f"PC{i + 1}" for i in range(self._pca.n_components_)]
        else:
            names = [self._genes[i] for i in self._hvg]
        return names + [f"marker:{self._genes[i]}" for i in self._markers]

    def describe_fit(self) -> str:
        """What the fit decided, for the training log."""
        how = "raw counts: normalised per cell and log1p-transformed" if self._counts else "used as given"
        return f"{len(self._genes)} genes ({how}), {len(self._hvg)} most variable kept"
