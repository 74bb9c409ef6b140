"""Train/validation splitting: stratified for classification, grouped when a group column is known.

Used by generated split scripts (inside the sandbox) and by the harness as a fallback.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from omicsagent.ml.io import take_rows


def split_frame(df: pd.DataFrame, *, target: str, task_type: str, group: str | None = None,
                fraction: float = 0.2, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(train, validation, description of the method). Rows keep their original order within each part."""
    mask, method = held_out_rows(df, target=target, task_type=task_type, group=group, fraction=fraction,
                                 seed=seed)
    return take_rows(df, ~mask), take_rows(df, mask), method


def held_out_rows(df: pd.DataFrame, *, target: str, task_type: str, group: str | None = None,
                  fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, str]:
    """(a boolean mask of the held-out rows, description of the method): ``fraction`` of the rows, stratified
    by the target for classification (when every class has two rows), grouped when a group column is known.
    The one split decision behind the loop's validation split and the benchmark's test hold-out."""
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, train_test_split

    idx = np.arange(len(df))
    classification = task_type in ("binary", "multiclass")  # multilabel: random (or grouped) rows
    if group is not None:
        groups = df[group].astype(str).to_numpy()
        if classification:
            n_splits = max(2, int(round(1 / fraction)))
            folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            _, valid_idx = next(folds.split(idx, df[target].astype(str), groups))
            method = f"grouped by '{group}' and stratified by '{target}' (1 of {n_splits} folds)"
        else:
            _, valid_idx = next(
                GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed).split(idx, groups=groups)
            )
            method = f"grouped by '{group}' ({fraction:.0%} of groups)"
    else:
        stratify = df[target].astype(str) if classification and df[target].value_counts().min() >= 2 else None
        _, valid_idx = train_test_split(idx, test_size=fraction, random_state=seed, stratify=stratify)
        method = f"{'stratified by ' + repr(target) if stratify is not None else 'random'} ({fraction:.0%})"
    mask = np.zeros(len(df), dtype=bool)
    mask[np.sort(valid_idx)] = True
    return mask, method


def fold_indices(df: pd.DataFrame, *, target: str | list[str], task_type: str, group: str | None = None,
                 k: int = 5, seed: int = 0) -> tuple[list[np.ndarray], str]:
    """(held-out row positions of each of ``k`` folds, description of the method): stratified by the target
    for classification (when every class has ``k`` rows), grouped when a group column is known."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    idx = np.arange(len(df))
    classification = task_type in ("binary", "multiclass")
    y = df[target].astype(str) if classification else None
    stratify = classification and y.value_counts().min() >= k
    groups = df[group].astype(str).to_numpy() if group is not None else None
    if groups is not None and len(set(groups)) < 2:
        groups = None  # a single group cannot be kept apart
    if groups is not None:
        k = min(k, len(set(groups)))
        if stratify:
            folds = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed).split(idx, y, groups)
            method = f"{k}-fold, grouped by '{group}' and stratified by '{target}'"
        else:
            folds = GroupKFold(n_splits=k).split(idx, groups=groups)
            method = f"{k}-fold, grouped by '{group}'"
    elif stratify:
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(idx, y)
        method = f"{k}-fold, stratified by '{target}'"
    else:
        folds = KFold(n_splits=k, shuffle=True, random_state=seed).split(idx)
        method = f"{k}-fold, random"
    return [np.sort(held) for _, held in folds], method
