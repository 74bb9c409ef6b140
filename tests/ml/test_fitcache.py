"""The run's cache of fitted models (ml.fitcache): inside a run, a fit with the same options, seed, features
and labels is read back instead of fitted again (a blend's members, a bag's first seed), and gives the same
predictions; anything else fits anew; outside a run nothing is read or written. The tree search's timing
of such moves is tested in tests/agent/test_search_tree.py, a real run's reuse in
tests/agent/test_fit_cache_e2e.py."""
from __future__ import annotations

import os

import numpy as np
import pytest

from omicsagent.agent import harness
from omicsagent.ml import fitcache
from omicsagent.ml.pipeline import build_featurizer, build_model
from omicsagent.sandbox import Workspace

LIN_REP = {"blocks": [{"kind": "tabular", "columns": ["x1", "x2"]}]}
GBM_REP = {"blocks": [{"kind": "tabular", "columns": ["x2", "colour"]}]}
UNION = {"blocks": LIN_REP["blocks"] + GBM_REP["blocks"]}
LIN, GBM = {"kind": "linear"}, {"kind": "lgbm", "max_rounds": 40}


@pytest.fixture
def in_run(tmp_path, monkeypatch):
    """A run's fit cache, named as the loop names it for a sandboxed script."""
    folder = tmp_path / "fit_cache"
    monkeypatch.setenv(fitcache.FIT_CACHE_ENV, str(folder))
    monkeypatch.delenv(fitcache.FIT_CACHE_SHARED_ENV, raising=False)
    return folder


def fitted(rep, spec, df, *, seed=0, task_type="binary", target="class"):
    lines: list[str] = []
    f = build_featurizer(rep)
    X = f.fit_transform(df)
    model = build_model(spec, task_type=task_type, seed=seed).fit(X, df[target].to_numpy(), log=lines.append)
    return model, f.transform(df), lines


def reused(lines: list[str]) -> int:
    return sum("reused the identical fit" in line for line in lines)


def test_an_identical_fit_is_read_back_and_anything_else_fits_again(in_run, tabular_df):
    first, X, lines = fitted(LIN_REP, GBM, tabular_df)
    assert reused(lines) == 0 and len(list(in_run.glob("*.joblib"))) == 1
    again, _, lines = fitted(LIN_REP, GBM, tabular_df)
    assert reused(lines) == 1
    assert np.array_equal(again.predict_proba(X), first.predict_proba(X))
    # another seed, other options, other features, other labels: each a new fit, stored beside the first
    flipped = tabular_df.assign(**{"class": tabular_df["class"].iloc[::-1].to_numpy()})
    for rep, spec, seed, df in [(LIN_REP, GBM, 1, tabular_df), (LIN_REP, {**GBM, "max_rounds": 41}, 0,
                                 tabular_df), (GBM_REP, GBM, 0, tabular_df), (LIN_REP, GBM, 0, flipped)]:
        _, _, lines = fitted(rep, spec, df, seed=seed)
        assert reused(lines) == 0
    assert len(list(in_run.glob("*.joblib"))) == 5


def test_a_blend_reads_back_its_members_and_predicts_as_if_fitted_anew(in_run, tabular_df, monkeypatch):
    parts = []
    for rep, spec in [(LIN_REP, LIN), (GBM_REP, GBM)]:  # the two nodes, each fitted alone
        m, X, _ = fitted(rep, spec, tabular_df)
        parts.append(m.predict_proba(X))
    blend_spec = {"kind": "ensemble", "members": [LIN, GBM], "member_blocks": [[0], [1]]}
    blend, X, lines = fitted(UNION, blend_spec, tabular_df)
    assert reused(lines) == 2  # both members read back, the ensemble itself fitted (new)
    pred = blend.predict_proba(X)
    assert np.allclose(pred, (parts[0] + parts[1]) / 2)
    monkeypatch.delenv(fitcache.FIT_CACHE_ENV)  # the same blend fitted by hand, outside a run
    scratch, X, lines = fitted(UNION, blend_spec, tabular_df)
    assert reused(lines) == 0
    assert np.allclose(scratch.predict_proba(X), pred)


def test_a_bag_reads_back_its_first_seed_and_fits_the_others(in_run, tabular_df):
    fitted(LIN_REP, GBM, tabular_df)
    bag, _, lines = fitted(LIN_REP, {"kind": "ensemble", "members": [GBM] * 3}, tabular_df)
    assert reused(lines) == 1
    assert [m.seed for m in bag._models] == [0, 1, 2]


