from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from omicsagent.errors import InputError
from omicsagent.ml.models.base import quiet
from omicsagent.ml.pipeline import TrainedModel, build_featurizer, build_model

from .conftest import MOTIF, planted_motif_frame

KMER = {"blocks": [{"kind": "kmer", "column": "sequence", "k": [3, 4, 5], "both_strands": True}]}
ONEHOT = {"blocks": [{"kind": "onehot", "column": "sequence"}]}


def fit(rep: dict, spec: dict, df: pd.DataFrame, target: str, task_type: str, **kw) -> TrainedModel:
    f = build_featurizer(rep)
    X = f.fit_transform(df)
    m = build_model(spec, task_type=task_type, seed=0)
    m.fit(X, df[target].to_numpy(), log=quiet, **kw)
    return TrainedModel(featurizer=f, model=m, task_type=task_type, target=target, representation=rep,
                        model_spec=spec)


def auroc(trained: TrainedModel, df: pd.DataFrame) -> float:
    return roc_auc_score(df["label"], trained.predict_frame(df)["probability_1"])


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return planted_motif_frame(n=200, seed=7)


@pytest.mark.parametrize("spec", [{"kind": "linear", "C": 1.0}, {"kind": "lgbm"}])
def test_kmer_models_learn_a_planted_motif(motif_df, holdout, spec):
    assert auroc(fit(KMER, spec, motif_df, "label", "binary"), holdout) > 0.9


@pytest.mark.parametrize("spec", [{"kind": "linear", "C": 1.0}, {"kind": "lgbm"},
                                  {"kind": "ensemble", "members": [{"kind": "linear"}, {"kind": "lgbm"}]}])
def test_feature_importances_name_the_planted_motif_and_are_saved_as_plain_data(motif_df, tmp_path, spec):
    trained = fit(KMER, spec, motif_df, "label", "binary")
    imp = trained.feature_importances()
    names, values = list(imp), np.abs(list(imp.values()))
    assert (
        all(n.startswith("sequence:") for n in names)
        and np.all(values[:-1] >= values[1:])
        and values.min() > 0
    )
    top = [n.split(":", 1)[1] for n in names[:2]]
    assert all(len(k) >= 4 and k in MOTIF for k in top), top  # the motif is its own reverse complement
    trained.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "feature_importances.json").read_text()) == imp
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["importance"] == {
        "file": "feature_importances.json",
        "meaning": trained.model.importance_kind,
    }
    assert TrainedModel.load(tmp_path / "m").feature_importances() == imp


def test_feature_importances_of_tabular_columns_and_of_a_network(tabular_df, motif_df, tmp_path):
    rep = {"blocks": [{"kind": "tabular", "columns": ["x1", "x2", "colour"]}]}
    imp = fit(rep, {"kind": "linear", "C": 1.0}, tabular_df, "class", "binary").feature_importances()
    assert set(imp) <= {
        "x1",
        "x2",
        "x2:missing",
        "colour=red",
        "colour=green",
        "colour=blue",
        "colour=<other>",
    }
    assert next(iter(imp)) in ("x1", "colour=red")  # the target is x1 + 1.5 * (colour == red)
    assert imp["x1"] > 0  # positive: towards the second class, "M"

    spec = {"kind": "cnn1d", "channels": 4, "n_blocks": 1, "epochs": 1}
    cnn = fit(ONEHOT, spec, motif_df.head(60), "label", "binary")
    assert cnn.feature_importances() == {}
    cnn.save(tmp_path / "cnn")
    assert not (tmp_path / "cnn" / "feature_importances.json").exists()
    assert "importance" not in json.loads((tmp_path / "cnn" / "model.json").read_text())


def test_rc_cnn_learns_a_planted_motif_and_round_trips(motif_df, holdout, tmp_path):
    spec = {"kind": "cnn1d", "channels": 16, "stem_kernel": 9, "n_blocks": 1, "rc": True, "epochs": 12,
            "patience": 12, "lr": 5e-3}
    trained = fit(ONEHOT, spec, motif_df, "label", "binary")
    assert auroc(trained, holdout) > 0.9
    before = trained.predict_frame(holdout)
    trained.save(tmp_path / "m")
    after = TrainedModel.load(tmp_path / "m").predict_frame(holdout)
    pd.testing.assert_frame_equal(before, after)
    # strand symmetry: the reverse complement of each sequence gets the same score
    from omicsagent.ml.seqblocks import reverse_complement

    rc = holdout.assign(sequence=holdout["sequence"].map(reverse_complement))
    assert np.allclose(trained.predict_frame(rc)["probability_1"], before["probability_1"], atol=1e-5)


