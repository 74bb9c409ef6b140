"""String features offered to the domain models (issue 12 §6): the domain representation and the floor's
character n-grams side by side in one matrix, planned after both, and through the real CLI a run that tries
it, records it and says why it stopped."""
from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from omicsagent.brains.expert import recipes
from omicsagent.ml.models.base import build_model
from omicsagent.ml.pipeline import build_featurizer
from omicsagent.tasks import load_task
from omicsagent.testing import make_motif_task, make_text_task
from omicsagent.testing_protein import make_variant_task

EXE = [sys.executable, "-m", "omicsagent"]
DOMAIN = "morgan_descriptors_lgbm"


def smiles_task(folder: Path, *, n_test: int = 0) -> Path:
    """Small molecules whose label is whether they carry a nitrogen (a substring the n-grams see)."""
    folder.mkdir(parents=True)
    mols = ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC", "O=C=O", "CC(C)O", "CCCCCC", "c1ccncc1", "CCNC",
            "NCCO", "CC(=O)N", "c1ccc(N)cc1", "OCC(O)CO", "CCCCO", "CN(C)C", "ClCCl"]
    rng = np.random.default_rng(0)
    rows = [mols[i] for i in rng.integers(0, len(mols), size=160 + n_test)]
    df = pd.DataFrame({"smiles": rows, "label": [int("N" in m or "n" in m) for m in rows]})
    df.iloc[:160].to_csv(folder / "train.csv", index=False)
    if n_test:
        df.iloc[160:].to_csv(folder / "test.csv", index=False)
    (folder / "task.toml").write_text('target = "label"\n')
    return folder


def plan_of(folder: Path) -> tuple[list[recipes.Candidate], object, recipes.DataProfile]:
    task = load_task(folder)
    profile = recipes.profile_of(task, task.table("train"), time_budget_s=900)
    return recipes.plan(profile), task, profile


def dense(m) -> np.ndarray:
    return m.toarray() if sparse.issparse(m) else np.asarray(m)


def test_the_combined_block_stacks_the_domain_features_and_the_ngrams(tmp_path):
    plan, task, _ = plan_of(smiles_task(tmp_path / "d"))
    names = [c.name for c in plan]
    combined = plan[names.index(DOMAIN + recipes.WITH_STRINGS)]
    domain = plan[names.index(DOMAIN)]
    # planned after the domain candidate and the floor, so both are scored first; the same model
    assert names.index(combined.name) > max(names.index(DOMAIN), names.index(recipes.FLOOR))
    assert combined.model == domain.model and combined.family == domain.family
    n_dom = len(domain.representation["blocks"])
    assert combined.representation["blocks"][:n_dom] == domain.representation["blocks"]
    assert combined.representation["blocks"][n_dom:] == [
        {"kind": "char_ngram", "column": "smiles", "ngram": [1, 5], "max_features": 5000}]

    train = task.table("train")
    X = build_featurizer(combined.representation).fit_transform(train)
    Xd = build_featurizer(domain.representation).fit_transform(train)
    Xg = build_featurizer({"blocks": combined.representation["blocks"][n_dom:]}).fit_transform(train)
    wd, wg = Xd.flat.shape[1], Xg.flat.shape[1]
    assert sparse.issparse(X.flat) and X.flat.shape == (len(train), wd + wg) and wg > 10
    np.testing.assert_allclose(dense(X.flat[:, :wd]), dense(Xd.flat), rtol=1e-6)  # side by side, unchanged
    np.testing.assert_allclose(dense(X.flat[:, wd:]), dense(Xg.flat), rtol=1e-6)
    assert X.flat_names == Xd.flat_names + Xg.flat_names
    assert any(n.startswith("smiles:'") for n in X.flat_names[wd:])
    np.testing.assert_array_equal(X.dense_columns, Xd.dense_columns)  # n-grams: not dense side features
    # the domain model fits on it and predicts new rows with the same columns
    model = build_model(combined.model, task_type=task.task_type, seed=0)
    model.fit(X, train[task.target].to_numpy(), time_limit_s=60)
    new = pd.DataFrame({"smiles": ["CCN", "CCCC"]})
    f = build_featurizer(combined.representation)
    f.fit(train)
    assert f.transform(new).flat.shape == (2, wd + wg)
    assert model.predict_proba(f.transform(new)).shape[0] == 2


