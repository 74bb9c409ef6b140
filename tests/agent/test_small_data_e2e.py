"""Small data, honestly, through the real CLI from another working directory with relative paths: below the
threshold selection is by k-fold cross-validation (mean ± sd in the journal, the --json summary and the
report), best/ holds the model refit on every labelled row (and best/train.py re-run in the sandbox rebuilds
it), and the report and summary carry bootstrap confidence intervals; above the threshold the run stays on the
single validation split."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.testing import make_tabular_task

pytestmark = pytest.mark.slow
EXE = [sys.executable, "-m", "omicsagent"]


def run_json(cwd: Path, *args: str) -> dict:
    res = subprocess.run([*EXE, "run", *args, "--iterations", "1", "--time-budget", "60s", "--json"], cwd=cwd,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    return next(e for e in lines if e.get("event") == "summary")


def _interval(pair, value=None):
    assert pair is not None and len(pair) == 2 and 0.0 <= pair[0] <= pair[1] <= 1.0, pair
    if value is not None:
        assert pair[0] - 1e-9 <= value <= pair[1] + 1e-9, (pair, value)


def test_small_data_selects_by_kfold_refits_and_reports_intervals(tmp_path):
    make_tabular_task(tmp_path / "data", n=200, n_test=80)
    summary = run_json(tmp_path, "data", "--out", "runs/small")
    run = tmp_path / "runs" / "small"
    journal = json.loads((run / "journal.json").read_text())
    best = journal["iterations"][summary["best_iteration"]]

    # k-fold: five held-out scores per metric; the selection score is their mean, with their spread
    folds = best["cv_metrics"]["auroc"]
    assert summary["selection"] == "cross-validation" and summary["cross_validation"] == folds
    assert len(folds) == 5 and all(0.5 < f <= 1.0 for f in folds)
    assert summary["validation"] == pytest.approx(np.mean(folds))
    assert summary["validation_sd"] == pytest.approx(np.std(folds, ddof=1))
    assert summary["validation_split"] == best["validation_metrics"]["auroc"]

    # refit on every labelled row before the test; bootstrap intervals on validation and test
    assert summary["refit"]["status"] == "done" and summary["refit"]["n_rows"] == 200
    _interval(summary["validation_ci"], summary["validation_split"])
    _interval(summary["test_ci"], summary["test"]["auroc"])
    metrics = json.loads((run / "best" / "metrics.json").read_text())
    assert metrics["refit"]["status"] == "done" and metrics["intervals"]["resamples"] == 1000
    report = (run / "report.md").read_text()
    assert "5-fold cross-validation AUROC" in report and " ± " in report
    assert "refit on all 200 labelled rows" in report and "95% CI" in report
    assert "refit" in (run / "best" / "README.md").read_text()

    # best/train.py, re-run in the sandbox on the training file, rebuilds the refit model: same predictions
    from omicsagent.sandbox import Limits, Workspace, make_sandbox

    ws = Workspace.create(tmp_path / "rebuild")
    ws.add_input(tmp_path / "data" / "train.csv", name="train.csv")
    ws.add_input(tmp_path / "data" / "test.csv", name="test.csv")
    shutil.copytree(run / "best", ws.artifacts / "best")
    sandbox = make_sandbox("bwrap")
    infer = ["python", "artifacts/best/inference.py", "--input", "inputs/test.csv", "--output"]
    steps = [["python", "artifacts/best/train.py", "--train", "inputs/train.csv", "--out", "scratch/model"],
             [*infer, "scratch/a.csv"], [*infer, "scratch/b.csv", "--model", "scratch/model"]]
    for argv in steps:
        res = sandbox.run(argv, workspace=ws, cwd=".", limits=Limits(wall_seconds=300, memory_mb=4096))
        assert res.ok, res.output[-1500:]
    a, b = pd.read_csv(ws.scratch / "a.csv"), pd.read_csv(ws.scratch / "b.csv")
    assert np.allclose(a["probability_1"], b["probability_1"], atol=1e-6)
    # ... and it is not the model fitted on the training split alone
    split_model = run / best["dir"] / "model"
    shutil.copytree(split_model, ws.scratch / "split_model")
    res = sandbox.run(["python", "artifacts/best/inference.py", "--input", "inputs/test.csv", "--output",
                       "scratch/c.csv", "--model", "scratch/split_model"], workspace=ws, cwd=".",
                      limits=Limits(wall_seconds=300, memory_mb=4096))
    assert res.ok, res.output[-1500:]
    assert not np.allclose(a["probability_1"], pd.read_csv(ws.scratch / "c.csv")["probability_1"], atol=1e-6)


def test_above_the_threshold_the_run_stays_on_the_single_split(tmp_path):
    make_tabular_task(tmp_path / "data", n=200, n_test=80)
    summary = run_json(tmp_path, "data", "--out", "runs/big", "--cv-below", "150")  # 200 rows: "large"
    journal = json.loads((tmp_path / "runs" / "big" / "journal.json").read_text())
    best = journal["iterations"][summary["best_iteration"]]
    assert summary["selection"] == "validation" and summary["cross_validation"] is None
    assert best["cv_metrics"] == {} and summary["validation"] == best["validation_metrics"]["auroc"]
    assert summary["refit"] is None and journal["refit"] is None
    _interval(summary["validation_ci"], summary["validation"])  # intervals for every size
    _interval(summary["test_ci"], summary["test"]["auroc"])
    readme = (tmp_path / "runs" / "big" / "best" / "README.md").read_text()
    assert "was fitted on the training split" in readme