def test_string_labels_probability_columns_and_round_trip(tabular_df, tmp_path):
    rep = {"blocks": [{"kind": "tabular", "columns": ["x1", "x2", "colour"]}]}
    spec = {"kind": "ensemble", "members": [{"kind": "linear"}, {"kind": "lgbm"}]}
    trained = fit(rep, spec, tabular_df, "class", "binary")
    pred = trained.predict_frame(tabular_df)
    assert list(pred.columns) == ["prediction", "probability_B", "probability_M"]
    assert set(pred["prediction"]) <= {"B", "M"} and len(pred) == len(tabular_df)
    assert np.allclose(pred[["probability_B", "probability_M"]].sum(axis=1), 1.0)
    assert (pred["prediction"] == tabular_df["class"]).mean() > 0.85
    path = trained.save(tmp_path / "model.joblib")
    pd.testing.assert_frame_equal(TrainedModel.load(path).predict_frame(tabular_df), pred)
    with pytest.raises(InputError, match="'colour'"):
        trained.predict_frame(tabular_df.drop(columns=["colour"]))


@pytest.mark.parametrize("spec", [{"kind": "linear", "alpha": 1.0}, {"kind": "lgbm"},
                                  {"kind": "mlp", "hidden": 32, "epochs": 40, "lr": 5e-3}])
def test_regression(tabular_df, spec):
    rep = {"blocks": [{"kind": "tabular", "columns": ["x1", "x2"]}]}
    trained = fit(rep, spec, tabular_df, "amount", "regression")
    pred = trained.predict_frame(tabular_df)
    assert list(pred.columns) == ["prediction"]
    assert np.corrcoef(pred["prediction"], tabular_df["amount"])[0, 1] > 0.8


def test_multiclass_with_few_rows(tabular_df, tmp_path):
    df = tabular_df.assign(grade=pd.cut(tabular_df["x1"], [-9, -0.5, 0.5, 9], labels=[0, 1, 2]).astype(int))
    rep = {"blocks": [{"kind": "tabular", "columns": ["x1", "colour"]}]}
    for spec in (
        {"kind": "lgbm", "class_weight": "balanced"},
        {"kind": "linear", "class_weight": "balanced"},
    ):
        trained = fit(rep, spec, df.head(60), "grade", "multiclass")
        pred = trained.predict_frame(df)
        assert [c for c in pred.columns if c.startswith("probability_")] == ["probability_0", "probability_1",
                                                                             "probability_2"]
        assert (pred["prediction"] == df["grade"]).mean() > 0.7


def test_cnn2d_on_pairing_matrix_and_time_limit():
    rng = np.random.default_rng(0)
    mir = "TGAGGTAGTAGGTTGTATAGTT"
    from omicsagent.ml.seqblocks import reverse_complement

    rows = []
    for i in range(300):
        t = list(rng.choice(list("ACGT"), size=40))
        if i % 2:
            p = rng.integers(0, 32)
            t[p:p + 7] = list(reverse_complement(mir[1:8]))
        rows.append({"mirna": mir, "target": "".join(t), "label": i % 2})
    df = pd.DataFrame(rows)
    rep = {"blocks": [{"kind": "pair_matrix", "mirna_column": "mirna", "target_column": "target"}]}
    lines: list[str] = []
    f = build_featurizer(rep)
    X = f.fit_transform(df)
    m = build_model({"kind": "cnn2d", "channels": 8, "n_blocks": 2, "epochs": 200, "patience": 200},
                    task_type="binary", seed=0)
    m.fit(X, df["label"].to_numpy(), time_limit_s=3.0, log=lines.append)
    # the limit stops training and keeps a usable model; how much it learned in 3 s depends on machine load
    assert m.fit_seconds_ < 6.0 and any("time limit" in s for s in lines)
    assert m.predict_proba(X).shape == (len(df), 2)
    # without the limit, a few epochs learn the planted seed match
    m = build_model({"kind": "cnn2d", "channels": 8, "n_blocks": 2, "epochs": 15, "patience": 15},
                    task_type="binary", seed=0)
    m.fit(X, df["label"].to_numpy(), time_limit_s=None, log=lines.append)
    assert roc_auc_score(df["label"], m.predict_proba(X)[:, 1]) > 0.8


