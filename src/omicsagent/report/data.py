"""Everything a report shows, gathered from a run directory once, with what is missing written down.

``gather`` never raises for partial runs: a missing predictions file, validation file or model becomes a
sentence in ``RunData.missing`` and the section that needed it says so. Only a missing or corrupted journal
is an error (``RunStateError`` from ``RunJournal.load``), because then there is no run to report on.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omicsagent.agent.journal import IterationRecord, RunJournal, Usage
from omicsagent.agent.layout import RunLayout
from omicsagent.agent.lock import run_status
from omicsagent.report.importance import importance_meaning, top_features
from omicsagent.tasks.io import read_table

MAX_HYPERPARAMETERS = 4


@dataclass
class BestPredictions:
    """The best iteration's validation predictions lined up with the validation labels."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None  # columns follow ``classes``; None for regression
    classes: list[str] | None  # class labels as strings (as in ``probability_<class>``)


@dataclass
class RunData:
    run_dir: Path  # absolute (the layout's root)
    journal: RunJournal
    best: IterationRecord | None
    predictions: BestPredictions | None = None
    per_label: list[list[str]] | None = None  # multilabel: [label, measured, positives, AUROC, AUPRC] rows
    importances: list[tuple[str, float]] | None = None  # top features, largest first
    importance_meaning: str = ""  # what the importance values are, as the model recorded it
    train_flags: list[str] = field(default_factory=list)  # the options best/train.py accepts
    missing: list[str] = field(default_factory=list)  # one sentence per missing piece

    @property
    def metric(self):
        return self.journal.metric

    @property
    def layout(self) -> RunLayout:
        return RunLayout.at(self.run_dir)

    @property
    def status(self) -> str:
        """The journal's status, or ``stale`` for a run whose process died."""
        return run_status(self.layout, self.journal.status)


def gather(run_dir: Path | RunLayout, *, max_features: int = 20) -> RunData:
    layout = RunLayout.at(run_dir)
    journal = RunJournal.load(layout)
    data = RunData(run_dir=layout.root, journal=journal, best=journal.best_iteration)
    if not journal.iterations:
        data.missing.append("The run has no iterations yet.")
    elif data.best is None:
        data.missing.append(
            "No iteration has succeeded yet, so there is no best model to describe."
            if journal.status == "running"
            else "No iteration succeeded, so there is no best model to describe."
        )
    if data.best is not None:
        if journal.task.labels:
            data.per_label = _per_label_rows(layout, journal, data.best, data.missing)
        else:
            data.predictions = _best_predictions(layout, journal, data.best, data.missing)
        data.importances = top_features(layout.best / "model", trusted=set(journal.brains) == {"expert"},
                                        max_features=max_features, missing=data.missing)
        if data.importances:
            data.importance_meaning = importance_meaning(layout.best / "model")
        train_py = layout.best / "train.py"
        if train_py.exists():
            data.train_flags = script_flags(train_py.read_text(errors="replace"))
        for name in ("train.py", "inference.py", "requirements.txt"):
            if not (layout.best / name).exists():
                data.missing.append(
                    f"best/{name} is missing, so the best model cannot be rerun from this folder as is."
                )
    return data


PER_LABEL_HEADER = ["label", "validation rows measured", "positives", "AUROC", "AUPRC"]


def _per_label_rows(layout: RunLayout, journal: RunJournal, best: IterationRecord,
                    missing: list[str]) -> list[list[str]] | None:
    """Multi-label: the best iteration's validation AUROC/AUPRC per label, each on its measured rows.
    ROC and calibration plots are per-class pictures, so they are skipped (said in ``missing``)."""
    from omicsagent.ml.metrics import per_label_scores

    labels = journal.task.labels or []
    missing.append("Multi-label task: ROC, precision-recall and calibration plots are skipped; the per-label "
                   "table gives each label's validation AUROC and AUPRC.")
    valid_path = validation_labels_path(layout, journal)
    pred_path = layout.files_at(best.dir).validation_predictions
    if valid_path is None or not valid_path.exists() or not pred_path.exists():
        missing.append(
            "The validation labels or the best predictions are missing, so the per-label table is skipped."
        )
        return None
    try:
        valid, pred = read_table(valid_path), read_table(pred_path)
        truth = valid[labels].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        proba = pred[[f"probability_{c}" for c in labels]].to_numpy(float)
        scores = per_label_scores(truth, proba)
    except Exception as err:  # noqa: BLE001 - an unreadable file becomes a note, not a crash
        missing.append(f"The validation labels or predictions cannot be read ({type(err).__name__}), so the "
                       f"per-label table is skipped.")
        return None
    return [[name, str(r["n"]), str(r["positives"]), fmt_metric(r["auroc"]), fmt_metric(r["auprc"])]
            for name, r in zip(labels, scores)]