def test_a_blend_of_a_bag_reads_back_every_seed_s_fit(in_run, tabular_df):
    bag_spec = {"kind": "ensemble", "members": [GBM] * 3}
    bag, X, _ = fitted(GBM_REP, bag_spec, tabular_df)
    lin, _, _ = fitted(LIN_REP, LIN, tabular_df)
    spec = {"kind": "ensemble", "members": [GBM] * 3 + [LIN], "member_blocks": [[1]] * 3 + [[0]],
            "weights": [1 / 6] * 3 + [0.5]}
    blend, XU, lines = fitted(UNION, spec, tabular_df)
    assert reused(lines) == 4
    X_lin = build_featurizer(LIN_REP).fit_transform(tabular_df)
    expect = (bag.predict_proba(X) + lin.predict_proba(X_lin)) / 2
    assert np.allclose(blend.predict_proba(XU), expect)


def test_a_member_reads_what_its_own_representation_gives(tabular_df, motif_df):
    """A member on some blocks of a union gets the features of its own representation alone (so its fit is
    the same fit): the seq part of a block it does not read is dropped, not passed along."""
    df = motif_df.assign(x1=np.arange(len(motif_df)) % 7)
    tab = {"kind": "tabular", "columns": ["x1"]}
    onehot = {"kind": "onehot", "column": "sequence"}
    union = build_featurizer({"blocks": [tab, onehot]}).fit_transform(df)
    alone = build_featurizer({"blocks": [tab]}).fit_transform(df)
    assert union.seq is not None and union.of_blocks([0]).seq is None
    assert fitcache.feature_digest(union.of_blocks([0])) == fitcache.feature_digest(alone)
    assert fitcache.feature_digest(union.of_blocks([1])) == fitcache.feature_digest(
        build_featurizer({"blocks": [onehot]}).fit_transform(df))
    assert fitcache.feature_digest(union) != fitcache.feature_digest(alone)


def test_outside_a_run_nothing_is_read_or_written(tmp_path, tabular_df, monkeypatch):
    monkeypatch.delenv(fitcache.FIT_CACHE_ENV, raising=False)
    monkeypatch.delenv(fitcache.FIT_CACHE_SHARED_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    _, _, lines = fitted(LIN_REP, GBM, tabular_df)
    _, _, lines2 = fitted(LIN_REP, GBM, tabular_df)
    assert reused(lines + lines2) == 0 and not list(tmp_path.rglob("*.joblib"))


def test_a_shared_cache_is_read_and_never_written(tmp_path, tabular_df, monkeypatch):
    """A throwaway workspace (a cross-validation fold) reads the run's cache and writes only its own."""
    run, own = tmp_path / "run", tmp_path / "own"
    monkeypatch.setenv(fitcache.FIT_CACHE_ENV, str(run))
    fitted(LIN_REP, GBM, tabular_df)
    monkeypatch.setenv(fitcache.FIT_CACHE_SHARED_ENV, str(run))
    monkeypatch.setenv(fitcache.FIT_CACHE_ENV, str(own))
    before = sorted(os.listdir(run))
    _, _, lines = fitted(LIN_REP, GBM, tabular_df)
    assert reused(lines) == 1
    fitted(LIN_REP, GBM, tabular_df, seed=3)
    assert sorted(os.listdir(run)) == before and len(list(own.glob("*.joblib"))) == 1


def test_a_fold_s_fits_move_into_the_run_s_cache_and_nothing_else_does(tmp_path):
    ws = Workspace.create(tmp_path / "fold")
    src = ws.scratch / harness.FIT_CACHE
    src.mkdir(parents=True)
    key = "ab" * 20
    (src / f"{key}.joblib").write_bytes(b"fit")
    (src / "notes.txt").write_text("not an entry")
    (tmp_path / "elsewhere.joblib").write_bytes(b"outside")
    (src / f"{'cd' * 20}.joblib").symlink_to(tmp_path / "elsewhere.joblib")
    run_ws = tmp_path / "run_ws"
    assert harness.keep_fits(ws, run_ws) == 1
    dst = run_ws / "scratch" / harness.FIT_CACHE
    assert sorted(p.name for p in dst.iterdir()) == [f"{key}.joblib"]
    assert (dst / f"{key}.joblib").read_bytes() == b"fit"
    assert harness.keep_fits(ws, run_ws) == 0
