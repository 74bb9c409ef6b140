"""Protein variant data is recognised from its values, not from dataset or column names."""
from __future__ import annotations

import numpy as np
import pandas as pd

from omicsagent.brains.expert import recipes
from omicsagent.tasks import load_task
from omicsagent.tasks.detect import profile_column
from omicsagent.testing_protein import make_variant_task, variant_frame


def test_mutant_notation_and_variant_sequences_are_recognised(tmp_path):
    df = variant_frame(300).rename(columns={"mutant": "variant_code", "mutated_sequence": "aa_seq"})
    mut = profile_column(df["variant_code"], n_rows=len(df))
    assert mut.role == "mutation" and "several" in mut.reason
    seq = profile_column(df["aa_seq"], n_rows=len(df))
    assert seq.role == "protein" and seq.variants and "reference" in seq.reason


def test_unrelated_proteins_and_accessions_are_not_variants():
    rng = np.random.default_rng(0)
    proteins = pd.Series(["".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), size=50)) for _ in range(200)], name="p")
    prof = profile_column(proteins, n_rows=200)
    assert prof.role == "protein" and not prof.variants
    accessions = pd.Series([f"P{10000 + i}" for i in range(200)], name="acc")
    assert profile_column(accessions, n_rows=200).role != "mutation"


def test_the_expert_plans_mutation_models_for_a_variant_task(tmp_path):
    task = load_task(make_variant_task(tmp_path / "dms", n=300, n_test=50))
    roles = {c.name: c.role for c in task.columns}
    assert roles == {"mutant": "mutation", "mutated_sequence": "protein", "fitness": "target"}
    profile = recipes.profile_of(task, task.table("train"), time_budget_s=900)
    assert profile.mutation_columns == ["mutant"] and profile.sequence_columns[0].variants
    plan = recipes.plan(profile)
    names = [c.name for c in plan]
    assert names == ["mutations_group_ridge", recipes.FLOOR, "mutations_lgbm", "mutations_ensemble"]
    block = plan[0].representation["blocks"][0]
    assert block == {"kind": "mutations", "column": "mutant", "sequence_column": "mutated_sequence"}
    assert plan[0].model == {"kind": "group_ridge", "target_transform": "rank"}
    assert recipes.regularize(plan[0]) is None and recipes.add_capacity(plan[0]) is None
    assert recipes.cheaper(plan[0]).model["passes"] == 1
    # without the mutant column the variants are read from the sequences; classification gets linear models
    df = pd.read_csv(tmp_path / "dms" / "train.csv").drop(columns=["mutant"])
    df["functional"] = (df["fitness"] > 0.5).astype(int)
    df.drop(columns=["fitness"]).to_csv(tmp_path / "seq_only.csv", index=False)
    task2 = load_task(train=tmp_path / "seq_only.csv")
    plan2 = recipes.plan(recipes.profile_of(task2, task2.table("train"), time_budget_s=900))
    assert plan2[0].representation["blocks"][0] == {"kind": "mutations", "sequence_column": "mutated_sequence"}
    assert plan2[0].model["kind"] == "linear" and "target_transform" not in plan2[0].model
