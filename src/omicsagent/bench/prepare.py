"""``omicsagent bench prepare``: an omicsagent dataset folder (train/validation/test with labels) -> a task.

The test labels move to ``private/answers.csv``; ``public/`` gets the training (and validation) tables with
labels, the test inputs without labels and with an id column, ``description.md``, ``sample_submission.csv``
and a ``task.toml`` the omicsagent loop understands (target, task type, metric). Detection (target, task
type, metric, column roles) is the loop's own: ``omicsagent.tasks.load_task``.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.bench.normalise import constant_baseline_error, constant_prediction, default_normaliser
from omicsagent.bench.task import DEFAULT_TIME_LIMIT_S, BenchTask, dump_toml, write_task_toml
from omicsagent.errors import InputError
from omicsagent.ml.metrics import get_metric
from omicsagent.tasks import Overrides, load_task
from omicsagent.tasks.io import read_table

SUBMISSION_FILE = "submission.csv"


def modality_of(roles: list[str]) -> str:
    """'dna', 'smiles', 'dna+rna', 'tabular', ... from the feature columns' roles."""
    kinds = {"numeric": "tabular", "categorical": "tabular"}
    return "+".join(sorted({kinds.get(r, r) for r in roles})) or "tabular"


def _id_column(test: pd.DataFrame, task) -> tuple[str, bool]:
    """(name, added): an identifier column of the test table that is unique, else a new one."""
    for c in task.columns:
        if c.role == "identifier" and c.name in test.columns and test[c.name].notna().all() \
                and test[c.name].is_unique:
            return c.name, False
    name = "id"
    while name in test.columns:
        name = f"row_{name}"
    return name, True


def _copy_table(src: Path, dest: Path) -> None:
    if src.name.lower().endswith(".csv"):
        shutil.copyfile(src, dest)
    else:
        read_table(src).to_csv(dest, index=False)


def submission_columns(task_type: str, classes: list | None, id_column: str,
                       labels: list[str] | None = None) -> list[str]:
    """The submission layout of a prepared task: the id, ``prediction`` and one probability per class; for
    a multi-label task the id and one probability per label."""
    if task_type == "multilabel":
        return [id_column] + [f"probability_{c}" for c in labels or []]
    cols = [id_column, "prediction"]
    if task_type != "regression":
        cols += [f"probability_{c}" for c in classes or []]
    return cols


