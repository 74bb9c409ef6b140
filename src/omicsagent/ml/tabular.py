"""Tabular block: numbers (text like "?" read as missing, median-imputed, missing flags), categories
(one-hot of the frequent levels plus "other"), constant columns dropped. No scaling: models scale."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omicsagent.errors import InputError
from omicsagent.ml.features import Block


def as_numeric(s: pd.Series, *, min_fraction: float = 0.9) -> pd.Series | None:
    """The column as floats when at least ``min_fraction`` of its non-missing values are numbers."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    present = s.dropna()
    if present.empty:
        return None
    num = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    if num.notna().mean() < min_fraction:
        return None
    return pd.to_numeric(s.astype(str).str.strip(), errors="coerce").where(s.notna())


def _levels_of(s: pd.Series) -> np.ndarray:
    """A category column's values as level names: numbers written one way (``1``, ``1.0`` -> ``1``, so
    integer codes match whether a file was read as integers, floats or text), missing as ``<missing>``."""
    text = s.astype(str).str.strip()
    num = pd.to_numeric(text, errors="coerce")
    out = text.where(num.isna(), num.map(lambda v: f"{v:g}"))
    return out.where(s.notna(), "<missing>").to_numpy(dtype=object)


@dataclass
class TabularBlock(Block):
    """``columns``: the input columns to use (or ``"auto"`` = all but ``exclude``); ``categorical``: columns
    one-hot encoded even when their values are numbers (integer-coded categories)."""

    kind = "tabular"
    output = "flat"
    columns: list[str] | str = "auto"
    exclude: list[str] = field(default_factory=list)
    max_categories: int = 20
    categorical: list[str] = field(default_factory=list)
    _numeric: list[str] = field(default_factory=list, repr=False, init=False)
    _medians: dict = field(default_factory=dict, repr=False, init=False)
    _flags: list[str] = field(default_factory=list, repr=False, init=False)
    _levels: dict = field(default_factory=dict, repr=False, init=False)
    _used: list[str] = field(default_factory=list, repr=False, init=False)

    def check(self) -> None:
        if self.columns == "auto" and not self.exclude:
            raise InputError(
                'A "tabular" block with columns "auto" needs "exclude" listing at least the target '
                "column; list the columns to use or the ones to exclude."
            )
        if not (self.columns == "auto" or (isinstance(self.columns, list) and self.columns)):
            raise InputError(
                'The "tabular" block needs "columns" as a non-empty list or "auto"; fix the spec.'
            )

    @property
    def input_columns(self) -> list[str]:
        return list(self._used) if self.columns == "auto" else list(self.columns)

    def fit(self, df: pd.DataFrame) -> TabularBlock:
        cols = (
            [c for c in df.columns if c not in self.exclude] if self.columns == "auto" else list(self.columns)
        )
        self._used = list(cols)
        self._numeric, self._medians, self._flags, self._levels = [], {}, [], {}
        for c in cols:
            num = None if c in self.categorical else as_numeric(df[c])
            if num is not None:
                if num.notna().sum() == 0:
                    continue
                med = float(num.median())
                filled = num.fillna(med)
                has_missing = bool(num.isna().any())
                if filled.nunique() <= 1 and not has_missing:
                    continue  # constant
                self._numeric.append(c)
                self._medians[c] = med
                if has_missing:
                    self._flags.append(c)
            else:
                counts = pd.Series(_levels_of(df[c])).value_counts()
                levels = [lv for lv, n in counts.items() if n >= 2][: self.max_categories]
                if len(levels) + (len(counts) > len(levels)) <= 1:
                    continue  # constant
                self._levels[c] = levels
        return self

    def feature_names(self) -> list[str]:
        names = list(self._numeric) + [f"{c}:missing" for c in self._flags]
        for c, levels in self._levels.items():
            names += [f"{c}={lv}" for lv in levels] + [f"{c}=<other>"]
        return names

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        parts = []
        for c in self._numeric:
            num = as_numeric(df[c], min_fraction=0.0)
            num = pd.Series(np.nan, index=df.index) if num is None else num
            parts.append(num.fillna(self._medians[c]).to_numpy(dtype=np.float32)[:, None])
        for c in self._flags:
            num = as_numeric(df[c], min_fraction=0.0)
            miss = np.ones(len(df), bool) if num is None else num.isna().to_numpy()
            parts.append(miss.astype(np.float32)[:, None])
        for c, levels in self._levels.items():
            vals = _levels_of(df[c])
            oh = (vals[:, None] == np.array(levels, dtype=object)[None, :]).astype(np.float32)
            other = (oh.sum(axis=1, keepdims=True) == 0).astype(np.float32)
            parts += [oh, other]
        if not parts:
            return np.zeros((len(df), 0), dtype=np.float32)
        out = np.hstack(parts).astype(np.float32)
        return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
