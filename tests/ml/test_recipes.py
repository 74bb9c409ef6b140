from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsagent.brains.expert import recipes
from omicsagent.brains.expert.recipes import Candidate, DataProfile, SeqColumn
from omicsagent.ml.models.base import build_model
from omicsagent.ml.pipeline import build_featurizer

MIR = SeqColumn("mirna", "rna", 22, 24)
SITE = SeqColumn("site", "dna", 50, 50)
PROFILES = {
    "pair": DataProfile("binary", 8000, 2, [MIR, SITE], ("mirna", "site")),
    "dna": DataProfile("binary", 40000, 2, [SeqColumn("sequence", "dna", 101, 101)]),
    "protein": DataProfile("multiclass", 900, 4, [SeqColumn("protein", "protein", 300, 900)]),
    "sirna": DataProfile("regression", 3000, None, [SeqColumn("siRNA", "rna", 19, 19), SeqColumn("mRNA", "dna", 19, 19)],
                         numeric_columns=["dg", "dh"]),
    "smiles": DataProfile("binary", 1600, 2, smiles_columns=["smiles"]),
    "tabular": DataProfile("multiclass", 240, 5, numeric_columns=["a", "b"], categorical_columns=["c"]),
}


def check_buildable(c: Candidate, task_type: str) -> None:
    build_featurizer(c.representation)
    build_model(c.model, task_type=task_type, seed=0)
    assert c.rationale.endswith(".") and c.est_seconds > 0 and c.name


@pytest.mark.parametrize("kind", list(PROFILES))
def test_plan_gives_buildable_candidates_and_refinements(kind):
    profile = PROFILES[kind]
    cands = recipes.plan(profile)
    assert len(cands) >= 2 and len({c.name for c in cands}) == len(cands)
    assert cands[0].est_seconds <= min(c.est_seconds for c in cands[1:]) + 1e-9 or cands[0].family != "cnn"
    assert sum(c.est_seconds for c in cands) < profile.time_budget_s
    for c in cands:
        check_buildable(c, profile.task_type)
        assert c.time_limit_s and c.time_limit_s >= c.est_seconds
        for fn in (recipes.regularize, recipes.add_capacity, recipes.cheaper):
            r = fn(c)
            if r is not None:
                check_buildable(r, profile.task_type)
                assert r.name != c.name


def test_refinements_move_in_the_right_direction():
    c = next(c for c in recipes.plan(PROFILES["dna"]) if c.family == "cnn")
    assert c.model["kind"] == "cnn1d" and c.model["rc"]
    assert recipes.regularize(c).model["dropout"] > c.model["dropout"]
    assert recipes.add_capacity(c).model["channels"] > c.model["channels"]
    assert recipes.cheaper(c).model["epochs"] < c.model["epochs"]
    # repeated regularisation eventually stops
    r, steps = c, 0
    while r is not None and steps < 20:
        r, steps = recipes.regularize(r), steps + 1
    assert r is None


def test_find_pair_tells_mirna_targets_from_sirna_duplexes():
    from omicsagent.ml.seqblocks import reverse_complement

    rng = np.random.default_rng(0)
    small = ["".join(rng.choice(list("ACGT"), 22)) for _ in range(30)]
    targets = ["".join(rng.choice(list("ACGT"), 50)) for _ in range(30)]
    df = pd.DataFrame({"mirna": small, "site": targets})
    assert recipes.find_pair(df, [MIR, SITE]) == ("mirna", "site")
    duplex = pd.DataFrame({"mirna": small, "site": ["AAAA" + reverse_complement(s) + "A" * 24 for s in small]})
    assert recipes.find_pair(duplex, [MIR, SITE]) is None
    assert recipes.find_pair(df, [SITE]) is None


def test_auto_linear_refinements_change_kmer_sizes():
    c = recipes.plan(PROFILES["dna"])[0]
    assert c.model["kind"] == "linear" and c.model["C"] == "auto"
    ks = c.representation["blocks"][0]["k"]
    assert recipes.regularize(c).representation["blocks"][0]["k"] == ks[:-1]
    assert recipes.add_capacity(c).representation["blocks"][0]["k"] == ks + [ks[-1] + 1]
    assert recipes.cheaper(c).representation["blocks"][0]["k"] == ks[:-1]
