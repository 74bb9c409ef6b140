"""Through the real CLI, from another working directory with relative paths and the default k-fold
selection: the plan's ensemble of the two models the run has already fitted reads both back from the run's
fit cache (the main fit and each fold's), and its train.py, rerun by hand outside the run, fits the same
model afresh and predicts the same validation rows."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from omicsagent.ml import fitcache
from omicsagent.testing import make_tabular_task

pytestmark = pytest.mark.slow
EXE = [sys.executable, "-m", "omicsagent"]


def test_an_ensemble_of_fitted_nodes_is_read_back_and_reruns_by_hand_to_the_same_model(tmp_path):
    make_tabular_task(tmp_path / "data", n=200, n_test=50)
    res = subprocess.run([*EXE, "run", "data", "--iterations", "3", "--quiet", "--out", "runs/r"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    run = tmp_path / "runs" / "r"
    journal = json.loads((run / "journal.json").read_text())
    its = journal["iterations"]
    assert [it["status"] for it in its] == ["succeeded"] * 3
    ens = its[2]
    arts = run / "workspace" / "artifacts" / "iter_002"
    assert ens["summary"].endswith("+ ensemble"), ens["summary"]
    log = (arts / "training.log").read_text()
    # both members were fitted alone by iterations 0 and 1: read back, not fitted again
    assert log.count("reused the identical fit of an earlier iteration") == 2, log
    assert ens["cv_metrics"], "k-fold selection was expected on 200 rows"
    # each node's main fit and five fold fits are kept, the ensemble's folds read them back too
    entries = list((run / "workspace" / "scratch" / "fit_cache").glob("*.joblib"))
    assert len(entries) >= 2 * 6, len(entries)

    # by hand, outside the run: the same train.py fits both members afresh, to the same predictions
    ws = run / "workspace"
    env = {k: v for k, v in os.environ.items()
           if k not in (fitcache.FIT_CACHE_ENV, fitcache.FIT_CACHE_SHARED_ENV)}
    by_hand = tmp_path / "by_hand"
    fit = subprocess.run([sys.executable, "artifacts/iter_002/train.py", "--out", str(by_hand)], cwd=ws,
                         capture_output=True, text=True, timeout=300, check=False, env=env)
    assert fit.returncode == 0, fit.stderr[-2000:]
    assert "reused" not in fit.stdout
    pred = subprocess.run([sys.executable, "artifacts/iter_002/inference.py", "--model", str(by_hand),
                           "--input", "scoring/validation_features.csv", "--output", str(tmp_path / "p.csv")],
                          cwd=ws, capture_output=True, text=True, timeout=300, check=False, env=env)
    assert pred.returncode == 0, pred.stderr[-2000:]
    again = pd.read_csv(tmp_path / "p.csv")
    kept = pd.read_csv(arts / "validation_predictions.csv")
    proba = [c for c in kept.columns if c.startswith("probability_")]
    assert proba and (again["prediction"].astype(str) == kept["prediction"].astype(str)).all()
    assert (again[proba] - kept[proba]).abs().to_numpy().max() < 1e-6
