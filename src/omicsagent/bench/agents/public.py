"""What the built-in agents read from ``public/`` (and nothing else), and how they write a submission.

Used inside the sandbox by ``baseline:floor`` / ``baseline:autogluon`` and on the host by the ``expert``
wrapper, so every built-in agent interprets a task the same way, from the public files alone:

* the tables: ``train``, optional ``validation``, ``test`` (or ``test_features``), ``sample_submission``
  (CSV, Parquet or AnnData ``.h5ad``, read with ``task.toml``'s ``layer`` when it names one);
* the id column: the first column of ``sample_submission.csv``;
* the target: ``task.toml``'s ``target`` when public, else the one training column the test inputs lack.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from omicsagent.errors import InputError
from omicsagent.tasks.io import find_table, read_table

SUBMISSION = "submission.csv"


@dataclass
class PublicTask:
    root: Path
    train: Path
    validation: Path | None
    test: Path
    sample_submission: Path
    id_column: str
    target: str | list[str]  # a list of label columns for a multi-label task
    submission_columns: list[str]
    declared: dict  # public/task.toml [task], when present

    @property
    def targets(self) -> list[str]:
        return list(self.target) if isinstance(self.target, list) else [self.target]

    @property
    def layer(self) -> str | None:
        """AnnData files: the matrix the gene columns hold (``task.toml``'s ``layer``; None: X)."""
        return self.declared.get("layer")

    @property
    def has_ids_in_train(self) -> bool:
        return self.id_column in read_table(self.train, nrows=5, layer=self.layer).columns


def read_public(root: str | Path) -> PublicTask:
    """Find the public files and the target; ``InputError`` when the folder cannot be understood."""
    root = Path(root)
    train = find_table(root, "train")
    test = find_table(root, "test") or find_table(root, "test_features")
    sample = find_table(root, "sample_submission")
    if train is None or test is None or sample is None:
        raise InputError(f"{root} lacks train, test or sample_submission tables; this agent needs all three.")
    validation = find_table(root, "validation") or find_table(root, "valid") or find_table(root, "val")
    declared = {}
    if (root / "task.toml").is_file():
        declared = tomllib.loads((root / "task.toml").read_text()).get("task", {})
    sub_cols = list(read_table(sample, nrows=5).columns)
    train_cols = list(read_table(train, nrows=5).columns)
    test_cols = set(read_table(test, nrows=5).columns)
    id_col = sub_cols[0]
    target = declared.get("target")
    if target is None:
        candidates = [c for c in train_cols if c not in test_cols and c != id_col]
        named = [c for c in sub_cols[1:] if c in train_cols]
        if len(candidates) == 1:
            target = candidates[0]
        elif len(named) == 1:
            target = named[0]
        else:
            raise InputError(f"cannot tell the target column of {train.name}: the test inputs lack "
                             f"{', '.join(candidates) or 'no column'}.")
    return PublicTask(root=root, train=train, validation=validation, test=test, sample_submission=sample,
                      id_column=id_col, target=target, submission_columns=sub_cols, declared=declared)


def test_inputs(task: PublicTask) -> pd.DataFrame:
    """The test table as a model sees it: without an id column the training data does not have."""
    test = read_table(task.test, layer=task.layer)
    if task.id_column in test.columns and not task.has_ids_in_train:
        test = test.drop(columns=[task.id_column])
    return test


def _looks_like_scores(values: pd.Series) -> bool:
    v = pd.to_numeric(values, errors="coerce")
    return bool(v.notna().all() and ((v % 1) != 0).any())


def make_submission(task: PublicTask, predictions: pd.DataFrame) -> pd.DataFrame:
    """Fill the sample submission's columns from omicsagent predictions (``prediction`` and
    ``probability_<class>``), one row per test row, in the test order."""
    test = read_table(task.test)
    sample = read_table(task.sample_submission)
    if len(predictions) != len(test):
        raise ValueError(f"{len(predictions)} predictions for {len(test)} test rows")
    ids = test[task.id_column] if task.id_column in test.columns else sample[task.id_column]
    proba_cols = [c for c in predictions.columns if c.startswith("probability_")]
    out = {task.id_column: ids.to_numpy()}
    for col in task.submission_columns[1:]:
        if col in predictions.columns:
            out[col] = predictions[col].to_numpy()
        elif f"probability_{col}" in predictions.columns:  # a column per class, named by the class
            out[col] = predictions[f"probability_{col}"].to_numpy()
        elif col in task.targets or len(task.submission_columns) == 2:
            if len(proba_cols) == 2 and _looks_like_scores(sample[col]):  # binary scores: P(second class)
                out[col] = predictions[proba_cols[1]].to_numpy()
            else:
                out[col] = predictions["prediction"].to_numpy()
        else:
            raise ValueError(f"cannot fill the submission column {col!r} from the model's predictions")
    return pd.DataFrame(out)


def write_submission(task: PublicTask, predictions: pd.DataFrame, out_dir: Path) -> Path:
    path = Path(out_dir) / SUBMISSION
    tmp = path.with_name(f".{SUBMISSION}.tmp")
    make_submission(task, predictions).to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def labelled_training(task: PublicTask) -> pd.DataFrame:
    """Training and validation rows together (the built-in baselines tune internally)."""
    frames = [read_table(p, layer=task.layer) for p in (task.train, task.validation) if p]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return df[df[task.targets].notna().any(axis=1)].reset_index(drop=True)


__all__ = [
    "SUBMISSION",
    "PublicTask",
    "labelled_training",
    "make_submission",
    "read_public",
    "test_inputs",
    "write_submission",
]
