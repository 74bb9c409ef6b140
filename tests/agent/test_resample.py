"""Unit logic of small-data resampling: folds and bootstrap intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd

from omicsagent.agent.resample import bootstrap_interval
from omicsagent.agent.split import fold_indices
from omicsagent.tasks.task import Task


def test_folds_cover_every_row_once_stratified_and_grouped():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.choice(["a", "b"], 100, p=[0.8, 0.2]), "g": rng.integers(0, 20, 100)})
    folds, method = fold_indices(df, target="y", task_type="binary", k=5, seed=0)
    assert "stratified" in method and len(folds) == 5
    assert sorted(np.concatenate(folds).tolist()) == list(range(100))
    share = [(df["y"].iloc[f] == "b").mean() for f in folds]
    assert max(share) - min(share) < 0.15
    folds, method = fold_indices(df, target="y", task_type="binary", group="g", k=5, seed=0)
    assert "grouped by 'g'" in method
    for i, f in enumerate(folds):  # no group on both sides of a fold
        rest = np.setdiff1d(np.arange(100), f)
        assert not set(df["g"].iloc[f]) & set(df["g"].iloc[rest]), i


def _task() -> Task:
    return Task(name="t", train_path="train.csv", target="y", task_type="binary", classes=[0, 1],
                metric="auroc", columns=[], n_train=10)


def test_bootstrap_interval_is_seeded_holds_the_estimate_and_narrows_with_rows():
    rng = np.random.default_rng(1)

    def data(n):
        y = rng.integers(0, 2, n)
        p = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.25, n), 0, 1)
        return pd.Series(y), pd.DataFrame({"prediction": (p > 0.5).astype(int), "probability_0": 1 - p,
                                           "probability_1": p})

    y, pred = data(120)
    a = bootstrap_interval(_task(), y, pred, seed=0, resamples=300)
    assert a == bootstrap_interval(_task(), y, pred, seed=0, resamples=300)
    assert a != bootstrap_interval(_task(), y, pred, seed=1, resamples=300)
    from sklearn.metrics import roc_auc_score

    assert a[0] < roc_auc_score(y, pred["probability_1"]) < a[1]
    y2, pred2 = data(2000)
    b = bootstrap_interval(_task(), y2, pred2, seed=0, resamples=300)
    assert b[1] - b[0] < (a[1] - a[0]) / 2


SNOOP_TRAIN = """\
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--train"); p.add_argument("--out"); a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
open(os.path.join(a.out, "model.txt"), "w").write("nothing learnt")
"""
# Predicts each row's label when any readable table in the workspace holds it, 0.5 otherwise.
SNOOP_INFER = """\
import argparse, os
import pandas as pd
p = argparse.ArgumentParser(); p.add_argument("--input"); p.add_argument("--output"); a = p.parse_args()
X = pd.read_csv(a.input)
known = {}
for root, _, files in os.walk("."):
    for f in files:
        try:
            df = pd.read_csv(os.path.join(root, f))
        except Exception:
            continue
        if "target" in df.columns and "x1" in df.columns:
            known.update(zip(df["x1"].round(9), df["target"]))
p1 = [float(known.get(round(v, 9), 0.5)) for v in X["x1"]]
pd.DataFrame({"prediction": [int(v > 0.5) for v in p1], "probability_0": [1 - v for v in p1],
              "probability_1": p1}).to_csv(a.output, index=False)
"""


def test_a_cross_validation_fold_cannot_read_its_held_out_labels(tmp_path):
    """The brain's scripts, re-run by the harness in each fold's own sandbox workspace, find no label of the
    rows they predict: a script that copies any label it can read scores exactly chance on every fold."""
    import subprocess
    import sys

    from omicsagent.agent.journal import IterationRecord, RunJournal, RunSettings, StepRecord
    from omicsagent.agent.layout import RunLayout
    from omicsagent.agent.resample import cross_validate
    from omicsagent.errors import SandboxUnavailable
    from omicsagent.sandbox import make_sandbox
    from omicsagent.tasks import load_task
    from omicsagent.testing import make_tabular_task, tool_unusable

    task = load_task(make_tabular_task(tmp_path / "data", n=120, n_test=0))
    layout = RunLayout.at(tmp_path / "run")
    it_dir = layout.workspace / "artifacts" / "iter_000"
    it_dir.mkdir(parents=True)
    (it_dir / "train.py").write_text(SNOOP_TRAIN)
    (it_dir / "inference.py").write_text(SNOOP_INFER)
    # the snooping script does find labels in a folder that has them
    (tmp_path / "labelled").mkdir()
    (tmp_path / "labelled" / "t.csv").write_bytes((tmp_path / "data" / "train.csv").read_bytes())
    res = subprocess.run([sys.executable, str(it_dir / "inference.py"), "--input", "t.csv", "--output",
                          "p.csv"], cwd=tmp_path / "labelled", capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert set(pd.read_csv(tmp_path / "labelled" / "p.csv")["probability_1"]) == {0.0, 1.0}

    journal = RunJournal(run_id="t", settings=RunSettings(), task=task)
    d = "artifacts/iter_000"
    steps = [StepRecord(name="training", status="done",
                        output={"train_script": f"{d}/train.py", "model_dir": f"{d}/model"}),
             StepRecord(name="inference", status="done", output={"inference_script": f"{d}/inference.py"})]
    it = IterationRecord(index=0, steps=steps)
    try:
        sandbox = make_sandbox("bwrap")
    except SandboxUnavailable as err:
        tool_unusable(f"the bwrap sandbox cannot run here: {err}")
    scores = cross_validate(layout, journal, it, sandbox, time_left=lambda: 600.0)
    assert scores["auroc"] == [0.5] * 5
    assert not list(layout.root.glob(".fold-*"))  # every fold's workspace is gone
