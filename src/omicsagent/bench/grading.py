"""Grading: outside any sandbox, on the submission file only.

1. Validation (ours, for every task): the file is a plain table with the declared columns, one row per
   test row, every test id exactly once, no missing values in the declared columns. Anything else scores
   0 with the reason. Rows are then put in the answers' order.
2. The raw score: the task's own ``grade.py`` (``grade(submission, answers) -> float``) when it has one,
   run in a separate Python process (see "trust model" in docs/bench.md); otherwise the declared metric
   from ``omicsagent.ml.metrics`` on the ``prediction`` / ``probability_<class>`` columns.
3. The normalised score (``omicsagent.bench.normalise``).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.bench.normalise import normalise
from omicsagent.bench.task import BenchTask
from omicsagent.errors import InputError
from omicsagent.ml.metrics import get_metric
from omicsagent.tasks.io import read_table

MAX_SUBMISSION_BYTES = 2 << 30
GRADER_TIMEOUT_S = 900.0


@dataclass
class Grade:
    valid: bool
    raw: float | None = None  # the metric as the task defines it
    score: float = 0.0  # normalised to 0..1 (0 when invalid)
    reason: str | None = None  # why the submission is invalid

    def to_dict(self) -> dict:
        return asdict(self)


class InvalidSubmission(Exception):
    """A submission that cannot be scored; the message says why."""


def canon(value) -> str:
    """A label as text, so 1, 1.0 and "1" are the same class."""
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (np.integer,)):
        return str(int(value))
    return str(value)


def read_answers(task: BenchTask) -> pd.DataFrame:
    return read_table(task.answers)


def validate_submission(task: BenchTask, path: Path, answers: pd.DataFrame) -> pd.DataFrame:
    """The submission with its rows in the answers' order; raises ``InvalidSubmission`` with the reason."""
    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise InvalidSubmission(f"{path.name} is a link or not a regular file")
    if not path.exists():
        raise InvalidSubmission(f"no {path.name} was written")
    if path.stat().st_size > MAX_SUBMISSION_BYTES:
        raise InvalidSubmission(f"{path.name} is larger than {MAX_SUBMISSION_BYTES >> 30} GB")
    try:
        sub = read_table(path)
    except InputError as err:
        raise InvalidSubmission(str(err)) from None
    missing = [c for c in task.submission_columns if c not in sub.columns]
    if missing:
        raise InvalidSubmission(f"the submission lacks the column(s) {', '.join(map(repr, missing))} "
                                f"(expected {', '.join(task.submission_columns)})")
    if len(sub) != len(answers):
        raise InvalidSubmission(f"the submission has {len(sub)} rows; the test set has {len(answers)}")
    idc = task.id_column
    ids = sub[idc].map(canon)
    if ids.duplicated().any():
        raise InvalidSubmission(f"the id {ids[ids.duplicated()].iloc[0]!r} appears more than once")
    want = answers[idc].map(canon)
    unknown = sorted(set(ids) - set(want))
    if unknown:
        raise InvalidSubmission(f"{len(unknown)} id(s) are not test ids (e.g. {unknown[0]!r})")
    nan_cols = [c for c in task.submission_columns if sub[c].isna().any()]
    if nan_cols:
        raise InvalidSubmission(f"missing values (NaN) in {', '.join(map(repr, nan_cols))}")
    order = pd.Series(np.arange(len(sub)), index=ids.to_numpy())
    return sub.iloc[order.loc[want.to_numpy()].to_numpy()].reset_index(drop=True)


