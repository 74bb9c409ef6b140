"""A report for a run made by the real loop (scripted brain, real sandbox): the layout the loop writes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from omicsagent.agent.journal import RunJournal, RunSettings
from omicsagent.agent.runner import start_run
from omicsagent.agent.steps import (
    ArchitectureOutput,
    ExplorationOutput,
    InferenceOutput,
    PredictionExplorationOutput,
    ReflectionOutput,
    RepresentationOutput,
    SplitOutput,
    TrainingOutput,
)
from omicsagent.errors import ModelMistake, SandboxUnavailable
from omicsagent.report import list_runs, write_report
from omicsagent.tasks import load_task
from omicsagent.testing import ScriptedBrain, make_motif_task, tool_unusable

TRAIN = """import argparse, os, joblib, pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
ap = argparse.ArgumentParser(); ap.add_argument("--train"); ap.add_argument("--out"); args = ap.parse_args()
data = pd.read_csv(args.train)
pipe = make_pipeline(CountVectorizer(analyzer="char", ngram_range=(4, 6)), LogisticRegression(max_iter=300))
pipe.fit(data["sequence"], data["label"])
os.makedirs(args.out, exist_ok=True); joblib.dump(pipe, os.path.join(args.out, "model.joblib"))
"""
INFER = """import argparse, joblib, pandas as pd
from pathlib import Path
ap = argparse.ArgumentParser(); ap.add_argument("--input"); ap.add_argument("--output"); \
args = ap.parse_args()
pipe = joblib.load(Path(__file__).parent / "model" / "model.joblib")
proba = pipe.predict_proba(pd.read_csv(args.input)["sequence"])
out = pd.DataFrame({"prediction": pipe.classes_[proba.argmax(1)]})
for i, c in enumerate(pipe.classes_):
    out[f"probability_{c}"] = proba[:, i]
out.to_csv(args.output, index=False)
"""


def _split(ctx) -> SplitOutput:
    import pandas as pd

    df = pd.read_csv(ctx.workspace.root / ctx.train_file)
    folder = ctx.workspace.artifacts / "split"
    folder.mkdir(exist_ok=True)
    cut = int(len(df) * 0.75)
    df.iloc[:cut].to_csv(folder / "train.csv", index=False)
    df.iloc[cut:].to_csv(folder / "validation.csv", index=False)
    return SplitOutput(method="first 75% / last 25%", train_file="artifacts/split/train.csv",
                       validation_file="artifacts/split/validation.csv")


def _training(ctx) -> TrainingOutput:
    script = ctx.iter_dir / "train.py"
    script.write_text(TRAIN if ctx.iteration == 0 else "raise SystemExit('out of ideas')\n")
    res = ctx.run(
        ["python", ctx.rel(script), "--train", ctx.train_file, "--out", ctx.rel(ctx.iter_dir / "model")]
    )
    if not res.ok:
        raise ModelMistake(f"train.py failed: {res.output[-200:]}")
    return TrainingOutput(train_script=ctx.rel(script), model_dir=ctx.rel(ctx.iter_dir / "model"))


def _inference(ctx) -> InferenceOutput:
    (ctx.iter_dir / "inference.py").write_text(INFER)
    return InferenceOutput(inference_script=ctx.rel(ctx.iter_dir / "inference.py"))


@pytest.mark.slow
def test_report_of_a_real_loop_run(tmp_path: Path) -> None:
    task = load_task(make_motif_task(tmp_path / "data", n=240, n_test=80))
    brain = ScriptedBrain(
        {
            "exploration": lambda ctx: ExplorationOutput(summary="motif data"),
            "split": _split,
            "representation": lambda ctx: RepresentationOutput(
                name="char 4-6-grams", description="k-mer counts"
            ),
            "architecture": lambda ctx: ArchitectureOutput(
                name="logistic regression", description="linear", hyperparameters={"max_iter": 300}
            ),
            "training": _training,
            "inference": _inference,
            "prediction_exploration": lambda ctx: PredictionExplorationOutput(summary="ok"),
            "reflection": lambda ctx: ReflectionOutput(
                assessment="fits well", instructions={"architecture": "try a GBM"}
            ),
        },
        max_attempts=1,
    )
    out = tmp_path / "runs" / "motif"
    try:
        journal = start_run(
            task,
            out_dir=out,
            # the single validation split (cv_below_rows=0): this test reads the split's figures in the report
            settings=RunSettings(brain="scripted", iterations=2, time_budget_s=300, cv_below_rows=0),
            brain=brain,
        )
    except SandboxUnavailable as err:
        tool_unusable(f"the bwrap sandbox cannot run here: {err}")  # a failure under CI=true
    assert [it.status for it in journal.iterations] == ["succeeded", "failed"]

    paths = write_report(out)
    html, md = paths["html"].read_text(), paths["md"].read_text()
    assert re.findall(r'<figure id="fig-([\w-]+)">', html) == [
        "metric_history",
        "roc_pr",
        "confusion",
        "calibration",
    ]
    assert "validation plots are skipped" not in md
    j = RunJournal.load(out)
    assert f"validation AUROC {j.iterations[0].validation_metrics['auroc']:.4f}" in md
    assert f"| AUROC (higher is better) * | {j.test_metrics['auroc']:.4f} |" in md
    assert "train.py failed: out of ideas" in md and "try a GBM" in md
    assert "python best/train.py --train workspace/artifacts/split/train.csv --out best/model" in md
    [summary] = list_runs(tmp_path / "runs")
    assert (
        summary.best_validation == j.iterations[0].validation_metrics["auroc"]
        and summary.test == j.test_metrics["auroc"]
    )