def test_bad_model_specs_raise_input_error(motif_df):
    with pytest.raises(InputError, match="Unknown model kind"):
        build_model({"kind": "svm"}, task_type="binary")
    with pytest.raises(InputError, match="no option"):
        build_model({"kind": "lgbm", "leaves": 3}, task_type="binary")
    X = build_featurizer(ONEHOT).fit_transform(motif_df)
    with pytest.raises(InputError, match="flat features"):
        build_model({"kind": "linear"}, task_type="binary").fit(X, motif_df["label"].to_numpy(), log=quiet)
    with pytest.raises(InputError, match="exactly 2 classes"):
        build_model({"kind": "linear"}, task_type="binary").fit(
            build_featurizer(KMER).fit_transform(motif_df), np.arange(len(motif_df)) % 3, log=quiet)


def test_auto_linear_strength_and_cnn_side_features_skip_kmers(motif_df, tabular_df):
    lines: list[str] = []
    rep = {"blocks": [{"kind": "tabular", "columns": ["x1", "x2"]}]}
    f = build_featurizer(rep)
    m = build_model({"kind": "linear", "alpha": "auto"}, task_type="regression", seed=0)
    m.fit(f.fit_transform(tabular_df), tabular_df["amount"].to_numpy(), log=lines.append)
    assert m.chosen_ is not None and any("inner-val" in s for s in lines)
    df = motif_df.assign(gc=motif_df["sequence"].str.count("G"))
    rep = {
        "blocks": [
            {"kind": "onehot", "column": "sequence"},
            {"kind": "kmer", "column": "sequence", "k": [3]},
            {"kind": "tabular", "columns": ["gc"]},
        ]
    }
    X = build_featurizer(rep).fit_transform(df)
    assert X.flat.shape[1] == 65 and X.dense_columns.tolist() == [64]
    cnn = build_model({"kind": "cnn1d", "channels": 8, "n_blocks": 1, "epochs": 1, "use_flat": True},
                      task_type="binary", seed=0)
    cnn.fit(X, df["label"].to_numpy(), log=quiet)
    assert cnn._net_args["n_flat"] == 1


def test_a_blend_member_reads_only_its_own_blocks(tabular_df, tmp_path):
    """A blend of a linear model on x1/x2 and LightGBM on a large-scale column: each member predicts exactly
    what it predicts alone (before, the unstandardised linear member read the union and broke the blend)."""
    df = tabular_df.assign(huge=tabular_df["x1"] * 1e7 + 3e9)
    lin_rep = {"blocks": [{"kind": "tabular", "columns": ["x1", "x2"]}]}
    gbm_rep = {"blocks": [{"kind": "tabular", "columns": ["huge", "x2"]}]}
    union = {"blocks": lin_rep["blocks"] + gbm_rep["blocks"]}
    lin, gbm = {"kind": "linear", "alpha": 1.0, "standardize": False}, {"kind": "lgbm"}
    spec = {"kind": "ensemble", "members": [lin, gbm], "member_blocks": [[0], [1]]}
    blend = fit(union, spec, df, "amount", "regression")
    parts = []
    for rep, member in [(lin_rep, lin), (gbm_rep, gbm)]:  # different members get the ensemble's seed
        f = build_featurizer(rep)
        m = build_model(member, task_type="regression", seed=0)
        m.fit(f.fit_transform(df), df["amount"].to_numpy(), log=quiet)
        parts.append(np.asarray(m._output(f.transform(df))).ravel())
    pred = blend.predict_frame(df)["prediction"].to_numpy()
    assert np.allclose(pred, (parts[0] + parts[1]) / 2, rtol=1e-5, atol=1e-6)
    imp = blend.model.feature_importances()
    assert imp is not None and len(imp) == len(blend.featurizer.transform(df).flat_names)
    assert np.isclose(imp.sum(), 1.0)
    path = blend.save(tmp_path / "blend.joblib")
    assert np.allclose(TrainedModel.load(path).predict_frame(df)["prediction"], pred)
    with pytest.raises(InputError, match="member_blocks"):
        build_model({**spec, "member_blocks": [[0]]}, task_type="regression", seed=0)
