"""The loop through the real sandbox, driven by a scripted brain that writes plain scikit-learn scripts."""
from __future__ import annotations

import json
import re
import time

import pandas as pd
import pytest

from omicsagent.agent.journal import RunJournal, RunSettings
from omicsagent.agent.runner import resume_run, start_run
from omicsagent.agent.steps import (ArchitectureOutput, ExplorationOutput, InferenceOutput,
                                    PredictionExplorationOutput, ReflectionOutput, RepresentationOutput,
                                    SplitOutput, TrainingOutput)
from omicsagent.errors import ModelMistake, RunStateError
from omicsagent.tasks import load_task
from omicsagent.testing import ScriptedBrain, make_motif_task

TRAIN = """
import argparse, joblib, pandas as pd
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
p = argparse.ArgumentParser(); p.add_argument("--train"); p.add_argument("--out"); a = p.parse_args()
df = pd.read_csv(a.train)
model = make_pipeline(CountVectorizer(analyzer="char", ngram_range=(NGRAM, 6)), \
LogisticRegression(C=0.5, max_iter=500))
model.fit(df["sequence"], df["label"])
import os; os.makedirs(a.out, exist_ok=True); joblib.dump(model, a.out + "/model.joblib")
"""
INFER = '''
import argparse, joblib, pandas as pd
from pathlib import Path
p = argparse.ArgumentParser(); p.add_argument("--input"); p.add_argument("--output"); a = p.parse_args()
model = joblib.load(Path(__file__).parent / "model" / "model.joblib")
df = pd.read_csv(a.input)
proba = model.predict_proba(df["sequence"])
out = pd.DataFrame({"prediction": model.classes_[proba.argmax(1)]})
for i, c in enumerate(model.classes_):
    out[f"probability_{c}"] = proba[:, i]
out.to_csv(a.output, index=False)
'''


def training(ctx):
    script = ctx.iter_dir / "train.py"
    # iteration 1 writes a broken script: the iteration must fail, the run must go on
    script.write_text(
        "this is not python\n" if ctx.iteration == 1 else TRAIN.replace("NGRAM", str(3 + ctx.iteration))
    )
    res = ctx.run(
        ["python", ctx.rel(script), "--train", ctx.train_file, "--out", ctx.rel(ctx.iter_dir / "model")]
    )
    if not res.ok:
        raise ModelMistake(f"train.py failed: {res.output[-300:]}")
    return TrainingOutput(train_script=ctx.rel(script), model_dir=ctx.rel(ctx.iter_dir / "model"))


def inference(ctx):
    (ctx.iter_dir / "inference.py").write_text(INFER)
    return InferenceOutput(inference_script=ctx.rel(ctx.iter_dir / "inference.py"))


def split(ctx):
    df = pd.read_csv(ctx.workspace.root / ctx.train_file)
    out = ctx.workspace.artifacts / "split"
    out.mkdir(exist_ok=True)
    df.iloc[: int(len(df) * 0.8)].to_csv(out / "train.csv", index=False)
    df.iloc[int(len(df) * 0.8):].to_csv(out / "validation.csv", index=False)
    return SplitOutput(method="first 80% / last 20%", train_file="artifacts/split/train.csv",
                       validation_file="artifacts/split/validation.csv")


def brain(**overrides):
    steps = {
        "exploration": lambda ctx: ExplorationOutput(summary="motif data"),
        "split": split,
        "representation": lambda ctx: RepresentationOutput(
            name=f"char {3 + ctx.iteration}-6-grams", description="k-mers"
        ),
        "architecture": lambda ctx: ArchitectureOutput(
            name="logistic regression", description="linear", hyperparameters={"C": 0.5}
        ),
        "training": training,
        "inference": inference,
        "prediction_exploration": lambda ctx: PredictionExplorationOutput(summary="ok"),
        "reflection": lambda ctx: ReflectionOutput(
            assessment="fine", instructions={"training": "keep going"}
        ),
    }
    steps.update(overrides)
    return ScriptedBrain(steps, max_attempts=2)


def settings(**kw) -> RunSettings:
    """Run settings on the single validation split: these 300-row runs are below the k-fold threshold, and
    nothing here is about k-fold selection (that is tests/agent/test_small_data_e2e.py, through the CLI)."""
    return RunSettings(cv_below_rows=0, **kw)


@pytest.fixture
def task(tmp_path):
    return load_task(make_motif_task(tmp_path / "data", n=300, n_test=120))


def test_run_survives_a_failing_iteration_and_promotes_the_best(task, tmp_path):
    out = tmp_path / "run"
    b = brain()
    journal = start_run(task, out_dir=out, settings=settings(iterations=3, time_budget_s=300), brain=b)
    assert [it.status for it in journal.iterations] == ["succeeded", "failed", "succeeded"]
    assert journal.status_reason == "iteration cap reached: 3 of 3 iterations done"
    assert "train.py failed" in journal.iterations[1].failure
    assert ("training", 1, 2) in b.calls  # the mistake was shown to the brain once more
    best = journal.best_iteration
    assert best is not None and journal.primary(best) > 0.8
    assert (out / "best" / "inference.py").exists() and (out / "best" / "model" / "model.joblib").exists()
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert metrics["iteration"] == best.index and metrics["test"]["auroc"] == journal.test_metrics["auroc"]
    assert journal.test_metrics["auroc"] > 0.8
    assert journal.split.n_train + journal.split.n_validation == 300
    # the journal on disk is the journal returned
    assert RunJournal.load(out).model_dump() == journal.model_dump()


