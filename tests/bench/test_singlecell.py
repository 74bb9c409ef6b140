"""Single-cell (AnnData .h5ad) benchmark tasks through the real command line, from another working directory
with relative paths: `bench prepare` keeps AnnData files (a declared hold-out when the data has no test rows,
a split column, or three files), `bench run` grades the floor and the expert on them."""
from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from omicsagent.testing import make_singlecell_task

from .conftest import cli

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "datasets"

SUITE = """
[suite]
name = "sc"

[[tasks]]
id = "cells"
path = "cells"
domain = "single-cell"
target = "cell_type"
holdout = 0.2
"""


def _one_sentence_exit_2(res) -> None:
    assert res.returncode == 2, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in res.stderr, res.stderr


def test_prepare_holds_out_a_seeded_stratified_test_set_of_cells(tmp_path: Path) -> None:
    data = make_singlecell_task(tmp_path / "data" / "cells", n_cells=200, n_genes=40)
    original = anndata.read_h5ad(data / "cells.h5ad")
    res = cli("bench", "prepare", "data/cells", "--out", "tasks/cells", "--holdout", "0.2", "--domain",
              "single-cell", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    task_dir = tmp_path / "tasks" / "cells"
    public, private = task_dir / "public", task_dir / "private"
    assert sorted(p.name for p in public.iterdir()) == [
        "description.md", "sample_submission.csv", "task.toml", "test.h5ad", "train.h5ad"]
    assert sorted(p.name for p in private.iterdir()) == ["answers.csv"]

    train, test = anndata.read_h5ad(public / "train.h5ad"), anndata.read_h5ad(public / "test.h5ad")
    answers = pd.read_csv(private / "answers.csv")
    # the test cells: no label, their names as the id column, X stored sparse as in the source
    assert "cell_type" not in test.obs.columns and test.obs.columns[0] == "cell_id"
    assert sparse.issparse(test.X) and sparse.issparse(train.X)
    assert list(answers.columns) == ["cell_id", "cell_type"]
    assert list(answers["cell_id"]) == list(test.obs["cell_id"]) == list(test.obs_names)
    assert not set(train.obs_names) & set(test.obs_names)
    assert sorted([*train.obs_names, *test.obs_names]) == sorted(original.obs_names)
    truth = original.obs["cell_type"].astype(str)
    assert list(answers["cell_type"]) == list(truth[answers["cell_id"]])
    assert list(train.obs["cell_type"].astype(str)) == list(truth[train.obs_names])
    np.testing.assert_array_equal(test.X.toarray(), original[test.obs_names].X.toarray())
    # stratified: every cell type keeps its share (20% +- one cell) in the test set
    for cls, n in truth.value_counts().items():
        assert abs((answers["cell_type"] == cls).sum() - 0.2 * n) <= 1, cls
    assert len(answers) == 40
    decl = tomllib.loads((task_dir / "task.toml").read_text())["task"]
    assert (decl["modality"], decl["metric"], decl["target"]) == ("expression", "macro_f1", "cell_type")
    assert "hold-out" in decl["source"] and "seed 0" in decl["source"]
    assert "train.h5ad" in (public / "description.md").read_text()
    sample = pd.read_csv(public / "sample_submission.csv")
    assert list(sample["cell_id"]) == list(answers["cell_id"])

    # a fixed seed: the same test cells every time; another seed, other cells
    assert cli("bench", "prepare", "data/cells", "--out", "tasks/again", "--holdout", "0.2",
               cwd=tmp_path).returncode == 0
    assert pd.read_csv(tmp_path / "tasks/again/private/answers.csv").equals(answers)
    assert cli("bench", "prepare", "data/cells", "--out", "tasks/other", "--holdout", "0.2", "--holdout-seed",
               "1", cwd=tmp_path).returncode == 0
    other = pd.read_csv(tmp_path / "tasks/other/private/answers.csv")
    assert set(other["cell_id"]) != set(answers["cell_id"])


def test_prepare_keeps_a_split_column_and_three_files_as_anndata(tmp_path: Path) -> None:
    make_singlecell_task(tmp_path / "data" / "split", n_cells=200, n_genes=30, split_column=True)
    make_singlecell_task(tmp_path / "data" / "three", n_cells=150, n_test=50, n_genes=30, log_normalised=True)
    for name in ("split", "three"):
        res = cli("bench", "prepare", f"data/{name}", "--out", f"tasks/{name}", cwd=tmp_path)
        assert res.returncode == 0, res.stderr

    src = anndata.read_h5ad(tmp_path / "data" / "split" / "cells.h5ad")
    public = tmp_path / "tasks" / "split" / "public"
    assert sorted(p.name for p in public.glob("*.h5ad")) == ["test.h5ad", "train.h5ad", "validation.h5ad"]
    split = src.obs["split"].astype(str)
    for which in ("train", "validation", "test"):
        part = anndata.read_h5ad(public / f"{which}.h5ad")
        assert list(part.obs_names) == list(src.obs_names[(split == which).to_numpy()]), which
        assert "split" not in part.obs.columns  # the public folder is split by files, not by the column
    answers = pd.read_csv(tmp_path / "tasks" / "split" / "private" / "answers.csv")
    assert list(answers["cell_id"]) == list(src.obs_names[(split == "test").to_numpy()])

    public = tmp_path / "tasks" / "three" / "public"
    # the training file is published as it is; the test file loses its labels, not its layers
    assert (public / "train.h5ad").read_bytes() == (tmp_path / "data/three/train.h5ad").read_bytes()
    test = anndata.read_h5ad(public / "test.h5ad")
    assert "cell_type" not in test.obs.columns and "counts" in test.layers and test.n_obs == 50


def test_prepare_refuses_bad_single_cell_input_with_one_sentence(tmp_path: Path) -> None:
    make_singlecell_task(tmp_path / "data" / "one", n_cells=100, n_genes=20)
    make_singlecell_task(tmp_path / "data" / "three", n_cells=80, n_test=20, n_genes=20)
    make_singlecell_task(tmp_path / "data" / "split", n_cells=100, n_genes=20, split_column=True)
    cases = {
        "a test file": ["data/three", "--holdout", "0.2"],
        "a split column": ["data/split", "--holdout", "0.2"],
        "an unknown target": ["data/one", "--holdout", "0.2", "--target", "nope"],
        "no test rows": ["data/one"],
        "holdout 0": ["data/one", "--holdout", "0"],
        "holdout 1": ["data/one", "--holdout", "1"],
        "holdout 1.5": ["data/one", "--holdout", "1.5"],
    }
    for case, args in cases.items():
        res = cli("bench", "prepare", *args, "--out", "task", cwd=tmp_path)
        _one_sentence_exit_2(res)
        assert not (tmp_path / "task").exists(), case
        assert not any(p.name.startswith(".task") for p in tmp_path.iterdir()), case
    res = cli("bench", "prepare", "data/three", "--holdout", "0.2", "--out", "task", cwd=tmp_path)
    assert "already has test rows" in res.stderr and "test.h5ad" in res.stderr
    res = cli("bench", "prepare", "data/one", "--holdout", "1.5", "--out", "task", cwd=tmp_path)
    assert "between 0 and 1" in res.stderr

    # the same mistakes in a suite entry: refused before anything is written
    make_singlecell_task(tmp_path / "cells", n_cells=100, n_genes=20)
    for bad in ("holdout = 1.5", 'target = "nope"', 'holdout_seed = "x"'):
        suite = SUITE.replace("holdout = 0.2", bad) if "holdout" in bad else SUITE.replace(
            'target = "cell_type"', bad)
        (tmp_path / "bad.toml").write_text(suite)
        res = cli("bench", "run", "bad.toml", "--data", ".", "--agents", "baseline:floor", "--out", "results",
                  cwd=tmp_path)
        _one_sentence_exit_2(res)
        assert not (tmp_path / "results").exists(), bad


@pytest.mark.slow
def test_bench_run_grades_the_floor_and_the_expert_on_held_out_cells(tmp_path: Path) -> None:
    make_singlecell_task(tmp_path / "cells", n_cells=200, n_genes=40)
    (tmp_path / "sc.toml").write_text(SUITE)
    res = cli("bench", "run", "sc.toml", "--data", ".", "--agents", "baseline:floor", "--seeds", "2", "--out",
              "results", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    answers = pd.read_csv(tmp_path / "results" / "tasks" / "cells" / "private" / "answers.csv")
    for seed in (0, 1):
        floor = json.loads((tmp_path / f"results/results/baseline_floor__cells__seed{seed}.json").read_text())
        assert floor["success"], floor["reason"]
        assert floor["metric"] == "macro_f1" and floor["raw_score"] > 0.8 and floor["domain"] == "single-cell"
        assert floor["wall_s"] < 60
        solution = json.loads((tmp_path / "results" / floor["artifacts"]["solution"][0]).read_text())
        assert solution["representation"]["blocks"][0]["kind"] == "expression"  # log-normalise + PCA
        assert solution["model"]["kind"] == "linear"

    # one iteration: about 45 s on a quiet machine; the limit leaves room for the 5-fold check under load
    res = cli("bench", "run", "sc.toml", "--data", ".", "--agents", "expert", "--time-limit", "120s",
              "--iterations", "1", "--out", "results", cwd=tmp_path, timeout=400)
    assert res.returncode == 0, res.stderr
    expert = json.loads((tmp_path / "results/results/expert__cells__seed0.json").read_text())
    assert expert["success"], expert["reason"]
    assert expert["raw_score"] > 0.8 and expert["wall_s"] < 120 + 30
    job = tmp_path / "results" / "jobs" / "expert__cells__seed0"
    journal = json.loads((job / "run" / "journal.json").read_text())
    assert journal["task"]["target"] == "cell_type" and journal["task"]["test_path"] is None
    assert journal["task"]["train_path"].endswith("train.h5ad") and journal["task"]["n_train"] == 160
    assert sorted(p.name for p in (job / "input").iterdir()) == ["description.md", "task.toml", "train.h5ad"]
    # no AnnData file the run touched holds a test cell (the prediction input is the label-free public file)
    for path in job.rglob("*.h5ad"):
        assert not set(anndata.read_h5ad(path).obs_names) & set(answers["cell_id"]), path


@pytest.mark.datasets
def test_omics_mini_floor_on_pbmc68k_reduced(tmp_path: Path) -> None:
    if not (SHARED / "ml" / "pbmc68k_reduced").is_dir():
        pytest.skip("../shared/datasets/ml/pbmc68k_reduced is not here (the shared data folder is absent)")
    suite = os.path.relpath(ROOT / "benchmarks" / "suites" / "omics-mini.toml", tmp_path)
    data = os.path.relpath(SHARED, tmp_path)
    res = cli("bench", "run", suite, "--data", data, "--tasks", "pbmc68k_reduced", "--agents",
              "baseline:floor", "--out", "results", cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    floor = json.loads((tmp_path / "results/results/baseline_floor__pbmc68k_reduced__seed0.json").read_text())
    assert floor["success"], floor["reason"]
    assert floor["metric"] == "macro_f1" and floor["raw_score"] > 0.45  # 0.61 measured (seeds 0 and 1)
    task = tmp_path / "results" / "tasks" / "pbmc68k_reduced"
    answers = pd.read_csv(task / "private" / "answers.csv")
    assert len(answers) == 140 and answers["bulk_labels"].nunique() == 10
    test = anndata.read_h5ad(task / "public" / "test.h5ad")
    assert "bulk_labels" not in test.obs.columns and list(test.obs["cell_id"]) == list(answers["cell_id"])
    train = anndata.read_h5ad(task / "public" / "train.h5ad")
    assert train.n_obs == 560
    # uns entries computed from every cell's label (ranked genes by bulk_labels, its colours) are not public
    assert not {"rank_genes_groups", "bulk_labels_colors"} & (set(train.uns) | set(test.uns))
