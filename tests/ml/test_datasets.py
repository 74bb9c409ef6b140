"""Quick checks on the real datasets (skipped when ../shared/datasets is absent)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.metrics import average_precision_score

from omicsagent.ml.models.base import quiet
from omicsagent.ml.pipeline import build_featurizer, build_model, read_table

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "ml"
pytestmark = pytest.mark.datasets


def need(name: str) -> Path:
    if not (DATA / name / "train.csv").is_file():
        pytest.skip(f"dataset {name} not found under {DATA}")
    return DATA / name


def test_ago2_pair_features_reach_target_auprc():
    root = need("ago2_clash_hejret")
    train, test = read_table(root / "train.csv"), read_table(root / "test.csv")
    rep = {"blocks": [{"kind": "pair_features", "mirna_column": "noncodingRNA", "target_column": "gene"}]}
    f = build_featurizer(rep)
    model = build_model({"kind": "lgbm"}, task_type="binary", seed=0)
    model.fit(f.fit_transform(train), train["target"].to_numpy(), log=quiet)
    proba = model.predict_proba(f.transform(test))[:, 1]
    assert average_precision_score(test["target"], proba) > 0.80


def test_bbbp_malformed_smiles_do_not_crash():
    root = need("bbbp")
    df = read_table(root / "train.csv")
    X = build_featurizer({"blocks": [{"kind": "smiles", "column": "smiles", "descriptors": "none",
                                      "n_bits": 256}]}).fit_transform(df)
    valid = X.flat[:, 0]
    assert X.flat.shape[0] == len(df) and 0 < (valid == 0).sum() < 0.05 * len(df)
