"""Protein tables, mutation parsing, the mutations / protein_properties blocks and the group ridge."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.stats import spearmanr

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.models.base import quiet
from omicsagent.ml.pipeline import IMPORTANCES_FILE, TrainedModel, build_featurizer, build_model
from omicsagent.ml.protein import (
    AMINO_ACIDS,
    BLOSUM62,
    SCALES,
    Mutation,
    MutationsBlock,
    consensus,
    diff_mutations,
    parse_mutant,
)
from omicsagent.testing_protein import variant_frame


@pytest.fixture(scope="module")
def dms() -> tuple[pd.DataFrame, pd.DataFrame]:
    return variant_frame(700, seed=0), variant_frame(300, seed=1)


def test_blosum62_is_the_published_symmetric_matrix():
    assert all(BLOSUM62[(a, b)] == BLOSUM62[(b, a)] for a in AMINO_ACIDS for b in AMINO_ACIDS)
    diagonal = {a: BLOSUM62[(a, a)] for a in AMINO_ACIDS}
    assert diagonal == {
        "A": 4,
        "R": 5,
        "N": 6,
        "D": 6,
        "C": 9,
        "Q": 5,
        "E": 5,
        "G": 6,
        "H": 8,
        "I": 4,
        "L": 4,
        "K": 5,
        "M": 5,
        "F": 6,
        "P": 7,
        "S": 4,
        "T": 5,
        "W": 11,
        "Y": 7,
        "V": 4,
    }
    assert (BLOSUM62[("W", "C")], BLOSUM62[("I", "V")], BLOSUM62[("D", "E")], BLOSUM62[("F", "Y")]) == (
        -2,
        3,
        2,
        3,
    )
    assert BLOSUM62[("A", "*")] == -4 and BLOSUM62[("*", "*")] == 1
    assert all(set(table) == set(AMINO_ACIDS) for table in SCALES.values())


def test_parse_mutant_notation():
    assert parse_mutant("H24S") == [Mutation("H", 24, "S")]
    assert parse_mutant("h24s:A42G") == [Mutation("H", 24, "S"), Mutation("A", 42, "G")]
    assert parse_mutant("p.W8*") == [Mutation("W", 8, "*")]
    assert parse_mutant("WT") == [] and parse_mutant(float("nan")) == []
    assert parse_mutant("H24") is None and parse_mutant("P12345") is None and parse_mutant("H0S") is None


def test_consensus_and_diff():
    ref = consensus(["MKTA", "MKTA", "MRTA", "MKTW"])
    assert ref == "MKTA"
    assert diff_mutations("MRTW", ref) == [Mutation("K", 2, "R"), Mutation("A", 4, "W")]
    assert diff_mutations("MKT", ref) is None


def test_mutations_block_is_additive_over_mutations_and_reads_both_sources(dms):
    train, _ = dms
    block = MutationsBlock(column="mutant", sequence_column="mutated_sequence")
    block.check()
    block.fit(train)
    # the wild type is recovered from the variants: reverting each variant's mutations gives one sequence
    first = train.iloc[0]
    wt = list(first["mutated_sequence"])
    for m in parse_mutant(first["mutant"]):
        wt[m.position - 1] = m.wt
    assert block._reference == "".join(wt)
    rows = pd.DataFrame({"mutant": ["A10G", "L20W", "A10G:L20W"], "mutated_sequence": ["", "", ""]})
    X = block.transform(rows)
    groups = block.column_groups()
    for name in ("sites", "site_properties", "site_residues", "substitutions"):
        cols = groups[name]
        part = X[:, cols].toarray()
        assert np.allclose(part[0] + part[1], part[2]), name
    raw = block._features(rows)[0]
    assert np.allclose(raw[0] + raw[1], raw[2])  # descriptors before standardisation add up too
    assert X.shape[1] == len(block.feature_names())
    # without a mutant column, the same sites come from comparing sequences with the training consensus
    by_seq = MutationsBlock(sequence_column="mutated_sequence")
    by_seq.fit(train)
    assert by_seq._reference == block._reference
    singles = train[~train["mutant"].str.contains(":")].head(50)
    a = block.transform(singles)[:, groups["sites"]].toarray()
    b = by_seq.transform(singles)[:, by_seq.column_groups()["sites"]].toarray()
    assert np.array_equal(a, b)


def test_unreadable_mutants_are_flagged_not_fatal(dms):
    train, _ = dms
    block = MutationsBlock(column="mutant")
    block.fit(train)
    X = block.transform(pd.DataFrame({"mutant": ["garbage", "A999G"]}))
    names = block.feature_names()
    dense = block._features(pd.DataFrame({"mutant": ["garbage", "A999G"]}))[0]
    assert dense[0, names.index("mutant:unreadable")] == 1
    assert X[1, block.column_groups()["sites"]].sum() == 0  # a site never seen in training has no site column


def test_block_options_are_checked():
    with pytest.raises(InputError, match="column"):
        build_featurizer({"blocks": [{"kind": "mutations"}]})
    with pytest.raises(InputError, match="window"):
        build_featurizer({"blocks": [{"kind": "mutations", "column": "m", "window": 99}]})
    f = build_featurizer({"blocks": [{"kind": "mutations", "sequence_column": "s"}]})
    with pytest.raises(InputError, match="different lengths"):
        f.fit_transform(pd.DataFrame({"s": ["MKTA", "MKT"]}))


def test_protein_properties_block():
    f = build_featurizer({"blocks": [{"kind": "protein_properties", "column": "p"}]})
    X = f.fit_transform(pd.DataFrame({"p": ["KKKK", "DDEE", "", None]}))
    names = X.flat_names
    assert X.flat.shape == (4, len(names))
    assert X.flat[0, names.index("p:net_charge")] == 4 and X.flat[1, names.index("p:net_charge")] == -4
    assert X.flat[0, names.index("p:frac_K")] == 1
    assert np.isfinite(X.flat).all() and X.flat[2].sum() == 0


def test_group_ridge_matches_ridge_and_drops_a_noise_group():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    n = 400
    signal = rng.normal(size=(n, 5))
    noise = rng.normal(size=(n, 30))
    y = signal @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + rng.normal(scale=0.3, size=n)
    X = FeatureSet(flat=np.hstack([signal, noise]).astype(np.float32),
                   column_groups={"signal": np.arange(5), "noise": np.arange(5, 35)})
    fixed = build_model(
        {"kind": "group_ridge", "strengths": {"signal": 2.0, "noise": 0.5}}, task_type="regression"
    )
    fixed.fit(X, y, log=quiet)
    scale = np.r_[np.full(5, 2.0), np.full(30, 0.5)]
    ref = Ridge(alpha=1.0).fit(X.flat.astype(float) * scale, y)
    assert np.allclose(fixed.predict(X), ref.predict(X.flat.astype(float) * scale), atol=1e-3)
    auto = build_model({"kind": "group_ridge"}, task_type="regression")
    auto.fit(X, y, log=quiet)
    assert auto.chosen_["noise"] < auto.chosen_["signal"]
    with pytest.raises(InputError, match="classification"):
        build_model({"kind": "group_ridge"}, task_type="binary")
    with pytest.raises(InputError, match="unknown group"):
        build_model({"kind": "group_ridge", "strengths": {"nope": 1.0}}, task_type="regression").fit(
            X, y, log=quiet
        )


def test_rank_target_transform_is_monotone_and_on_the_target_scale():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 1))
    y = np.where(x[:, 0] > 0, 1.0, 0.0) + 0.1 * x[:, 0]  # bimodal
    X = FeatureSet(flat=x.astype(np.float32))
    m = build_model({"kind": "linear", "alpha": 1.0, "target_transform": "rank"}, task_type="regression")
    m.fit(X, y, log=quiet)
    grid = FeatureSet(flat=np.linspace(-3, 3, 50)[:, None].astype(np.float32))
    pred = m.predict(grid)
    assert np.all(np.diff(pred) >= 0) and y.min() <= pred.min() and pred.max() <= y.max()
    with pytest.raises(InputError, match="regression"):
        build_model({"kind": "lgbm", "target_transform": "rank"}, task_type="binary")
    with pytest.raises(InputError, match="target_transform"):
        build_model({"kind": "lgbm", "target_transform": "log"}, task_type="regression")


def test_variant_recipes_beat_sequence_text_and_round_trip(dms, tmp_path):
    train, test = dms
    rep = {"blocks": [{"kind": "mutations", "column": "mutant", "sequence_column": "mutated_sequence"}]}
    spec = {
        "kind": "ensemble",
        "target_transform": "rank",
        "members": [{"kind": "group_ridge"}, {"kind": "lgbm"}],
    }
    f = build_featurizer(rep)
    model = build_model(spec, task_type="regression")
    model.fit(f.fit_transform(train), train["fitness"].to_numpy(), log=quiet)
    trained = TrainedModel(
        featurizer=f,
        model=model,
        task_type="regression",
        target="fitness",
        representation=rep,
        model_spec=spec,
    )
    pred = trained.predict_frame(test)["prediction"]
    rho = spearmanr(pred, test["fitness"]).statistic
    text = build_featurizer({"blocks": [{"kind": "kmer", "column": "mutated_sequence", "alphabet": "protein",
                                         "k": [1, 2, 3]}]})
    base = build_model({"kind": "linear", "alpha": "auto"}, task_type="regression")
    base.fit(text.fit_transform(train), train["fitness"].to_numpy(), log=quiet)
    rho_text = spearmanr(base.predict(text.transform(test)), test["fitness"]).statistic
    assert rho > 0.75 and rho > rho_text + 0.2, (rho, rho_text)
    # the mutation columns are named, so the ensemble's importances (group ridge + LightGBM) are readable
    importances = trained.feature_importances()
    names = set(f.flat_feature_names())
    assert len(names) == f.fit_transform(train).flat.shape[1] and importances and set(importances) <= names
    trained.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / IMPORTANCES_FILE).read_text()) == importances
    again = TrainedModel.load(tmp_path / "m").predict_frame(test)["prediction"]
    assert np.allclose(pred, again)


def test_sparse_group_ridge_predicts_like_dense():
    rng = np.random.default_rng(2)
    dense = (rng.random((200, 40)) < 0.1).astype(np.float32)
    y = dense @ rng.normal(size=40) + rng.normal(scale=0.1, size=200)
    spec = {"kind": "group_ridge", "strengths": {"a": 1.0, "b": 3.0}}
    groups = {"a": np.arange(20), "b": np.arange(20, 40)}
    p1 = build_model(spec, task_type="regression").fit(
        FeatureSet(flat=dense, column_groups=groups), y, log=quiet
    )
    p2 = build_model(spec, task_type="regression").fit(
        FeatureSet(flat=sparse.csr_matrix(dense), column_groups=groups), y, log=quiet)
    X = FeatureSet(flat=dense)
    assert np.allclose(p1.predict(X), p2.predict(FeatureSet(flat=sparse.csr_matrix(dense))), atol=1e-4)
