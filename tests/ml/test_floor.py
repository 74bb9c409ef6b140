"""The character n-gram floor: the block itself, and its place near the top of every plan that has a
string column (SMILES, DNA, free text), planned from the profile the expert brain builds."""
from __future__ import annotations

import pandas as pd
import pytest

from omicsagent.brains.expert import recipes
from omicsagent.errors import InputError
from omicsagent.ml.models.base import build_model
from omicsagent.ml.pipeline import build_featurizer
from omicsagent.tasks import load_task
from omicsagent.testing import make_motif_task, make_tabular_task, make_text_task


def plan_of(folder) -> tuple[list[recipes.Candidate], object]:
    task = load_task(folder)
    return recipes.plan(recipes.profile_of(task, task.table("train"), time_budget_s=900)), task


def smiles_task(folder):
    folder.mkdir(parents=True)
    mols = ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC", "O=C=O", "CC(C)O", "CCCCCC", "c1ccncc1"] * 20
    pd.DataFrame({"smiles": mols, "label": [i % 2 for i in range(len(mols))]}).to_csv(folder / "train.csv",
                                                                                   index=False)
    (folder / "task.toml").write_text('target = "label"\n')
    return folder


@pytest.mark.parametrize("make, column", [
    (smiles_task, "smiles"),
    (lambda f: make_motif_task(f, n=200, n_test=0), "sequence"),
    (lambda f: make_text_task(f, n=300, n_test=0), "note"),
])
def test_the_floor_is_among_the_first_two_candidates(tmp_path, make, column):
    plan, task = plan_of(make(tmp_path / "d"))
    names = [c.name for c in plan]
    assert recipes.FLOOR in names[:2], names
    floor = plan[names.index(recipes.FLOOR)]
    blocks = floor.representation["blocks"]
    assert {"kind": "char_ngram", "column": column, "ngram": [1, 5]} in blocks
    assert (
        floor.model["kind"] == "linear" and floor.model["C"] == "auto" and floor.model["standardize"] is False
    )
    # the floor is a real, buildable candidate on this table and scores the training rows
    train = task.table("train")
    X = build_featurizer(floor.representation).fit_transform(train)
    model = build_model(floor.model, task_type=task.task_type, seed=0)
    model.fit(X, train[task.target].to_numpy(), time_limit_s=30)
    assert X.flat.shape[0] == len(train) and X.flat.shape[1] > 10


def test_no_string_column_no_floor(tmp_path):
    plan, _ = plan_of(make_tabular_task(tmp_path / "t", n_test=0))
    assert recipes.FLOOR not in [c.name for c in plan]


def test_the_text_floor_reads_the_text_and_the_numbers(tmp_path):
    plan, _ = plan_of(make_text_task(tmp_path / "d", n=300, n_test=0))
    assert plan[0].name == recipes.FLOOR  # the tabular candidates cannot read the text: the floor first
    kinds = [b["kind"] for b in plan[0].representation["blocks"]]
    assert kinds == ["char_ngram", "tabular"]


def test_char_ngram_block_features_and_errors():
    df = pd.DataFrame({"s": ["CCO", "CCN", None, "c1ccccc1"]})
    f = build_featurizer({"blocks": [{"kind": "char_ngram", "column": "s", "ngram": [1, 2], "min_df": 1}]})
    X = f.fit_transform(df)
    assert X.flat.shape[0] == 4 and X.flat[2].nnz == 0  # a missing value is an empty string
    names = f.flat_feature_names()
    assert "s:'CC'" in names and "s:'c1'" in names and len(names) == X.flat.shape[1]
    assert f.transform(pd.DataFrame({"s": ["CCO"]})).flat.shape == (1, X.flat.shape[1])
    with pytest.raises(InputError, match="ngram"):
        build_featurizer({"blocks": [{"kind": "char_ngram", "column": "s", "ngram": [3, 1]}]})
    with pytest.raises(InputError, match="no option"):
        build_featurizer({"blocks": [{"kind": "char_ngram", "column": "s", "n": 3}]})
