"""Value scale of an expression table (log-like or linear) and the optional log2 transform.

The reference takes values exactly as deposited (method section 2.3). Whether to log-transform
linear-scale data (MAS5 intensities, counts) is a methodological choice; the expression team's guideline
holds it, and its reviewer uses ``value_scale`` to check that a gene table matches that choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# log2 expression values stay far below this (2**50 would be an impossible intensity); linear intensities
# and counts have a long right tail well above it.
LINEAR_QUANTILE_LIMIT = 50.0


@dataclass(frozen=True)
class ValueScale:
    kind: str  # "log", "linear" or "unknown"
    reason: str
    q99: float | None = None
    median: float | None = None


def value_scale(values: pd.DataFrame | np.ndarray) -> ValueScale:
    """``linear`` when the 99th percentile exceeds 50 and nothing is negative; ``log`` otherwise
    (negative values mean centred or log-ratio data); ``unknown`` without finite values."""
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return ValueScale("unknown", "no finite values")
    q99, med = float(np.quantile(arr, 0.99)), float(np.median(arr))
    negative = float((arr < 0).mean())
    if negative > 0.001:
        return ValueScale(
            "log", f"{negative:.1%} of values are negative (centred or log-ratio data)", q99, med
        )
    if q99 > LINEAR_QUANTILE_LIMIT:
        return ValueScale(
            "linear", f"99th percentile {q99:.4g} > {LINEAR_QUANTILE_LIMIT:g}, median {med:.4g}", q99, med
        )
    return ValueScale(
        "log", f"99th percentile {q99:.4g} <= {LINEAR_QUANTILE_LIMIT:g}, median {med:.4g}", q99, med
    )


def log2_transform(frame: pd.DataFrame) -> pd.DataFrame:
    """log2(x + 1); values below 0 (which linear data should not hold) become NaN."""
    values = frame.to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(values >= 0, np.log2(values + 1.0), np.nan)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)