def _best_predictions(layout: RunLayout, journal: RunJournal, best: IterationRecord,
                      missing: list[str]) -> BestPredictions | None:
    task = journal.task
    run_dir = layout.root
    valid_path = validation_labels_path(layout, journal)
    if valid_path is None:
        missing.append("The journal records no validation split, so validation plots are skipped.")
        return None
    pred_path = layout.files_at(best.dir).validation_predictions
    for path, what in (
        (valid_path, "validation file"),
        (pred_path, "best iteration's validation predictions"),
    ):
        if not path.exists():
            missing.append(f"The {what} ({_rel(path, run_dir)}) is missing, so validation plots are skipped.")
            return None
    try:
        valid = read_table(valid_path)
        pred = read_table(pred_path)
    except Exception as err:  # noqa: BLE001 - any unreadable file becomes a note, not a crash
        missing.append(
            f"The validation labels or predictions cannot be read ({type(err).__name__}), "
            "so validation plots are skipped."
        )
        return None
    if task.target not in valid.columns or "prediction" not in pred.columns or len(valid) != len(pred):
        missing.append(
            f"{_rel(pred_path, run_dir)} does not line up with the validation file "
            f"({len(pred)} vs {len(valid)} rows, or a missing column), so validation plots are skipped."
        )
        return None
    if task.task_type == "regression":
        y_true = pd.to_numeric(valid[task.target], errors="coerce").to_numpy(float)
        y_pred = pd.to_numeric(pred["prediction"], errors="coerce").to_numpy(float)
        ok = np.isfinite(y_true) & np.isfinite(y_pred)
        return BestPredictions(y_true=y_true[ok], y_pred=y_pred[ok], proba=None, classes=None)
    classes = [str(c) for c in (task.classes or [])]
    cols = [f"probability_{c}" for c in classes]
    proba = None
    if classes and all(c in pred.columns for c in cols):
        proba = pred[cols].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(float)
    else:
        missing.append(
            "The best predictions have no probability_<class> columns, so ROC, precision-recall and "
            "calibration plots are skipped."
        )
    return BestPredictions(y_true=valid[task.target].astype(str).to_numpy(),
                           y_pred=pred["prediction"].astype(str).to_numpy(), proba=proba, classes=classes)


def validation_labels_path(run_dir: Path | RunLayout, journal: RunJournal) -> Path | None:
    """The labelled validation file: the harness's private copy (what was scored), else the split's file."""
    layout = RunLayout.at(run_dir)
    private = layout.private_labels("validation")
    if private.exists():
        return private
    return None if journal.split is None else layout.run_path(journal.split.validation_path)


def script_flags(text: str) -> list[str]:
    """The ``--options`` an argparse script declares, in order (to print a rerun command)."""
    seen: list[str] = []
    for m in re.finditer(r"add_argument\(\s*[\"'](--[\w-]+)[\"']", text):
        if m.group(1) not in seen and m.group(1) != "--help":
            seen.append(m.group(1))
    return seen


def _rel(path: Path, run_dir: Path) -> str:
    try:
        return str(path.relative_to(run_dir))
    except ValueError:
        return str(path)


# ----- small formatting shared by the HTML and Markdown writers -----

def fmt_metric(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4f}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def fmt_cost(usage: Usage) -> str:
    """'unknown' when the price is unknown, '-' when no model request was made (offline brain)."""
    if usage.requests == 0:
        return "-"
    if usage.cost_usd is None:
        return "unknown"
    return f"${usage.cost_usd:.4f}"


def fmt_hyperparameters(params: dict[str, Any], *, limit: int = MAX_HYPERPARAMETERS) -> str:
    parts = [f"{k}={_short(v)}" for k, v in list(params.items())[:limit]]
    if len(params) > limit:
        parts.append(f"+{len(params) - limit} more")
    return ", ".join(parts) or "-"


def _short(value: Any, width: int = 24) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def main_instruction(it: IterationRecord) -> str:
    """The reflection's headline: its first non-empty instruction, else its assessment."""
    for text in it.instructions.values():
        if text and text.strip():
            return text.strip()
    step = it.step("reflection")
    if step is not None:
        return str(step.output.get("assessment", "")).strip()
    return ""


def iteration_rows(journal: RunJournal) -> list[dict[str, str]]:
    """One plain row per iteration, the same for HTML and Markdown."""
    name = journal.task.metric
    best = journal.best_iteration
    rows = []
    for it in journal.iterations:
        failure = (
            it.failure or next((s.error for s in it.steps if s.status == "failed" and s.error), "") or ""
        )
        rows.append({
            "#": str(it.index) + (" (best)" if best is not None and it.index == best.index else ""),
            "status": it.status,
            "representation": it.representation or "-",
            "model": it.model or "-",
            "hyperparameters": fmt_hyperparameters(it.hyperparameters),
            "train": fmt_metric(it.train_metrics.get(name)),
            "validation": fmt_metric(it.validation_metrics.get(name)),
            "duration": fmt_duration(it.duration_s),
            "cost": fmt_cost(it.usage),
            "failure": failure_summary(failure),
            "next instruction": _first_line(main_instruction(it)),
            # small data: the selection score (last, so the other columns keep their places)
            **({"cross-validation": (f"{fmt_metric(journal.primary(it))} ± {fmt_metric(journal.spread(it))}"
                                     if it.cv_metrics.get(name) else "-")}
               if any(i.cv_metrics for i in journal.iterations) else {}),
        })
    return rows


def failure_summary(text: str, *, width: int = 200) -> str:
    """One line for a failure: its first line, plus the exception line when a traceback follows."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    head = lines[0]
    if len(lines) > 1 and "Traceback (most recent call last)" in head:
        head = head.replace("Traceback (most recent call last):", "").rstrip() + " " + lines[-1]
    return _first_line(head, width=width)


def _first_line(text: str, width: int = 200) -> str:
    line = text.strip().splitlines()[0] if text and text.strip() else ""
    return line if len(line) <= width else line[: width - 3] + "..."
