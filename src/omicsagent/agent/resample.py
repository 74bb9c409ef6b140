"""Small data, honestly: k-fold cross-validation for selection, the refit of the best model on every labelled
row, and bootstrap confidence intervals. All of it is harness work, on the host, with the private labels.

How labels stay hidden. A brain's own code (its steps, in the run's workspace) never sees validation labels
once the split is registered, nor test labels. Cross-validation and the refit re-run the brain's train.py and
inference.py, each fold in a throwaway sandbox workspace of its own that holds only that fold's training rows
(with labels: what the fold allows) and its held-out rows without labels. The harness reads the held-out
predictions, scores them with the labels it keeps, and deletes the workspace; the brain gets back only the
per-fold scores, and a failed fold is reported by its exit status alone (its output, which could quote
training rows, goes to RUN/omicsagent.log, outside the workspace). The refit's workspace yields only the
model folder, which goes to best/, which no brain reads.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.agent import harness
from omicsagent.agent.journal import IterationRecord, Intervals, RefitInfo, RunJournal
from omicsagent.agent.layout import RunLayout
from omicsagent.agent.split import fold_indices
from omicsagent.agent.steps import check_predictions
from omicsagent.errors import ModelMistake
from omicsagent.ml.io import take_rows, write_table
from omicsagent.tasks.task import Task

log = logging.getLogger("omicsagent.agent")
CV_GRACE_MIN_S = 60.0  # cross-validation may run past the budget by max(this, CV_GRACE_SHARE of the budget)
CV_GRACE_SHARE = 0.25
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_LEVEL = 0.95
FOLD_TRAIN = "inputs/train.csv"
FOLD_HELDOUT = "inputs/heldout.csv"
FOLD_PREDICTIONS = "scratch/heldout_predictions.csv"


def labelled_rows(task: Task) -> pd.DataFrame:
    """Every labelled row the run may learn from, in the files' order: the training table, then a given
    validation file. The brain's split partitions the training table, so this is training + validation."""
    parts = [task.table("train")] + ([task.table("validation")] if task.validation_path else [])
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _scripts(it: IterationRecord) -> tuple[str, str, str]:
    """(train.py, model folder, inference.py) of an iteration, workspace-relative."""
    training, inference = it.step("training"), it.step("inference")
    if training is None or inference is None or training.status != "done" or inference.status != "done":
        raise ModelMistake(f"iteration {it.index} has no trained model and inference script to re-run")
    out, inf = training.output, inference.output
    return out["train_script"], out["model_dir"], inf["inference_script"]


def _fold_workspace(layout: RunLayout, it: IterationRecord, train: pd.DataFrame, layer: str | None):
    """A throwaway workspace holding the iteration's scripts (at their paths) and ``train`` as
    inputs/train.csv; returns (temporary folder, workspace)."""
    from omicsagent.sandbox import Workspace

    tmp = Path(tempfile.mkdtemp(prefix=".fold-", dir=layout.root))
    ws = Workspace.create(tmp / "workspace")
    train_script, _, inference_script = _scripts(it)
    for rel in {str(Path(train_script).parent), str(Path(inference_script).parent)}:
        src, dest = layout.ws_path(rel), ws.root / rel
        dest.mkdir(parents=True, exist_ok=True)
        for py in src.glob("*.py"):  # the scripts and any helper module beside them, never a model
            shutil.copy2(py, dest / py.name)
    write_table(train, ws.root / FOLD_TRAIN, layer=layer)
    return tmp, ws


def _limits(it: IterationRecord, wall: float):
    from omicsagent.sandbox import Limits

    return Limits(wall_seconds=max(30.0, wall), memory_mb=8192, output_bytes=20_000)


def _fold_seconds(it: IterationRecord) -> float:
    """A fold's time: what the iteration's training and inference took, with room to spare."""
    spent = sum(s.duration_s for s in it.steps if s.name in ("training", "inference"))
    return 2.0 * spent + 60.0


def cross_validate(layout: RunLayout, journal: RunJournal, it: IterationRecord, sandbox, *,
                   time_left, note=lambda msg: None) -> dict[str, list[float]]:
    """Score iteration ``it`` by k-fold cross-validation on every labelled row: for each fold, its train.py
    fitted on the other folds and its inference.py run on the held-out rows (features only) in a throwaway
    sandbox workspace; returns each metric's score per fold. Raises ``ModelMistake`` when a fold fails."""
    from omicsagent.agent.context import failure_reason

    task, s = journal.task, journal.settings
    rows = labelled_rows(task)
    folds, method = fold_indices(rows, target=task.labels or task.target, task_type=task.task_type,
                                 group=task.group_column, k=s.cv_folds, seed=s.seed)
    train_script, model_dir, inference_script = _scripts(it)
    scores: dict[str, list[float]] = {}
    # An iteration that started finishes its folds, past the budget by at most a grace period (the first
    # scored model of a run always finishes: a run needs one).
    must_finish = journal.best_iteration is None
    grace = max(CV_GRACE_MIN_S, CV_GRACE_SHARE * s.time_budget_s)
    for k, held in enumerate(folds, 1):
        if time_left() <= -grace and not must_finish:
            raise ModelMistake(f"cross-validation stopped at fold {k} of {len(folds)}: time budget reached")
        wall = _fold_seconds(it) if must_finish else min(_fold_seconds(it), time_left() + grace)
        mask = np.zeros(len(rows), bool)
        mask[held] = True
        tmp, ws = _fold_workspace(layout, it, take_rows(rows, ~mask), task.layer)
        try:
            heldout = take_rows(rows, mask)
            write_table(heldout.drop(columns=task.target_columns), ws.root / FOLD_HELDOUT, layer=task.layer)
            mounts, env = harness.model_access(journal, ws, run_workspace=layout.workspace)
            res = sandbox.run(["python", "-m", "omicsagent.agent.foldrun", "--train-script", train_script,
                               "--inference-script", inference_script, "--train", FOLD_TRAIN, "--model",
                               model_dir, "--input", FOLD_HELDOUT, "--output", FOLD_PREDICTIONS],
                              workspace=ws, cwd=".", limits=_limits(it, wall),
                              env={"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", **env},
                              extra_ro_mounts=mounts)
            if not res.ok:
                log.warning("cross-validation fold %d of iteration %d failed; its output ends with:\n%s",
                            k, it.index, res.output[-1500:])
                raise ModelMistake(f"cross-validation fold {k} of {len(folds)} failed "
                                   f"({failure_reason(res)}): train.py must accept --train FILE --out "
                                   "MODEL_DIR and inference.py --input X --output Y")
            pred = check_predictions(harness.own_file(ws.root / FOLD_PREDICTIONS, ws.root), task,
                                     n_rows=len(heldout))
            truth = heldout[task.labels] if task.labels else heldout[task.target]
            for name, value in harness.metrics_from_predictions(task, truth, pred).items():
                scores.setdefault(name, []).append(float(value))
            harness.keep_fits(ws, layout.workspace)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    folds_text = ", ".join(f"{v:.4f}" for v in scores.get(task.metric, []))
    note(f"{method} cross-validation of iteration {it.index}: {task.metric} per fold {folds_text}")
    return scores


