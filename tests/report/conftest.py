"""Runs built on disk the way the loop writes them (finished, partial, priced), for the report tests.

With pytest's importlib mode a test cannot import a sibling module, so the builder is a fixture."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.agent.journal import (IterationRecord, RunJournal, RunSettings, SplitInfo, StepRecord,
                                      Usage)
from omicsagent.ml.metrics import evaluate
from omicsagent.tasks.task import load_task


def _dataset(folder: Path, *, kind: str, n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    seqs = ["".join(rng.choice(list("ACGT"), size=40)) for _ in range(n)]
    gc = np.array([(s.count("G") + s.count("C")) / len(s) for s in seqs])
    noise = rng.normal(size=n)
    df = pd.DataFrame({"sample_id": [f"s{i:04d}" for i in range(n)], "sequence": seqs,
                       "score": gc * 3 + noise * 0.5, "batch": rng.choice(["b1", "b2", "b3"], size=n)})
    if kind == "binary":
        df["label"] = (gc + 0.05 * noise > np.median(gc)).astype(int)
    elif kind == "multiclass":
        df["label"] = np.array(["low", "mid", "high"])[np.digitize(gc + 0.05 * noise, np.quantile(gc, [1 / 3, 2 / 3]))]
    else:
        df["label"] = 10 * gc + noise
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / "train.csv", index=False)
    return df


def _predictions(task, valid: pd.DataFrame, *, quality: float, rng) -> pd.DataFrame:
    y = valid[task.target].to_numpy()
    if task.task_type == "regression":
        return pd.DataFrame({"prediction": y * quality + rng.normal(scale=1 - quality + 0.1, size=len(y))})
    classes = task.classes
    onehot = np.array([[float(v == c) for c in classes] for v in y])
    logits = 4 * quality * onehot + rng.normal(size=onehot.shape)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    out = pd.DataFrame({"prediction": [classes[i] for i in proba.argmax(axis=1)]})
    for i, c in enumerate(classes):
        out[f"probability_{c}"] = proba[:, i]
    return out


def _build_run(root: Path, *, kind: str = "binary", name: str | None = None, iterations=(0.3, 0.7, None, 0.5),
              test: bool = True, brain: str = "expert", usage: Usage | None = None, seed: int = 0) -> Path:
    """A finished run: one iteration per entry of ``iterations`` (prediction quality; None = failed)."""
    name = name or f"gen_{kind}"
    data_dir = root / "datasets" / name
    df = _dataset(data_dir, kind=kind, seed=seed)
    task = load_task(data_dir, overrides=None)
    run_dir = root / "runs" / name
    (run_dir / "split").mkdir(parents=True)
    cut = int(len(df) * 0.8)
    df.iloc[:cut].to_csv(run_dir / "split" / "train.csv", index=False)
    valid = df.iloc[cut:].reset_index(drop=True)
    valid.to_csv(run_dir / "split" / "validation.csv", index=False)
    rng = np.random.default_rng(seed)
    records = []
    for i, quality in enumerate(iterations):
        it_dir = run_dir / "iterations" / f"{i:02d}"
        it_dir.mkdir(parents=True)
        rec = IterationRecord(index=i, representation=f"k-mer {i + 2}", model=["logistic", "LightGBM"][i % 2],
                              hyperparameters={"learning_rate": 0.05 * (i + 1), "n_estimators": 100 * (i + 1),
                                               "max_depth": 4, "subsample": 0.8, "seed": 0},
                              summary=f"iteration {i} tried k={i + 2}", dir=f"iterations/{i:02d}",
                              duration_s=12.5 + i, usage=usage or Usage())
        if quality is None:
            rec.status, rec.failure = "failed", "training timed out after 60 s"
            rec.steps = [StepRecord(name="training", status="failed", error="timed out after 60 s")]
        else:
            pred = _predictions(task, valid, quality=quality, rng=rng)
            pred.to_csv(it_dir / "validation_predictions.csv", index=False)
            proba = pred[[f"probability_{c}" for c in task.classes]].to_numpy() if task.classes else None
            rec.status = "succeeded"
            rec.validation_metrics = evaluate(task.task_type, valid[task.target].to_numpy(), pred["prediction"].to_numpy(),
                                              proba, task.classes)
            rec.train_metrics = {k: v * 0.9 if k in ('rmse', 'mae', 'log_loss') else min(1.0, v + 0.05)
                                 for k, v in rec.validation_metrics.items()}
            rec.instructions = {"architecture": f"after iteration {i}: add regularisation", "training": "stop earlier"}
            rec.steps = [StepRecord(name="reflection", status="done",
                                    output={"assessment": f"iteration {i} overfits", "instructions": rec.instructions})]
        records.append(rec)
    journal = RunJournal(run_id=f"{name}-run", status="finished", elapsed_s=75.0,
                         settings=RunSettings(brain=brain, iterations=len(iterations), sandbox="local"),
                         task=task, iterations=records,
                         split=SplitInfo(method="stratified shuffle", train_path="split/train.csv",
                                         validation_path="split/validation.csv", n_train=cut,
                                         n_validation=len(valid), stratified=True))
    best = journal.best_iteration
    if best is not None:
        (run_dir / "best" / "model").mkdir(parents=True)
        (run_dir / "best" / "model" / "model.bin").write_bytes(b"not a real model")
        (run_dir / "best" / "train.py").write_text(
            "import argparse\np = argparse.ArgumentParser()\np.add_argument('--train')\np.add_argument('--model-dir')\n")
        (run_dir / "best" / "inference.py").write_text("import argparse\n")
        (run_dir / "best" / "requirements.txt").write_text("numpy==2.4.6\n")
        (run_dir / "best" / "metrics.json").write_text(json.dumps(best.validation_metrics))
        if test:
            journal.test_metrics = {k: v * 0.97 for k, v in best.validation_metrics.items()}
            journal.test_iteration = best.index
    journal.save(run_dir)
    return run_dir


@pytest.fixture
def build_run():
    """The run builder: ``build_run(root, *, kind="binary", name=None, iterations=..., ...) -> run dir``."""
    return _build_run


@pytest.fixture
def binary_run(tmp_path: Path) -> Path:
    return _build_run(tmp_path, kind="binary")

