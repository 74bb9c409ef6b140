"""The rank-sum AUROC that every binary and per-label AUROC goes through equals scikit-learn's."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from omicsagent.ml.metrics import auroc, evaluate, get_metric


@pytest.mark.parametrize("n, levels", [(2, 0), (7, 3), (200, 0), (1000, 5), (5000, 50)])
def test_auroc_equals_sklearn_with_and_without_ties(n, levels):
    rng = np.random.default_rng(n)
    for _ in range(20):
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]
        s = rng.normal(size=n) + y
        if levels:  # few distinct scores: many ties, which count half
            s = np.round(s * levels / 4) / levels
        assert auroc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auroc_refuses_what_sklearn_refuses():
    with pytest.raises(ValueError):
        auroc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError):
        auroc([0, 1, 1], [0.1, np.nan, 0.3])


def test_the_metrics_use_it_for_binary_and_multilabel_tasks():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(rng.normal(0.5, 0.2, 300) + 0.2 * y, 0, 1)
    proba = np.column_stack([1 - p, p])
    got = get_metric("auroc").compute(np.where(y == 1, "b", "a"), None, proba, ["a", "b"])
    assert got == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    Y = np.column_stack([y, 1 - y]).astype(float)
    Y[::3, 1] = np.nan
    P = np.column_stack([p, 1 - p])
    want = np.mean([roc_auc_score(y, p), roc_auc_score(1 - y[~np.isnan(Y[:, 1])], 1 - p[~np.isnan(Y[:, 1])])])
    assert evaluate("multilabel", Y, None, P)["mean_auroc"] == pytest.approx(want, abs=1e-12)
