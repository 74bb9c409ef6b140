from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omicsagent.expression.tl.regress import (
    FALLBACK_ALPHA,
    ResidualizedRegressor,
    SparseLMM,
    detect_batch_effect,
    kfold_splits,
    standardize,
    tune_penalty,
)
from omicsagent.expression.tl.select import select_one_step, select_two_step


def test_kfold_follows_the_seeded_shuffle():
    splits = kfold_splits(12, 5, 42)
    order = np.arange(12)
    np.random.seed(42)
    np.random.shuffle(order)
    assert [s[1].tolist() for s in splits] == [order[i * 2 : (i + 1) * 2].tolist() for i in range(5)]
    for train, test in splits:  # the last n mod 5 shuffled positions are always in training
        assert set(order[10:]) <= set(train) and not set(train) & set(test)


def test_standardize_uses_train_stats_and_guards_zero_std():
    train = np.array([[1.0, 5.0], [3.0, 5.0]])
    tr, te = standardize(train, np.array([[5.0, 6.0]]))
    assert tr.tolist() == [[-1.0, 0.0], [1.0, 0.0]] and te.tolist() == [[3.0, 1.0]]


def _data(n=60, p=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (X[:, 0] + X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(float)
    return X, y, [f"G{i}" for i in range(p)]


def test_residualization_recovers_the_condition_effect():
    rng = np.random.default_rng(1)
    X, Z = rng.normal(size=(200, 5)), rng.normal(size=200)
    y = 2.0 * Z + X[:, 0] + 0.01 * rng.normal(size=200)
    from sklearn.linear_model import Lasso

    model = ResidualizedRegressor(Lasso(alpha=1e-3)).fit(X, y, Z)
    coefs = model.coefficients()
    assert coefs[0] == pytest.approx(2.0, abs=0.1) and coefs[1] == pytest.approx(1.0, abs=0.1)
    assert np.corrcoef(model.predict(X, Z), y)[0, 1] > 0.99


def test_batch_effect_needs_many_samples():
    rng = np.random.default_rng(2)
    small = rng.normal(size=(150, 30))
    small[:75] += 10  # strong two-cluster structure, but n <= 200 can never fire
    assert detect_batch_effect(small) is False
    big = rng.normal(size=(400, 30))
    big[:200] += 10
    assert detect_batch_effect(big) is True
    assert detect_batch_effect(rng.normal(size=(400, 30))) is False


def test_lmm_finds_the_planted_genes():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 30))
    y = 1.5 * X[:, 0] - 1.0 * X[:, 1] + 0.1 * rng.normal(size=120)
    for rotate in (True, False):
        lmm = SparseLMM(0.05, rotate_y=rotate).fit(X, y)
        top = set(np.argsort(-np.abs(lmm.coef_))[:2])
        assert top == {0, 1} and lmm.delta_ > 0


def test_tune_falls_back_without_known_genes():
    X, y, genes = _data()
    tuned = tune_penalty("lasso", X, y, genes, related=[], grid=(1e-3, 1e-2), n_jobs=1)
    assert tuned.penalty == FALLBACK_ALPHA and [r.penalty for r in tuned.grid] == [FALLBACK_ALPHA]
    ref = tune_penalty("lasso", X, y, genes, related=[], grid=(1e-3, 1e-2), reference_compatible=True)
    assert ref.penalty == FALLBACK_ALPHA and len(ref.grid) == 2  # the reference still runs the grid


def test_tune_picks_the_most_precise_penalty():
    X, y, genes = _data()
    grid = (1e-4, 0.2, 0.1, 0.5)
    tuned = tune_penalty("lasso", X, y, genes, related=["G0", "G1"], grid=grid, n_jobs=2)
    # 0.2 keeps only G0/G1 (precision 100); 1e-4 and 0.1 keep extra genes; 0.5 keeps none
    assert tuned.penalty == 0.2 and tuned.selection["precision"] == 100.0
    ref = tune_penalty("lasso", X, y, genes, related=["G0", "G1"], grid=grid, reference_compatible=True)
    # the reference reports the best prediction over the grid, from another penalty here
    assert ref.penalty == 0.2 and ref.prediction["f1"] > tuned.prediction["f1"]
    assert ref.prediction == max((r.prediction for r in ref.grid), key=lambda p: p["f1"])


def _write_trait(root, trait, cohorts):
    d = root / trait
    d.mkdir(parents=True)
    info = {}
    for name, (n, cols, usable, extra) in cohorts.items():
        info[name] = {"is_usable": usable, "sample_size": n, "has_age": "Age" in extra, "has_gender": False}
        pd.DataFrame(np.zeros((2, len(cols) + 1)), columns=[trait, *cols]).to_csv(d / f"{name}.csv")
    (d / "cohort_info.json").write_text(json.dumps(info))
    return d


def test_one_step_selection_and_ties():
    info = {
        "B": {"is_usable": True, "sample_size": 50, "has_age": False},
        "A": {"is_usable": True, "sample_size": 50, "has_age": True},
        "C": {"is_usable": False, "sample_size": 90, "has_age": True},
    }
    assert select_one_step(info) == "A"  # tie broken by name
    assert select_one_step(info, reference_compatible=True) == "B"  # tie broken by file order
    assert select_one_step(info, "Age") == "A" and select_one_step({}, None) is None


def test_two_step_instrument_rules(tmp_path):
    t = _write_trait(
        tmp_path, "T", {"t1": (40, ["G1", "G2", "G3"], True, ["Age"]), "t2": (90, ["G9"], True, [])}
    )
    c = _write_trait(tmp_path, "C", {"c1": (30, ["G1", "G2"], True, [])})
    related = {"C": ["G2", "G1", "G9x"], "T": ["G2"]}
    genotex = select_two_step(t, c, trait="T", condition="C", related=related)
    # t2 x c1 has the bigger product but no shared condition gene, so t1 x c1 is used
    assert (genotex.trait_cohort, genotex.condition_cohort, genotex.instruments) == ("t1", "c1", ["G2", "G1"])
    genomas = select_two_step(t, c, trait="T", condition="C", related=related, rule="genomas")
    assert genomas.instruments == ["G1"]
    assert select_two_step(t, c, trait="T", condition="C", related={"C": ["ZZ"]}) is None
