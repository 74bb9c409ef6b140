"""The recipe book, planned from the profile the expert brain itself builds (``recipes.profile_of``) on
generated and real tables: the kind of plan each kind of data gets, buildable candidates, refinements."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.brains.expert import recipes
from omicsagent.brains.expert.recipes import Candidate
from omicsagent.ml.models.base import build_model
from omicsagent.ml.pipeline import build_featurizer
from omicsagent.ml.seqblocks import reverse_complement
from omicsagent.tasks import load_task

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "ml"
RNG = np.random.default_rng(0)


def dna(n: int, length: int) -> list[str]:
    return ["".join(RNG.choice(list("ACGT"), length)) for _ in range(n)]


def tables() -> dict[str, pd.DataFrame]:
    n = 120
    labels = [i % 2 for i in range(n)]
    mirna = [s.replace("T", "U") for s in dna(n, 22)]
    sirna = dna(n, 19)
    return {
        # a miRNA next to a 50-nt site it only partly pairs with
        "mirna": pd.DataFrame({"mirna": mirna, "site": dna(n, 50), "label": labels}),
        # siRNA duplexes: the 19-nt target segment and its extended context contain the guide's complement
        "sirna": pd.DataFrame(
            {
                "siRNA": sirna,
                "mRNA": [reverse_complement(s) for s in sirna],
                "extended_mRNA": [
                    "ACGTACGTACGTACGTAC" + reverse_complement(s) + "TTGCATTGCATTGCATTGCA" for s in sirna
                ],
                "dg": RNG.normal(size=n),
                "efficacy": RNG.normal(size=n),
            }
        ),
        "dna": pd.DataFrame({"sequence": dna(n, 101), "label": labels}),
        "protein": pd.DataFrame(
            {
                "protein": ["".join(RNG.choice(list("ACDEFGHIKLMNPQRSTVWY"), 300)) for _ in range(n)],
                "family": [f"f{i % 4}" for i in range(n)],
            }
        ),
        "smiles": pd.DataFrame(
            {
                "smiles": ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC", "O=C=O", "CC(C)O"] * (n // 6),
                "label": labels,
            }
        ),
        "tabular": pd.DataFrame(
            {
                "a": RNG.normal(size=n),
                "b": RNG.normal(size=n),
                "c": RNG.choice(["x", "y", "z"], n),
                "label": [f"k{i % 5}" for i in range(n)],
            }
        ),
    }


TARGETS = {"mirna": "label", "sirna": "efficacy", "dna": "label", "protein": "family", "smiles": "label",
           "tabular": "label"}
# what each kind of data must be planned as: (pair, the plan's first candidate, a family the plan explores)
EXPECTED = {
    "mirna": (("mirna", "site"), "pair_features_lgbm", "cnn"),
    "sirna": (None, "kmer_linear", "cnn"),
    "dna": (None, "kmer_linear", "cnn"),
    "protein": (None, "kmer_linear", "cnn"),
    "smiles": (None, "morgan_descriptors_lgbm", "mlp"),
    "tabular": (None, "tabular_linear", "gbm"),
}


@pytest.fixture(scope="module")
def profiles(tmp_path_factory) -> dict[str, tuple[recipes.DataProfile, str]]:
    out = {}
    for kind, df in tables().items():
        folder = tmp_path_factory.mktemp(kind)
        df.to_csv(folder / "train.csv", index=False)
        (folder / "task.toml").write_text(f'target = "{TARGETS[kind]}"\n')
        task = load_task(folder)
        out[kind] = (recipes.profile_of(task, task.table("train"), time_budget_s=900), task.task_type)
    return out


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_profile_of_real_tables_picks_the_right_plan(profiles, kind):
    profile, _ = profiles[kind]
    pair, first, family = EXPECTED[kind]
    assert profile.pair == pair
    plan = recipes.plan(profile)
    assert plan[0].name == first
    assert family in {c.family for c in plan}
    assert profile.n_rows == 120


def test_profile_measures_sequences_on_the_table_it_is_given(profiles):
    profile, _ = profiles["sirna"]
    lens = {s.name: (s.alphabet, s.median_len, s.max_len) for s in profile.sequence_columns}
    assert lens == {"siRNA": ("dna", 19, 19), "mRNA": ("dna", 19, 19), "extended_mRNA": ("dna", 57, 57)}
    assert profile.numeric_columns == ["dg"]


def check_buildable(c: Candidate, task_type: str) -> None:
    build_featurizer(c.representation)
    build_model(c.model, task_type=task_type, seed=0)
    assert c.rationale.endswith(".") and c.est_seconds > 0 and c.name


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_plan_gives_buildable_candidates_and_refinements(profiles, kind):
    profile, task_type = profiles[kind]
    cands = recipes.plan(profile)
    assert len(cands) >= 2 and len({c.name for c in cands}) == len(cands)
    # a fast, robust baseline comes first: a classical model, cheaper than every neural net and ensemble
    assert cands[0].family in ("linear", "gbm")
    assert all(cands[0].est_seconds < c.est_seconds for c in cands if c.family in ("cnn", "mlp", "ensemble"))
    assert sum(c.est_seconds for c in cands) < profile.time_budget_s
    for c in cands:
        check_buildable(c, task_type)
        assert c.time_limit_s and c.time_limit_s >= c.est_seconds
        for fn in (recipes.regularize, recipes.add_capacity, recipes.cheaper):
            r = fn(c)
            if r is not None:
                check_buildable(r, task_type)
                assert r.name != c.name and (r.model, r.representation) != (c.model, c.representation)


def test_refinements_move_in_the_right_direction(profiles):
    c = next(c for c in recipes.plan(profiles["dna"][0]) if c.family == "cnn")
    assert c.model["kind"] == "cnn1d" and c.model["rc"]  # one DNA column: both strands
    assert recipes.regularize(c).model["dropout"] > c.model["dropout"]
    assert recipes.add_capacity(c).model["channels"] > c.model["channels"]
    assert recipes.cheaper(c).model["epochs"] < c.model["epochs"]
    # the diagnosis given by the caller opens the rationale; the recipe says what it changes
    assert recipes.regularize(c, "The model overfits (gap 0.2).").rationale.startswith(
        "The model overfits (gap 0.2). "
    )
    # repeated regularisation eventually stops
    r, steps = c, 0
    while r is not None and steps < 20:
        r, steps = recipes.regularize(r), steps + 1
    assert r is None


def test_auto_linear_refinements_change_kmer_sizes(profiles):
    c = recipes.plan(profiles["dna"][0])[0]
    assert c.model["kind"] == "linear" and c.model["C"] == "auto"
    ks = c.representation["blocks"][0]["k"]
    assert recipes.regularize(c).representation["blocks"][0]["k"] == ks[:-1]
    assert recipes.add_capacity(c).representation["blocks"][0]["k"] == ks + [ks[-1] + 1]
    assert recipes.cheaper(c).representation["blocks"][0]["k"] == ks[:-1]


@pytest.mark.datasets
@pytest.mark.parametrize("name, pair, first", [
    ("sirbench", None, "kmer_linear"),  # siRNA duplexes are not miRNA-target pairs
    ("ago2_clash_hejret", ("noncodingRNA", "gene"), "pair_features_lgbm"),
])
def test_profile_of_the_shared_datasets(name, pair, first):
    if not (DATA / name / "train.csv").is_file():
        pytest.skip(f"dataset {name} not found under {DATA}")
    task = load_task(DATA / name)
    profile = recipes.profile_of(task, task.table("train"), time_budget_s=900)
    assert profile.pair == pair and recipes.plan(profile)[0].name == first


def test_single_cell_plan_from_an_h5ad_task(tmp_path):
    """An AnnData task is planned as single-cell: logistic regression on the highly variable genes first,
    then PCA, trees with marker genes and an MLP; every candidate's features build on the training cells
    and read the genes only (never the obs annotations)."""
    from omicsagent.testing import make_singlecell_task

    task = load_task(make_singlecell_task(tmp_path / "sc", n_cells=120, n_genes=60))
    train = task.table("train")
    profile = recipes.profile_of(task, train, time_budget_s=900)
    assert len(profile.gene_columns) == 60 and profile.numeric_columns == profile.categorical_columns == []
    plan = recipes.plan(profile)
    assert [c.name for c in plan[:2]] == ["hvg_logistic", "pca_logistic"]
    assert {"linear", "gbm", "mlp", "ensemble"} <= {c.family for c in plan}
    assert any(b.get("marker_genes") for c in plan for b in c.representation["blocks"])
    for c in plan:
        check_buildable(c, task.task_type)
        featurizer = build_featurizer(c.representation)
        X = featurizer.fit_transform(train)
        assert X.flat.shape[0] == 120 and set(featurizer.input_columns) == set(task.gene_columns)
