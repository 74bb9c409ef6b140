"""Single-cell expression features: the gene columns of a cells x genes table (an AnnData file read by
``omicsagent.ml.io.read_table``) -> normalised, log-transformed, highly variable genes -> PCA, plus optional
marker genes of each class. Everything is fitted on the training cells only.

Whether the matrix holds raw counts is decided from the data (``looks_like_counts``): integer-valued,
non-negative values are counts and get the usual per-cell normalisation to the median total plus ``log1p``;
anything else (log-normalised or scaled values) is used as it is.

A sparse matrix (sparse gene columns, as ``read_table`` gives a sparse AnnData ``X``) stays sparse all the
way: normalisation, ``log1p``, gene variances and marker scores work on the stored values, and the scaled
genes are kept as a sparse matrix whose zeros stay zero (each gene shifted by the constant its zeros scale
to, so a scaled gene differs from the dense ``clip((x - mean) / std)`` by that constant only); PCA centres
it implicitly. Only the principal components (cells x 50) are dense.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml.features import Block
from omicsagent.ml.io import gene_matrix

NORMALIZE = ("auto", "log1p", "none")
CLIP = 10.0  # scaled values are clipped to [-CLIP, CLIP]


def looks_like_counts(matrix, *, sample: int = 200_000) -> bool:
    """Whether an expression matrix (dense or sparse) holds raw counts: non-negative whole numbers, not all
    zero.

    Judged on up to ``sample`` non-zero values (a fixed subsample), so a log-normalised or scaled matrix,
    whose values are fractional or negative, is never taken for counts."""
    if sparse.issparse(matrix):  # the stored values, in row order as a dense matrix's non-zeros are
        values = np.asarray(sparse.csr_matrix(matrix).data, dtype=np.float64)
    else:
        values = np.asarray(matrix, dtype=np.float64).ravel()
    values = values[values != 0]
    if values.size == 0 or not np.isfinite(values).all():
        return False
    if values.size > sample:
        values = values[np.random.default_rng(0).choice(values.size, sample, replace=False)]
    return bool((values > 0).all() and np.allclose(values, np.round(values)))


def cell_totals(matrix) -> np.ndarray:
    """Each cell's (row's) total, dense or sparse."""
    return np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()


def log_normalize(matrix, target_sum: float):
    """Counts scaled so every cell sums to ``target_sum``, then ``log1p`` (cells with no counts stay 0); a
    sparse matrix gives a CSR matrix (zeros stay zero)."""
    if sparse.issparse(matrix):
        totals = cell_totals(matrix)
        scale = np.divide(target_sum, totals, out=np.zeros_like(totals), where=totals > 0)
        return (sparse.diags(scale) @ sparse.csr_matrix(matrix, dtype=np.float64)).log1p().tocsr()
    totals = matrix.sum(axis=1, keepdims=True)
    scale = np.divide(target_sum, totals, out=np.zeros_like(totals, dtype=np.float64), where=totals > 0)
    return np.log1p(matrix * scale)


def mean_var(x) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and (population) variance, dense or sparse; the sparse variance is the two-pass sum
    over the stored values plus the zeros' share, so it agrees with numpy's on the dense matrix."""
    if not sparse.issparse(x):
        return x.mean(axis=0), x.var(axis=0)
    x = sparse.csc_matrix(x)
    n = x.shape[0]
    mean = np.asarray(x.sum(axis=0), dtype=np.float64).ravel() / max(n, 1)
    nnz = np.diff(x.indptr)
    dev = (x.data - np.repeat(mean, nnz)) ** 2
    sums = np.add.reduceat(dev, x.indptr[:-1][nnz > 0]) if dev.size else np.zeros(0)
    ss = np.zeros(x.shape[1])
    ss[nnz > 0] = sums
    ss += (n - nnz) * mean ** 2
    return mean, ss / max(n, 1)


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
    # What the scaled genes were shifted by when fitted: 0 on a dense matrix; on a sparse one the value the
    # zeros scale to, so that zeros stay zero (see the module docstring).
    _offset: np.ndarray | None = field(default=None, repr=False, init=False)
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

    def _matrix(self, df: pd.DataFrame):
        """The genes of ``df`` (CSR when they are sparse columns), normalised as fitted."""
        x = gene_matrix(df, self._genes)
        if self._counts:
            x = log_normalize(x, self._target_sum)
        return x

    def fit(self, df: pd.DataFrame) -> ExpressionBlock:
        skip = set(self.exclude) | ({self.target} if self.target else set())
        self._genes = [c for c in df.columns if c not in skip and _numeric(df[c].dtype)]
        if not self._genes:
            raise InputError('The "expression" block found no numeric gene column outside "exclude"; '
                             "check the spec.")
        raw = gene_matrix(df, self._genes)
        self._counts = self.normalize == "log1p" or (self.normalize == "auto" and looks_like_counts(raw))
        if self._counts:
            totals = cell_totals(raw)
            self._target_sum = float(np.median(totals[totals > 0])) if (totals > 0).any() else 1e4
        x = log_normalize(raw, self._target_sum) if self._counts else raw
        del raw
        var = mean_var(x)[1]
        order = np.argsort(-var, kind="stable")
        self._hvg = np.sort(order[: min(self.n_top_genes, int((var > 0).sum()) or 1)])
        sel = x[:, self._hvg]
        self._mean, var_sel = mean_var(sel)
        self._std = np.sqrt(var_sel) if self.scale else np.ones(sel.shape[1])
        self._std[self._std == 0] = 1.0
        self._offset = self._zero_value() if sparse.issparse(sel) else np.zeros(sel.shape[1])
        self._pca = None
        if self.n_components:
            from sklearn.decomposition import PCA

            k = int(min(self.n_components, sel.shape[0] - 1, sel.shape[1]))
            if k >= 1 and sparse.issparse(sel):  # centred implicitly, by an exact solver taking sparse input
                self._pca = PCA(n_components=k, svd_solver="covariance_eigh", random_state=0).fit(
                    self._scaled_sparse(sel))
            elif k >= 1:
                self._pca = PCA(n_components=k, random_state=0).fit(self._scaled(sel))
        self._markers = self._marker_indices(x, df[self.target]) if self.marker_genes else np.zeros(0, int)
        print(f"expression: {self.describe_fit()}", flush=True)  # the training log says what was decided
        return self

    def _zero_value(self) -> np.ndarray:
        """What a zero of each kept gene scales to."""
        return np.clip(-self._mean / self._std, -CLIP, CLIP)

    def _scaled(self, sel: np.ndarray) -> np.ndarray:
        """Dense kept genes, scaled and clipped, minus the fitted offset."""
        offset = self._offset if self._offset is not None else 0.0  # a model saved before offsets existed
        return np.clip((sel - self._mean) / self._std, -CLIP, CLIP) - offset

    def _scaled_sparse(self, sel) -> sparse.csr_matrix:
        """Sparse kept genes scaled and clipped like ``_scaled``, minus what each gene's zeros scale to (so
        zeros stay zero and the stored values are the only ones computed)."""
        sel = sparse.csr_matrix(sel, dtype=np.float64, copy=True)
        cols = sel.indices
        sel.data = np.clip((sel.data - self._mean[cols]) / self._std[cols], -CLIP, CLIP) \
            - self._zero_value()[cols]
        return sel

    def _marker_indices(self, x, y: pd.Series) -> np.ndarray:
        """For each class, the ``marker_genes`` genes whose mean in the class exceeds the mean elsewhere by
        the most pooled standard deviations (a Welch-like t score); their union."""
        labels = y.astype(str).to_numpy()
        picked: list[int] = []
        for cls in np.unique(labels):
            inside = labels == cls
            if inside.sum() < 2 or (~inside).sum() < 2:
                continue
            (mean_a, var_a), (mean_b, var_b) = mean_var(x[inside]), mean_var(x[~inside])
            t = (mean_a - mean_b) / np.sqrt(var_a / inside.sum() + var_b / (~inside).sum() + 1e-12)
            picked.extend(np.argsort(-t, kind="stable")[: self.marker_genes].tolist())
        return np.array(sorted(set(picked)), dtype=int)

    def transform(self, df: pd.DataFrame):
        """Cells x (principal components or scaled kept genes, then marker genes): dense, or CSR when the
        genes are sparse and a part (the scaled genes without PCA, the marker genes) can stay sparse."""
        x = self._matrix(df)
        sel = x[:, self._hvg]
        offset = self._offset if self._offset is not None else np.zeros(sel.shape[1])
        if not sparse.issparse(sel):
            scaled = self._scaled(sel)
            main = self._pca.transform(scaled) if self._pca is not None else scaled
        else:
            # scaled - offset == scaled_sparse + (zero value - offset): a constant row, added after PCA
            shift = self._zero_value() - offset
            scaled = self._scaled_sparse(sel)
            if self._pca is not None:
                main = self._pca.transform(scaled) + shift @ self._pca.components_.T
            elif np.any(shift):  # a model fitted on dense genes: its scaled genes are dense by definition
                main = scaled.toarray() + shift
            else:
                main = scaled
        parts = [main] + ([x[:, self._markers]] if len(self._markers) else [])
        if any(sparse.issparse(m) for m in parts):
            return sparse.hstack([sparse.csr_matrix(m) for m in parts], format="csr", dtype=np.float32)
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


def _numeric(dtype) -> bool:
    """A gene column: numeric (dense or sparse), not boolean."""
    if isinstance(dtype, pd.SparseDtype):
        dtype = dtype.subtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
