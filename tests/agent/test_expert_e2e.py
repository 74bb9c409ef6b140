"""The expert brain end to end through the CLI and the real sandbox, on a generated planted-motif task."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from omicsagent.testing import make_motif_task

# the tests share one run (a module fixture): under pytest-xdist they go to one worker, which makes it once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("expert_e2e_run")]
EXE = [sys.executable, "-m", "omicsagent"]


def cli(*args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("expert")
    data = make_motif_task(root / "data", n=400, n_test=150, length=60)
    out = root / "run"
    # single-split selection: k-fold selection and the refit (the default below 3000 rows) are
    # tests/agent/test_small_data_e2e.py and tests/agent/test_front_door.py
    res = cli("run", str(data), "--out", str(out), "--iterations", "2", "--time-budget", "4m", "--quiet",
              "--cv-below", "0")
    assert res.returncode == 0, res.stderr[-3000:]
    return data, out


def test_run_produces_a_working_best_model(finished_run):
    data, out = finished_run
    journal = json.loads((out / "journal.json").read_text())
    assert journal["status"] == "finished"
    assert all(it["status"] == "succeeded" for it in journal["iterations"])
    assert journal["test_metrics"]["auroc"] > 0.85  # the planted motif is learnable
    for name in ("train.py", "inference.py", "requirements.txt", "metrics.json"):
        assert (out / "best" / name).exists(), name
    assert "omicsagent" in (out / "best" / "requirements.txt").read_text()
    assert (out / "report.html").exists() and (out / "report.md").exists()
    # best/inference.py works on its own, outside omicsagent
    test_inputs = pd.read_csv(data / "test.csv").drop(columns=["label"])
    test_inputs.to_csv(out.parent / "new.csv", index=False)
    subprocess.run(
        [
            sys.executable,
            str(out / "best" / "inference.py"),
            "--input",
            str(out.parent / "new.csv"),
            "--output",
            str(out.parent / "direct.csv"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    direct = pd.read_csv(out.parent / "direct.csv")
    assert len(direct) == len(test_inputs) and {"prediction", "probability_0", "probability_1"} <= set(
        direct.columns
    )


def test_predict_command(finished_run):
    data, out = finished_run
    new = out.parent / "new2.csv"
    pd.read_csv(data / "test.csv").drop(columns=["label"]).head(25).to_csv(new, index=False)
    res = cli("predict", str(out), "--input", str(new), "--output", str(out.parent / "preds.csv"))
    assert res.returncode == 0, res.stderr
    assert len(pd.read_csv(out.parent / "preds.csv")) == 25
    pd.DataFrame({"id": ["x"]}).to_csv(out.parent / "bad.csv", index=False)
    res = cli(
        "predict", str(out), "--input", str(out.parent / "bad.csv"), "--output", str(out.parent / "p2.csv")
    )
    assert res.returncode == 2 and "lacks the input column" in res.stderr and "Traceback" not in res.stderr
    assert not (out.parent / "p2.csv").exists()


# kill -9 then `runs` (stale) and `resume`: tests/agent/test_front_door.py, through relative paths.