def refit(layout: RunLayout, journal: RunJournal, sandbox) -> RefitInfo | None:
    """Re-run the best iteration's train.py on every labelled row, in a throwaway sandbox workspace; the
    model goes to ``layout.refit_model`` (``harness.promote`` puts it in best/). A failure keeps the model
    fitted on the training split and says why."""
    from omicsagent.agent.context import failure_reason

    best = journal.best_iteration
    if best is None:
        return None
    rows = labelled_rows(journal.task)
    t = time.monotonic()
    train_script, model_dir, _ = _scripts(best)
    tmp, ws = _fold_workspace(layout, best, rows, journal.task.layer)
    try:
        mounts, env = harness.model_access(journal, ws, run_workspace=layout.workspace)
        spent = sum(s.duration_s for s in best.steps if s.name == "training")
        res = sandbox.run(["python", train_script, "--train", FOLD_TRAIN, "--out", model_dir], workspace=ws,
                          cwd=".", limits=_limits(best, 3.0 * spent + 120.0),
                          env={"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", **env}, extra_ro_mounts=mounts)
        model = ws.root / model_dir
        if not res.ok or not model.is_dir() or model.is_symlink():
            why = failure_reason(res) if not res.ok else "train.py wrote no model folder"
            log.warning("the refit of iteration %d failed (%s); its output ends with:\n%s", best.index, why,
                        res.output[-1500:])
            shutil.rmtree(layout.refit_model, ignore_errors=True)
            return RefitInfo(iteration=best.index, n_rows=len(rows), status="failed", reason=why,
                             duration_s=time.monotonic() - t)
        shutil.rmtree(layout.refit_model, ignore_errors=True)
        layout.refit_model.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(model, layout.refit_model, symlinks=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return RefitInfo(iteration=best.index, n_rows=len(rows), status="done", duration_s=time.monotonic() - t)


def bootstrap_interval(task: Task, truth: pd.Series | pd.DataFrame, pred: pd.DataFrame, *, seed: int,
                       resamples: int = BOOTSTRAP_RESAMPLES,
                       level: float = BOOTSTRAP_LEVEL) -> list[float] | None:
    """Percentile bootstrap interval of the task's metric: rows drawn with replacement ``resamples`` times
    (seeded), the metric recomputed on each draw, its ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles
    kept. Draws where the metric is undefined (one class drawn) are left out; None when most are."""
    from omicsagent.ml.metrics import get_metric

    metric = get_metric(task.metric)
    _, y, yp, proba, classes = harness.metric_inputs(task, truth, pred)
    rng = np.random.default_rng(seed)
    n = len(y)
    values = []
    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        try:
            v = metric.compute(y[idx], None if yp is None else yp[idx], None if proba is None else proba[idx],
                               classes)
        except ValueError:
            continue
        if v == v:  # not NaN
            values.append(float(v))
    if len(values) < resamples // 2:
        return None
    return [float(np.quantile(values, (1 - level) / 2)), float(np.quantile(values, (1 + level) / 2))]


def intervals(layout: RunLayout, journal: RunJournal) -> Intervals | None:
    """Bootstrap intervals of the best iteration's validation metrics (its predictions on the validation
    split) and of the test metrics (best/'s predictions on the hidden test, when scored)."""
    best, task = journal.best_iteration, journal.task
    if best is None:
        return None
    seed = journal.settings.seed
    out = Intervals(iteration=best.index, resamples=BOOTSTRAP_RESAMPLES, level=BOOTSTRAP_LEVEL, seed=seed)
    valid_pred = layout.files_at(best.dir).validation_predictions
    if valid_pred.exists():
        truth = harness.labels(layout, "validation", task)
        pred = check_predictions(valid_pred, task, n_rows=len(truth))
        if (ci := bootstrap_interval(task, truth, pred, seed=seed)) is not None:
            out.validation[task.metric] = ci
    if journal.test_metrics and journal.test_iteration == best.index and layout.test_predictions.exists():
        test = task.table("test")
        pred = check_predictions(layout.test_predictions, task, n_rows=len(test))
        truth = test[task.labels] if task.labels else test[task.target]
        if (ci := bootstrap_interval(task, truth, pred, seed=seed)) is not None:
            out.test[task.metric] = ci
    return out