def _description(task, *, metric: str, direction: str, id_col: str, columns: list[str], n_test: int,
                 time_limit_s: float) -> str:
    m = get_metric(metric)
    lines = [
        task.description.strip() or f"Predict `{task.target}` from the other columns.",
        "",
        "## Benchmark task",
        "",
        f"- Training data: `train.csv` ({task.n_train} rows)"
        + (f" and `validation.csv` ({task.n_validation} rows)" if task.n_validation else "")
        + (f", with the 0/1 label columns {', '.join(f'`{c}`' for c in task.labels)} (missing where a label "
           "was not measured)." if task.labels else f", with the target column `{task.target}`."),
        f"- Task type: {task.task_type}"
        + (f"; classes: {', '.join(map(str, task.classes))}." if task.classes else "."),
        f"- Test inputs: `test.csv` ({n_test} rows, no target); `{id_col}` identifies each row.",
        f"- Metric: {m.label} (`{m.name}`, {m.direction}), computed on the hidden test labels.",
        f"- Submission: `{SUBMISSION_FILE}` with the columns {', '.join(f'`{c}`' for c in columns)}, "
        "one row per "
        "test row, no missing values (see `sample_submission.csv`)"
        + (
            "; `probability_<label>` columns hold the probability that each label is 1."
            if task.labels
            else "; `probability_<class>` columns hold class probabilities."
            if task.task_type != "regression"
            else "."
        ),
        f"- Time limit: {time_limit_s:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def prepare_dataset(dataset: str | Path, out: str | Path, *, task_id: str | None = None, domain: str = "",
                    metric: str | None = None, target: str | None = None,
                    time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> BenchTask:
    """Write a task folder at ``out`` (absent or empty) from a dataset folder with a labelled test table.

    Raises ``InputError`` with one sentence on bad input; nothing is left behind on failure.
    """
    dataset, out = Path(dataset).resolve(), Path(out).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not empty; choose a new --out folder for the task.")
    if dataset.is_dir() and not any(dataset.glob("test.*")):
        raise InputError(
            f"{dataset} has no test table (test.csv); a benchmark task needs held-out test labels, "
            "so add one or prepare another dataset."
        )
    task = load_task(dataset, overrides=Overrides(target=target, metric=metric))
    if not task.test_path:
        raise InputError(
            f"{dataset} has no test table (test.csv); a benchmark task needs held-out test labels."
        )
    metric_name = task.metric
    direction = "higher" if get_metric(metric_name).greater_is_better else "lower"
    normaliser = default_normaliser(metric_name)

    train = read_table(task.train_path)
    test = read_table(task.test_path)
    id_col, added = _id_column(test, task)
    targets = task.target_columns
    answers = pd.DataFrame({id_col: test[id_col] if not added else np.arange(len(test))})
    for col in targets:
        answers[col] = test[col].to_numpy()
    inputs = test.drop(columns=targets)
    if added:
        inputs.insert(0, id_col, answers[id_col])
    baseline = None
    if normaliser == "error_ratio":
        baseline = constant_baseline_error(
            metric_name, task.task_type, train[task.target].dropna(), test[task.target], task.classes
        )
    columns = submission_columns(task.task_type, task.classes, id_col, task.labels)
    sample = pd.DataFrame({id_col: answers[id_col]})
    if task.labels:  # each label's training prevalence
        for c in task.labels:
            sample[f"probability_{c}"] = float(pd.to_numeric(train[c], errors="coerce").mean())
    else:
        y_train = train[task.target].dropna()
        value, proba = constant_prediction(metric_name, task.task_type, y_train, task.classes)
        sample["prediction"] = value
        for i, c in enumerate(task.classes or []):
            sample[f"probability_{c}"] = float(proba[i]) if proba is not None else 0.0

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        public, private = tmp / "public", tmp / "private"
        public.mkdir()
        private.mkdir()
        _copy_table(Path(task.train_path), public / "train.csv")
        if task.validation_path:
            _copy_table(Path(task.validation_path), public / "validation.csv")
        inputs.to_csv(public / "test.csv", index=False)
        sample[columns].to_csv(public / "sample_submission.csv", index=False)
        answers.to_csv(private / "answers.csv", index=False)
        (public / "description.md").write_text(_description(
            task, metric=metric_name, direction=direction, id_col=id_col, columns=columns, n_test=len(test),
            time_limit_s=time_limit_s))
        # what the omicsagent loop reads from a dataset folder: no answers, only the declaration
        loop_toml = {"target": task.labels or task.target, "task_type": task.task_type, "metric": metric_name}
        if id_col in train.columns:
            loop_toml["id_columns"] = [id_col]
        if task.group_column:
            loop_toml["group_column"] = task.group_column
        ignored = [
            c.name for c in task.columns if c.role in ("metadata", "leak") and "by the user" in c.reason
        ]
        if ignored:
            loop_toml["ignore_columns"] = ignored
        (public / "task.toml").write_text(dump_toml({"task": loop_toml}))
        bench = BenchTask(
            id=task_id or dataset.name,
            domain=domain,
            modality=modality_of([c.role for c in task.feature_columns]),
            root=str(out),
            public_dir=str(out / "public"),
            answers=str(out / "private" / "answers.csv"),
            task_type=task.task_type,
            target=None if task.labels else task.target,
            labels=task.labels,
            classes=task.classes,
            metric=metric_name,
            direction=direction,
            normaliser=normaliser,
            baseline_error=baseline,
            time_limit_s=time_limit_s,
            id_column=id_col,
            submission_columns=columns,
            source=str(dataset),
        )
        write_task_toml(bench, tmp)
        # task.toml names paths relative to its folder, so the whole folder can move into place
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    from omicsagent.bench.task import load_task_dir

    return load_task_dir(out)
