"""Protein variants and pretrained-model embeddings through the real CLI, loop and bubblewrap sandbox, typed
as a user would: from the folder holding the data, with relative paths and default options (a time budget,
and an iteration cap where only the first iterations are looked at)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from omicsagent.ml.embeddings import transformers_available
from omicsagent.testing_protein import make_variant_task

pytestmark = pytest.mark.slow
EXE = [sys.executable, "-m", "omicsagent"]
needs_fm = pytest.mark.skipif(
    not transformers_available() and os.environ.get("CI") != "true",
    reason="transformers is not installed (pip install 'omicsagent[fm]'); "
    "these tests always run under CI=true",
)


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*EXE, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def iterations(run: Path) -> list[dict]:
    return json.loads((run / "journal.json").read_text())["iterations"]


def test_a_deep_mutational_scan_gets_mutation_models(tmp_path):
    make_variant_task(tmp_path / "dms", n=600, n_test=200)
    run = tmp_path / "runs" / "dms"
    # single split (--cv-below 0): the point is the first model's representation; the embeddings test below
    # keeps the default k-fold selection (its fold models need the model folder mounted too)
    res = cli("run", "dms", "--iterations", "1", "--time-budget", "60s", "--out", "runs/dms", "--quiet",
              "--cv-below", "0", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    journal = json.loads((run / "journal.json").read_text())
    first = journal["iterations"][0]
    assert first["status"] == "succeeded" and first["representation"] == "mutations_group_ridge"
    exploration = next(s for s in first["steps"] if s["name"] == "exploration")
    assert any("mutations per position" in f for f in exploration["output"]["findings"])
    train_py = (run / first["dir"] / "train.py").read_text()
    assert "'kind': 'mutations'" in train_py and "'column': 'mutant'" in train_py
    assert journal["test_metrics"]["spearman"] > 0.75, journal["test_metrics"]


@needs_fm
def test_embeddings_from_a_model_on_disk_through_the_loop_and_predict(tmp_path):
    from omicsagent.testing_protein import write_tiny_esm

    make_variant_task(tmp_path / "dms", n=400, n_test=150)
    write_tiny_esm(tmp_path / "esm_tiny")
    run = tmp_path / "runs" / "dms"
    # the plan: mutations_group_ridge, embedding_linear, mutations_group_ridge+embedding, ...; the fourth
    # iteration refines the best (the last one always does), so four iterations hold the two with embeddings;
    # --reproducible: the plan does not depend on how fast a loaded machine is (the budget is a safety stop);
    # --cv-below 0: selection on the validation split (each k-fold process would load torch again)
    res = cli("run", "dms", "--embeddings", "protein=esm_tiny", "--iterations", "4", "--reproducible",
              "--cv-below", "0", "--time-budget", "10m", "--out", "runs/dms", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    its = iterations(run)
    emb = [it for it in its if it["representation"] == "embedding_linear"]
    assert emb and emb[0]["status"] == "succeeded", [(it["representation"], it["failure"]) for it in its]
    train_py = (run / emb[0]["dir"] / "train.py").read_text()
    assert (
        str((tmp_path / "esm_tiny").resolve()) in train_py
    )  # the folder is mounted read-only at its real path
    cache = run / "workspace" / "scratch" / "embedding_cache"
    assert list(cache.rglob("*.npz")), "embeddings were not cached in the workspace"
    combined = [it for it in its if it["representation"] == "mutations_group_ridge+embedding"]
    assert combined and combined[0]["status"] == "succeeded"
    journal = json.loads((run / "journal.json").read_text())
    assert journal["settings"]["extra"]["embeddings"]["protein"]["name"] == "esm_tiny"
    assert journal["test_metrics"] is not None  # hidden test scored in a fresh sandbox with the model mounted
    # predicting with the embedding iteration's model also gets the model folder in the sandbox
    pd.read_csv(tmp_path / "dms" / "test.csv").drop(columns=["fitness"]).head(20).to_csv(tmp_path / "new.csv",
                                                                                        index=False)
    best = json.loads((run / "best" / "metrics.json").read_text())
    res = cli("predict", "runs/dms", "--input", "new.csv", "--output", "preds.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(pd.read_csv(tmp_path / "preds.csv")) == 20, best


@needs_fm
def test_bad_embedding_options_fail_in_one_sentence_and_write_nothing(tmp_path):
    make_variant_task(tmp_path / "dms", n=100, n_test=0)
    for option, words in (
        ("protein=missing_folder", "does not exist"),
        ("virus=dms", "Unknown embedding modality"),
        ("protein", "MODALITY=FOLDER"),
        ("protein=dms", "config.json"),
    ):
        res = cli("run", "dms", "--embeddings", option, "--out", "run", cwd=tmp_path)
        assert res.returncode == 2 and words in res.stderr, (option, res.stderr)
        assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "run").exists()


def test_embeddings_without_the_optional_extra_fail_in_one_sentence(tmp_path):
    make_variant_task(tmp_path / "dms", n=100, n_test=0)
    stub = tmp_path / "no_transformers" / "transformers"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('transformers is not installed here')\n")
    (tmp_path / "model").mkdir()
    res = cli("run", "dms", "--embeddings", "protein=model", "--out", "run", cwd=tmp_path,
              env={"PYTHONPATH": str(tmp_path / "no_transformers")})
    assert res.returncode == 2, res.stderr
    assert "omicsagent[fm]" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "run").exists()