def _numeric(sub: pd.DataFrame, col: str) -> np.ndarray:
    values = pd.to_numeric(sub[col], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise InvalidSubmission(f"column {col!r} must hold finite numbers")
    return values


def builtin_score(task: BenchTask, sub: pd.DataFrame, answers: pd.DataFrame) -> float:
    """The declared omicsagent metric on an aligned submission."""
    m = get_metric(task.metric)
    if task.labels:  # multi-label: each label scored on its measured rows
        proba = np.column_stack([_numeric(sub, f"probability_{c}") for c in task.labels])
        if (proba < 0).any() or (proba > 1).any():
            raise InvalidSubmission("probabilities must lie between 0 and 1")
        y_true = answers[task.labels].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        return m.compute(y_true, None, proba, list(task.labels))
    if task.task_type == "regression":
        return m.compute(answers[task.target].to_numpy(dtype=float), _numeric(sub, "prediction"))
    classes = [canon(c) for c in task.classes or []]
    y_true = np.array([canon(v) for v in answers[task.target]])
    y_pred = np.array([canon(v) for v in sub["prediction"]])
    bad = sorted(set(y_pred) - set(classes))
    if bad:
        raise InvalidSubmission(f"'prediction' holds {bad[0]!r}, which is not a class ({', '.join(classes)})")
    proba = None
    if m.needs_proba:
        proba = np.column_stack([_numeric(sub, f"probability_{c}") for c in task.classes or []])
        if (proba < 0).any() or (proba > 1).any():
            raise InvalidSubmission("probabilities must lie between 0 and 1")
    return m.compute(y_true, y_pred, proba, classes)


def _grader_env() -> dict[str, str]:
    from omicsagent.sandbox import is_secret_name

    return {k: v for k, v in os.environ.items() if not is_secret_name(k)}


def run_grader(
    task: BenchTask, submission: Path, answers_path: Path, *, timeout_s: float = GRADER_TIMEOUT_S
) -> float:
    """Call the task's ``grade.py`` in a separate process; ``InvalidSubmission`` when it rejects the file."""
    with tempfile.TemporaryDirectory(prefix="omicsagent-grade-") as tmp:
        out = Path(tmp) / "grade.json"
        argv = [
            sys.executable,
            "-m",
            "omicsagent.bench._taskcode",
            "grade",
            task.grader,
            task.grade_fn,
            str(submission),
            str(answers_path),
            str(out),
            *task.grader_paths,
        ]
        try:
            res = subprocess.run(
                argv,
                check=False,
                cwd=str(Path(task.grader).parent),
                env=_grader_env(),
                capture_output=True,
                text=True,
                timeout=timeout_s,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise InvalidSubmission(f"the task's grader did not finish within {timeout_s:.0f} s") from None
        if not out.exists():
            tail = (res.stderr.strip().splitlines() or [f"exit code {res.returncode}"])[-1]
            raise InvalidSubmission(f"the task's grader failed: {tail[:300]}")
        result = json.loads(out.read_text())
    if "invalid" in result:
        raise InvalidSubmission(f"the task's grader rejected the submission: {result['invalid'][:500]}")
    score = result.get("score")
    if not isinstance(score, (int, float)) or isinstance(score, bool):
        raise InvalidSubmission(f"the task's grader returned {score!r}, not a number")
    return float(score)


def grade_submission(task: BenchTask, submission: str | Path) -> Grade:
    """Validate, score and normalise one submission file. Never raises for a bad submission."""
    answers = read_answers(task)
    try:
        sub = validate_submission(task, Path(submission), answers)
        if task.grader:
            with tempfile.TemporaryDirectory(prefix="omicsagent-sub-") as tmp:
                aligned = Path(tmp) / "submission.csv"
                sub.to_csv(aligned, index=False)
                raw = run_grader(task, aligned, Path(task.answers))
        else:
            raw = builtin_score(task, sub, answers)
    except InvalidSubmission as err:
        return Grade(valid=False, reason=str(err))
    if raw is None or not math.isfinite(raw):
        return Grade(
            valid=False, reason=f"{task.metric} is undefined for this submission (e.g. constant predictions)"
        )
    return Grade(
        valid=True, raw=float(raw), score=normalise(raw, task.normaliser, baseline_error=task.baseline_error)
    )
