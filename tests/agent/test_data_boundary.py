"""The data the agent sees is the data the task says: through the real CLI and the real loop and sandbox.

- a tab-separated file named train.csv trains end to end (one table reader everywhere);
- --drop-missing-target reaches the files in the workspace, not only the counts;
- validation labels never stay in the workspace: a scripted brain that goes looking for them finds none;
- a validation or test file missing a feature column is refused at load time, naming the column.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from omicsagent.agent.harness import RUN_CACHES
from omicsagent.agent.journal import RunSettings
from omicsagent.agent.runner import start_run
from omicsagent.brains.expert import ExpertBrain
from omicsagent.errors import ModelMistake
from omicsagent.tasks import load_task
from omicsagent.testing import ScriptedBrain, make_motif_task

EXE = [sys.executable, "-m", "omicsagent"]


def cli(*args: str, cwd: Path, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*EXE, *args], check=False, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


@pytest.mark.slow
def test_tab_separated_train_csv_with_missing_targets_trains_end_to_end(tmp_path):
    data = make_motif_task(tmp_path / "data", n=300, n_test=100)
    train = pd.read_csv(data / "train.csv")
    train.loc[[3, 50, 120, 200, 290], "label"] = None  # five rows without a target
    train.to_csv(data / "train.csv", sep="\t", index=False)  # tab-separated, named .csv
    pd.read_csv(data / "test.csv").to_csv(data / "test.csv", sep="\t", index=False)

    res = cli("run", "data", "--drop-missing-target", "--iterations", "1", "--time-budget", "60s", "--quiet",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    (run,) = (tmp_path / "runs").iterdir()
    journal = json.loads((run / "journal.json").read_text())
    assert journal["task"]["n_train"] == 295 and journal["task"]["n_dropped_missing_target"] == 5
    assert any(it["status"] == "succeeded" for it in journal["iterations"])
    assert journal["test_metrics"]["auroc"] > 0.7  # the planted motif is learnt from the tab-separated file
    assert (run / "best" / "inference.py").exists()
    # the rows the agent got and the harness's labels hold no missing target, and add up to the task's rows
    ws = run / "workspace"
    for path in (
        ws / "inputs/train.csv",
        ws / "artifacts/split/train.csv",
        run / ".harness/validation_labeled.csv",
    ):
        assert pd.read_csv(path)["label"].notna().all(), path
    split = journal["split"]
    assert split["n_train"] + split["n_validation"] == 295
    assert len(pd.read_csv(ws / "inputs/train.csv")) == split["n_train"]


# A script a brain could run in the sandbox to get at the validation labels: it knows the validation ids
# (the features are in scoring/) and looks for rows carrying those ids and a label anywhere it can read.
SNOOP = r"""
import json, os, sys
import pandas as pd
run_dir = sys.argv[1]
ids = set(pd.read_csv("scoring/validation_features.csv")["id"])
found, unreadable = [], []
candidates = [os.path.join(root, f) for root, _, files in os.walk(".") for f in files]
private = os.path.join(run_dir, "." + "har" + "ness")
candidates += [os.path.join(private, "validation_labeled.csv"),
               os.path.join(run_dir, "workspace/inputs/validation.csv")]
for path in candidates:
    try:
        df = pd.read_csv(path, sep=None, engine="python")
    except Exception as err:
        unreadable.append(path)
        continue
    if {"id", "label"} <= set(df.columns):
        hits = int(df["id"].isin(ids).sum())
        if hits:
            found.append([path, hits])
