"""Unit logic of small-data resampling: folds and bootstrap intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd

from omicsagent.agent.resample import bootstrap_interval
from omicsagent.agent.split import fold_indices
from omicsagent.tasks.task import Task


def test_folds_cover_every_row_once_stratified_and_grouped():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.choice(["a", "b"], 100, p=[0.8, 0.2]), "g": rng.integers(0, 20, 100)})
    folds, method = fold_indices(df, target="y", task_type="binary", k=5, seed=0)
    assert "stratified" in method and len(folds) == 5
    assert sorted(np.concatenate(folds).tolist()) == list(range(100))
    share = [(df["y"].iloc[f] == "b").mean() for f in folds]
    assert max(share) - min(share) < 0.15
    folds, method = fold_indices(df, target="y", task_type="binary", group="g", k=5, seed=0)
    assert "grouped by 'g'" in method
    for i, f in enumerate(folds):  # no group on both sides of a fold
        rest = np.setdiff1d(np.arange(100), f)
        assert not set(df["g"].iloc[f]) & set(df["g"].iloc[rest]), i


def _task() -> Task:
    return Task(name="t", train_path="train.csv", target="y", task_type="binary", classes=[0, 1],
                metric="auroc", columns=[], n_train=10)


def test_bootstrap_interval_is_seeded_holds_the_estimate_and_narrows_with_rows():
    rng = np.random.default_rng(1)

    def data(n):
        y = rng.integers(0, 2, n)
        p = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.25, n), 0, 1)
        return pd.Series(y), pd.DataFrame({"prediction": (p > 0.5).astype(int), "probability_0": 1 - p,
                                           "probability_1": p})

    y, pred = data(120)
    a = bootstrap_interval(_task(), y, pred, seed=0, resamples=300)
    assert a == bootstrap_interval(_task(), y, pred, seed=0, resamples=300)
    assert a != bootstrap_interval(_task(), y, pred, seed=1, resamples=300)
    from sklearn.metrics import roc_auc_score

    assert a[0] < roc_auc_score(y, pred["probability_1"]) < a[1]
    y2, pred2 = data(2000)
    b = bootstrap_interval(_task(), y2, pred2, seed=0, resamples=300)
    assert b[1] - b[0] < (a[1] - a[0]) / 2
