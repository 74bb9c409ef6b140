"""GenoTEX evaluation metrics, in both scoring variants (``genotex`` and ``genomas``).

Percent metrics (precision, recall, F1, accuracy) are x100; CSC and its factors, AUROC and GSEA-ES
are fractions. NaN means "undefined" (for example AUROC with no hit).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

VARIANTS = ("genotex", "genomas")
N_GENES = 20_000


def jaccard(a: Iterable, b: Iterable) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


# --- preprocessing: CSC ----------------------------------------------------------------------------


def feature_correlation(pred: pd.DataFrame, ref: pd.DataFrame) -> float:
    """Mean Pearson r over common features (rows = samples) whose std is non-zero in both frames."""
    rows = pred.index.intersection(ref.index)
    cols = pred.columns.intersection(ref.columns)
    if len(rows) == 0 or len(cols) == 0:
        return 0.0

    def prep(df: pd.DataFrame) -> np.ndarray:
        # the conversion and the fill are skipped where they change nothing (on a 20,000-gene table each
        # takes seconds); the array is column-major either way, as a rebuilt frame gives it, so the sums
        # below run in the same order (a constant column's std stays exactly 0)
        sub = df.loc[rows, cols]
        if not all(pd.api.types.is_numeric_dtype(t) for t in sub.dtypes):
            sub = sub.apply(pd.to_numeric, errors="coerce")
        sub = sub.loc[:, ~sub.columns.duplicated()] if sub.columns.has_duplicates else sub
        if sub.isna().to_numpy().any():
            sub = sub.fillna(sub.mean()).fillna(0.0)
        return np.asfortranarray(sub.to_numpy(dtype=float))

    x, y = prep(pred), prep(ref)
    if x.shape != y.shape:  # duplicated labels on one side only: fall back to the first occurrences
        return 0.0
    xs, ys = x.std(axis=0), y.std(axis=0)
    ok = (xs > 0) & (ys > 0)
    if not ok.any():
        return 0.0
    xc, yc = x[:, ok] - x[:, ok].mean(axis=0), y[:, ok] - y[:, ok].mean(axis=0)
    r = (xc * yc).sum(axis=0) / (len(x) * xs[ok] * ys[ok])
    return float(np.nanmean(np.nan_to_num(r, nan=0.0)))


def csc(pred: pd.DataFrame, ref: pd.DataFrame) -> dict[str, float]:
    """Attribute Jaccard x sample Jaccard x feature correlation, for frames with samples as rows."""
    if pred.empty or ref.empty:
        return {"attribute_jaccard": 0.0, "sample_jaccard": 0.0, "feature_correlation": 0.0, "csc": 0.0}
    aj = jaccard(map(str, pred.columns), map(str, ref.columns))
    sj = jaccard(map(str, pred.index), map(str, ref.index))
    pred = pred.set_axis(pred.index.map(str), axis=0).set_axis(pred.columns.map(str), axis=1)
    ref = ref.set_axis(ref.index.map(str), axis=0).set_axis(ref.columns.map(str), axis=1)
    fc = feature_correlation(pred, ref)
    return {"attribute_jaccard": aj, "sample_jaccard": sj, "feature_correlation": fc, "csc": aj * sj * fc}


def csc_files(pred_path, ref_path, *, transpose: bool) -> dict[str, float]:
    """CSC of two CSV files (first column = index); gene and clinical files are transposed first."""
    pred = pd.read_csv(pred_path, index_col=0)
    ref = pd.read_csv(ref_path, index_col=0)
    return csc(pred.T, ref.T) if transpose else csc(pred, ref)


# --- dataset filtering ----------------------------------------------------------------------------


def filtering_scores(pred_info: dict[str, dict], ref_info: dict[str, dict]) -> dict[str, float]:
    """Agreement on ``is_available`` over the union of cohorts (a missing entry counts as False)."""
    tp = fp = tn = fn = 0
    for cohort in set(pred_info) | set(ref_info):
        p = bool((pred_info.get(cohort) or {}).get("is_available"))
        r = bool((ref_info.get(cohort) or {}).get("is_available"))
        tp, fp, tn, fn = tp + (p and r), fp + (p and not r), tn + (not p and not r), fn + (not p and r)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    total = tp + fp + tn + fn
    return {
        "precision": prec * 100,
        "recall": rec * 100,
        "f1": f1 * 100,
        "accuracy": (tp + tn) / total * 100 if total else 0.0,
    }


# --- gene identification ----------------------------------------------------------------------------


def precision_recall_f1(pred: Sequence[str], ref: Sequence[str]) -> dict[str, float]:
    """x100. An empty prediction has precision 1 only if ref is empty too; likewise for recall."""
    ref_set, pred_set = set(ref), set(pred)
    p = (1.0 if not ref else 0.0) if not pred else sum(g in ref_set for g in pred) / len(pred)
    r = (1.0 if not pred else 0.0) if not ref else sum(g in pred_set for g in ref) / len(ref)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p * 100, "recall": r * 100, "f1": f1 * 100}


def auroc_from_scores(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney AUROC with ties counted as 1/2; NaN when one class is absent."""
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(np.asarray(scores, dtype=float)).rank(method="average").to_numpy()
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def gene_auroc(
    pred: Sequence[str], ref: Sequence[str], *, variant: str = "genotex", n: int = N_GENES
) -> float:
    """Ranked prediction vs reference genes; the i-th predicted gene scores k - i, the rest 0.

    genotex: only predicted genes can be positives (unpredicted reference genes are not counted).
    genomas: unpredicted reference genes are added as score-0 positives.
    """
    _check_variant(variant)
    ref_set = set(ref)
    pred = list(pred)[:n]
    k = len(pred)
    scores = [float(k - i) for i in range(k)]
    labels = [g in ref_set for g in pred]
    if variant == "genotex" and (not ref_set or len(ref_set) == n):
        return float("nan")
    if variant == "genomas":
        missed = [g for g in ref_set if g not in set(pred)]
        scores += [0.0] * len(missed)
        labels += [True] * len(missed)
    pad = max(n - len(scores), 0)
    return auroc_from_scores(np.array(labels + [False] * pad), np.array(scores + [0.0] * pad))


def gsea_es(pred: Sequence[str], ref: Sequence[str], *, variant: str = "genotex", n: int = N_GENES) -> float:
    """Unweighted running-sum enrichment over pred + dummy genes (length n); ES = the maximum.

    N_h = |ref| (genotex) or the number of listed genes in ref (genomas); NaN if N_h is 0 or n, or if
    more than n genes are predicted.
    """
    _check_variant(variant)
    if len(pred) > n:
        return float("nan")
    ref_set = set(ref)
    hits = np.array([g in ref_set for g in pred] + [False] * (n - len(pred)))
    n_h = len(ref_set) if variant == "genotex" else int(hits.sum())
    if n_h == 0 or n_h == n:
        return float("nan")
    steps = np.where(hits, 1.0 / n_h, -1.0 / (n - n_h))
    return float(np.cumsum(steps).max())


def gene_scores(
    pred: Sequence[str], ref: Sequence[str], *, variant: str = "genotex", n: int = N_GENES
) -> dict[str, float]:
    out = precision_recall_f1(pred, ref)
    out["auroc"] = gene_auroc(pred, ref, variant=variant, n=n)
    out["gsea_es"] = gsea_es(pred, ref, variant=variant, n=n)
    return out


def nanmean_rounded(values: Iterable[float], ndigits: int = 2) -> float:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return round(float(np.mean(vals)), ndigits) if vals else float("nan")


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