def test_the_run_says_why_it_stopped(task, tmp_path):
    def slow_training(ctx):
        time.sleep(8)
        return training(ctx)

    j = start_run(task, out_dir=tmp_path / "a", settings=settings(iterations=5, time_budget_s=25),
                  brain=brain(training=slow_training))
    assert len(j.iterations) == 1, j.status_reason
    assert re.fullmatch(r"time budget reached: \d+ s of 25 s used, less than 20 s left for another iteration",
                        j.status_reason), j.status_reason
    # a brain that stops says why in its first sentence: that sentence, whole, is the run's reason
    why = "Stopping: plateau: the last 3 iterations improved the best by 0.01% (less than 0.2%). "
    j = start_run(task, out_dir=tmp_path / "b", settings=settings(iterations=5, time_budget_s=300),
                  brain=brain(reflection=lambda ctx: ReflectionOutput(assessment=why + "detail " * 80,
                                                                      instructions={}, stop=True)))
    assert len(j.iterations) == 1
    assert j.status_reason == "the reflection stopped the run: " + why.strip()


def test_hidden_test_file_never_enters_the_workspace(task, tmp_path):
    out = tmp_path / "run"
    start_run(task, out_dir=out, settings=settings(iterations=1, time_budget_s=300), brain=brain())
    test_sequences = set(pd.read_csv(task.test_path)["sequence"])
    for path in (out / "workspace").rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".md", ".txt", ".py", ".log"):
            text = path.read_text(errors="replace")
            assert not any(s in text for s in list(test_sequences)[:50]), path
    assert not list((out / "workspace").rglob("test*.csv"))


def test_failed_split_falls_back_to_the_harness(task, tmp_path):
    def bad_split(ctx):
        raise ModelMistake("cannot split")

    journal = start_run(task, out_dir=tmp_path / "run", settings=settings(iterations=1, time_budget_s=300),
                        brain=brain(split=bad_split))
    assert journal.split.method.startswith("harness fallback")
    assert journal.iterations[0].status == "succeeded"


def test_resume_continues_without_redoing_finished_iterations(task, tmp_path):
    out = tmp_path / "run"
    start_run(task, out_dir=out, settings=settings(iterations=1, time_budget_s=300), brain=brain())
    # simulate a kill -9 in the middle of iteration 1: a "running" record and half-written files
    journal = RunJournal.load(out)
    journal.status = "running"
    journal.settings.iterations = 3
    from omicsagent.agent.journal import IterationRecord

    journal.iterations.append(IterationRecord(index=1, dir="workspace/artifacts/iter_001"))
    (out / "workspace/artifacts/iter_001").mkdir(parents=True)
    (out / "workspace/artifacts/iter_001/junk.txt").write_text("half")
    journal.save(out)
    b = brain()
    journal = resume_run(out, brain=b)
    assert [it.index for it in journal.iterations] == [0, 1, 2]
    assert not (out / "workspace/artifacts/iter_001/junk.txt").exists()
    assert all(it != 0 for _, it, _ in b.calls)  # iteration 0 was not redone
    with pytest.raises(RunStateError, match="already finished"):
        resume_run(out, brain=b)


def test_out_dir_with_a_run_is_refused(task, tmp_path):
    out = tmp_path / "run"
    start_run(task, out_dir=out, settings=settings(iterations=1, time_budget_s=300), brain=brain())
    with pytest.raises(RunStateError, match="omicsagent resume"):
        start_run(task, out_dir=out, settings=settings(iterations=1), brain=brain())


def test_inference_with_wrong_rows_is_corrected(task, tmp_path):
    calls = []

    def sloppy_inference(ctx):
        calls.append(ctx.feedback)
        text = (
            INFER if ctx.attempt > 1 else INFER.replace("out.to_csv(a.output", "out.head(3).to_csv(a.output")
        )
        (ctx.iter_dir / "inference.py").write_text(text)
        return InferenceOutput(inference_script=ctx.rel(ctx.iter_dir / "inference.py"))

    journal = start_run(task, out_dir=tmp_path / "run", settings=settings(iterations=1, time_budget_s=300),
                        brain=brain(inference=sloppy_inference))
    assert journal.iterations[0].status == "succeeded"
    assert "returned 3 rows" in calls[1]


def test_predictions_linked_to_the_private_labels_are_refused(task, tmp_path):
    def cheating_inference(ctx):
        run_dir = str(ctx.workspace.root.parent)
        script = ctx.iter_dir / "inference.py"
        # links the requested output to the harness's labels file (which exists only on the host); the
        # path is assembled at run time, so only the harness's check of what it reads can catch it
        script.write_text(
            "import os, sys\nout = sys.argv[sys.argv.index('--output') + 1]\n"
            "if os.path.lexists(out): os.remove(out)\n"
            f"os.symlink(os.path.join({run_dir!r}, '.' + 'har' + 'ness', 'validation_labeled.csv'), out)\n"
        )
        return InferenceOutput(inference_script=ctx.rel(script))

    journal = start_run(task, out_dir=tmp_path / "run", settings=settings(iterations=1, time_budget_s=300),
                        brain=brain(inference=cheating_inference))
    it = journal.iterations[0]
    assert it.status == "failed" and "is a link" in it.failure