json.dump({"n_ids": len(ids), "found": found, "scanned": len(candidates)}, open(sys.argv[2], "w"))
"""


@pytest.mark.slow
@pytest.mark.parametrize("given_validation", [False, True], ids=["brain split", "given validation file"])
def test_a_script_cannot_read_the_validation_labels(tmp_path, given_validation):
    # single-split selection (cv_below_rows=0): the snooping happens in the brain's training step in the
    # run's workspace; what a cross-validation fold can read is tests/agent/test_resample.py
    data = make_motif_task(tmp_path / "data", n=240, n_test=60, validation=60 if given_validation else 0)
    expert = ExpertBrain()
    reports: list[dict] = []

    def snoop_then_train(ctx):
        script = ctx.workspace.artifacts / "snoop.py"
        script.write_text(SNOOP)
        report = ctx.iter_dir / "snoop.json"
        res = ctx.run(["python", ctx.rel(script), str(tmp_path / "run"), ctx.rel(report)])
        if not res.ok:
            raise ModelMistake(res.output[-800:])
        reports.append(json.loads(report.read_text()))
        return expert.run_step(ctx).output

    brain = ScriptedBrain({"training": snoop_then_train}, fallback=expert, max_attempts=1)
    journal = start_run(load_task(data), out_dir=tmp_path / "run", brain=brain,
                        settings=RunSettings(iterations=1, time_budget_s=120, cv_below_rows=0))
    assert reports and reports[0]["n_ids"] == journal.split.n_validation > 0
    assert reports[0]["found"] == [], reports[0]  # no copy of a labelled validation row is readable
    assert reports[0]["scanned"] >= 5
    # ... while the harness scored the iteration with the labels it keeps to itself
    it = journal.iterations[0]
    assert it.status == "succeeded", it.failure
    assert it.validation_metrics["auroc"] > 0.6
    private = pd.read_csv(tmp_path / "run" / ".harness" / "validation_labeled.csv")
    assert len(private) == journal.split.n_validation and "label" in private.columns
    # the expert's look at its validation errors comes from the harness, not from a label file
    pe = it.step("prediction_exploration")
    assert pe.status == "done" and "misclassified" in pe.output["summary"]


@pytest.mark.parametrize("which", ["validation", "test"])
def test_a_split_file_missing_a_feature_column_is_refused_by_name(tmp_path, which):
    data = make_motif_task(tmp_path / "data", n=120, n_test=40, validation=40)
    other = pd.read_csv(data / f"{which}.csv").drop(columns=["sequence"])
    other.to_csv(data / f"{which}.csv", index=False)
    res = cli("run", "data", "--time-budget", "60s", cwd=tmp_path, timeout=120)
    assert res.returncode == 2, res.stderr
    err = " ".join(res.stderr.split())
    assert err.startswith("error:") and "Traceback" not in err
    assert f"{which}.csv" in err and "'sequence'" in err
    assert not (tmp_path / "runs").exists()  # nothing written


def test_a_split_written_to_scratch_is_refused_with_the_reason(tmp_path):
    """scratch/ is emptied when the split is registered, so a split kept there would vanish: refused."""
    from omicsagent.agent.steps import SplitOutput

    def split_in_scratch(ctx):
        df = pd.read_csv(ctx.workspace.root / ctx.train_file)
        df.iloc[:160].to_csv(ctx.workspace.scratch / "train.csv", index=False)
        df.iloc[160:].to_csv(ctx.workspace.scratch / "validation.csv", index=False)
        return SplitOutput(
            method="first 160 rows", train_file="scratch/train.csv", validation_file="scratch/validation.csv"
        )

    expert = ExpertBrain()
    brain = ScriptedBrain({"split": split_in_scratch}, fallback=expert, max_attempts=1)
    journal = start_run(
        load_task(make_motif_task(tmp_path / "data", n=200, n_test=0)),
        out_dir=tmp_path / "run",
        brain=brain,
        settings=RunSettings(iterations=1, time_budget_s=120, cv_below_rows=0),
    )
    split = journal.iterations[0].step("split")
    assert split.status == "failed" and "under artifacts/" in split.error
    assert journal.split.method.startswith("harness fallback")
    assert journal.iterations[0].status == "succeeded", journal.iterations[0].failure
    # the brain's split files are gone; only the run's caches (written later, by the training) remain
    left = {p.name for p in (tmp_path / "run" / "workspace" / "scratch").iterdir()}
    assert left <= set(RUN_CACHES), left