def test_string_features_only_where_they_add_something(tmp_path):
    # short DNA on few rows: k-mers up to 3, so the 4- and 5-grams are new
    plan, _, profile = plan_of(make_motif_task(tmp_path / "m", n=200, n_test=0))
    names = [c.name for c in plan]
    assert "kmer_lgbm" + recipes.WITH_STRINGS in names
    assert names.index("kmer_lgbm" + recipes.WITH_STRINGS) == names.index("kmer_lgbm") + 1
    # many rows: k-mers up to 6 already count every 5-gram, nothing is added
    big = recipes.plan(replace(profile, n_rows=50_000))
    assert not any(recipes.WITH_STRINGS in c.name for c in big)
    # free text beside numbers: the trees get the text's n-grams
    text, _, _ = plan_of(make_text_task(tmp_path / "t", n=300, n_test=0))
    assert [c.name for c in text].count("tabular_lgbm" + recipes.WITH_STRINGS) == 1
    # variants of one protein: the mutations block already reads every difference
    variants, _, _ = plan_of(make_variant_task(tmp_path / "v", n=300, n_test=50))
    assert not any(recipes.WITH_STRINGS in c.name for c in variants)
    # a linear domain model would standardise the tf-idf columns: not offered
    linear = next(c for c in plan if c.name == "kmer_linear")
    assert recipes.with_strings(profile, linear) is None


@pytest.mark.slow
def test_a_cli_run_tries_the_combined_candidate_and_says_why_it_stopped(tmp_path):
    smiles_task(tmp_path / "mols", n_test=60)
    # single split (--cv-below 0): the best is checked against validation scores below; k-fold selection (the
    # default on these few rows) is the next test's run and tests/agent/test_small_data_e2e.py
    res = subprocess.run([*EXE, "run", "mols", "--iterations", "7", "--json", "--cv-below", "0"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["event"] == "summary"
    run_dir = Path(summary["run_dir"])
    journal = json.loads((run_dir / "journal.json").read_text())
    tried = {it["summary"].split(" + ")[0]: it for it in journal["iterations"]}
    combined = tried.get(DOMAIN + recipes.WITH_STRINGS)
    assert combined is not None and combined["status"] == "succeeded", list(tried)
    assert "auroc" in combined["validation_metrics"]
    script = run_dir / "workspace" / "artifacts" / f"iter_{combined['index']:03d}" / "train.py"
    assert "'kind': 'char_ngram', 'column': 'smiles'" in script.read_text()
    # the molecules were featurised once, by the first iteration: later ones read the run's feature cache
    shards = list((run_dir / "workspace" / "scratch" / "feature_cache").rglob("*.npz"))
    assert shards and {stat.S_IMODE(p.stat().st_mode) for p in shards} == {0o644}  # a group reads runs
    log = (script.parent / "training.log").read_text()
    assert re.search(r"smiles \(smiles\): (\d+) of \1 rows from the run's feature cache", log), log[:2000]
    # the third draft is the message passing network on the molecular graphs, trained in the sandbox
    gnn = tried.get(recipes.GRAPH_NET)
    assert gnn is not None and gnn["status"] == "succeeded" and gnn["index"] == 2, list(tried)
    gnn_dir = run_dir / "workspace" / "artifacts" / "iter_002"
    assert "'kind': 'molgraph'" in (gnn_dir / "train.py").read_text()
    assert re.search(r"mpnn epoch 1/\d+ train_loss", (gnn_dir / "training.log").read_text())
    # the run says why it stopped: in the journal, the JSON summary and the report
    reason = journal["status_reason"]
    assert reason == summary["reason"] == "iteration cap reached: 7 of 7 iterations done"
    assert reason in (run_dir / "report.md").read_text()
    # the best is chosen on validation as usual, whichever it is
    ok = [it for it in journal["iterations"] if it["status"] == "succeeded"]
    best = max(ok, key=lambda it: (it["validation_metrics"]["auroc"], -it["index"]))
    assert summary["best_iteration"] == best["index"]


@pytest.mark.slow
def test_the_terminal_summary_says_why_the_run_stopped(tmp_path):
    make_text_task(tmp_path / "notes", n=120, n_test=0)
    res = subprocess.run([*EXE, "run", "notes", "--iterations", "1", "--cv-below", "0"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "stopped: iteration cap reached: 1 of 1 iterations done" in res.stderr
