"""``omicsagent bench prepare``: an omicsagent dataset folder (train/validation/test with labels) -> a task.

The test labels move to ``private/answers.csv``; ``public/`` gets the training (and validation) tables with
labels, the test inputs without labels and with an id column, ``description.md``, ``sample_submission.csv``
and a ``task.toml`` the omicsagent loop understands (target, task type, metric). Detection (target, task
type, metric, column roles, a split column) is the loop's own: ``omicsagent.tasks.load_task``.

The test rows are a test file, the rows a split column marks ``test``, or, for a dataset without either, a
declared hold-out (``holdout``: the fraction of the training rows moved to the test set, stratified by the
target for classification, with ``holdout_seed``; ``omicsagent.agent.split.held_out_rows``, the loop's own
split decision). AnnData (``.h5ad``) datasets stay AnnData: ``public/train.h5ad`` and ``public/test.h5ad``
are the cells of the source file (X, layers, raw, var, obsm as stored; a sparse X stays sparse), the test
file without the target obs column and with a ``cell_id`` obs column (the cell names) the submission uses.
"""
from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.bench.normalise import constant_baseline_error, constant_prediction, default_normaliser
from omicsagent.bench.task import DEFAULT_TIME_LIMIT_S, BenchTask, dump_toml, write_task_toml
from omicsagent.errors import InputError
from omicsagent.ml.io import is_anndata, read_anndata
from omicsagent.ml.metrics import get_metric
from omicsagent.tasks import Overrides, load_task
from omicsagent.tasks.io import read_table
from omicsagent.tasks.task import rows_of_split, without_missing_target

SUBMISSION_FILE = "submission.csv"
CELL_ID = "cell_id"  # the id column of an AnnData task's test cells (their obs names)
_POSITION = "__omicsagent_row__"


def check_holdout(value, where: str = "--holdout") -> float:
    """A declared hold-out fraction, strictly between 0 and 1; ``InputError`` (one sentence) otherwise."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and 0 < value < 1
    if not ok:
        raise InputError(f"{where} is {value!r}; give the fraction of the training rows to hold out as the "
                         "test set, between 0 and 1 (e.g. 0.2).")
    return float(value)


def modality_of(roles: list[str]) -> str:
    """'dna', 'smiles', 'dna+rna', 'tabular', 'expression', ... from the feature columns' roles."""
    kinds = {"numeric": "tabular", "categorical": "tabular", "gene": "expression"}
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
    """A whole public table: a CSV or AnnData file copied as it is, any other format written as CSV."""
    if src.name.lower().endswith(".csv") or dest.suffix == ".h5ad":
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


def _description(task, *, metric: str, direction: str, id_col: str, columns: list[str],
                 counts: dict[str, int], files: dict[str, str], time_limit_s: float) -> str:
    m = get_metric(metric)
    cells = files["train"].endswith(".h5ad")
    lines = [
        task.description.strip() or f"Predict `{task.target}` from the other columns.",
        "",
        "## Benchmark task",
        "",
        f"- Training data: `{files['train']}` ({counts['train']} rows)"
        + (f" and `{files['validation']}` ({counts['validation']} rows)" if "validation" in files else "")
        + (f", with the 0/1 label columns {', '.join(f'`{c}`' for c in task.labels)} (missing where a label "
           "was not measured)." if task.labels else
           f", with the target {'obs column' if cells else 'column'} `{task.target}`."),
        f"- Task type: {task.task_type}"
        + (f"; classes: {', '.join(map(str, task.classes))}." if task.classes else "."),
        f"- Test inputs: `{files['test']}` ({counts['test']} rows, no target); `{id_col}` identifies each "
        + ("cell (an obs column)." if cells else "row."),
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


@dataclass
class _Part:
    """The rows of one split: the file they come from, the rows as the loop reads them (``Task.table``)
    and their positions in that file (None: the whole file, copied as it is)."""

    path: Path
    frame: pd.DataFrame
    rows: np.ndarray | None = None


def _positions(task, path: Path, which: str, cells: dict) -> np.ndarray:
    """Positions in ``path`` of the rows ``Task.table(which)`` returns: the same selection functions, on the
    file's table (for AnnData its obs) with a column of positions."""
    src = cells[path].obs.reset_index(drop=True) if path in cells else read_table(path)
    src = src.assign(**{_POSITION: np.arange(len(src))})
    if task.split_column is not None:
        src = rows_of_split(src, task.split_column, which)
    if which == "train" and task.target in src.columns:
        src = without_missing_target(src, task.target, path)
    return src[_POSITION].to_numpy()


def _parts(task, cells: dict, *, holdout: float | None, seed: int) -> tuple[dict[str, _Part], str]:
    """The benchmark's train, validation and test rows, and how the test rows were chosen."""
    parts: dict[str, _Part] = {}
    for which in ("train", "validation", "test"):
        path = getattr(task, f"{which}_path")
        if path is None:
            continue
        path = Path(path)
        rows = None
        if task.split_column is not None or (holdout and which == "train"):
            rows = _positions(task, path, which, cells)
        parts[which] = _Part(path, task.table(which), rows)
        if rows is not None and len(rows) != len(parts[which].frame):
            raise RuntimeError(f"{len(rows)} positions for {len(parts[which].frame)} {which} rows")
    how = (f"the rows whose '{task.split_column}' is test" if task.split_column is not None
           else f"the test file {Path(task.test_path).name}" if task.test_path else "")
    if holdout:
        from omicsagent.agent.split import held_out_rows

        train = parts["train"]
        held, method = held_out_rows(train.frame, target=task.target_columns[0], task_type=task.task_type,
                                     group=task.group_column, fraction=holdout, seed=seed)
        parts["train"] = _Part(train.path, train.frame[~held].reset_index(drop=True), train.rows[~held])
        parts["test"] = _Part(train.path, train.frame[held].reset_index(drop=True), train.rows[held])
        how = f"a hold-out of the training rows, {method}, seed {seed}"
    return parts, how


def _mentions(value, names: tuple[str, ...]) -> bool:
    """Whether an AnnData ``uns`` entry refers to one of ``names`` (e.g. ranked genes grouped by the
    target, or its colours): a string equal to one, or a key starting with one, at any depth."""
    if isinstance(value, str):
        return value in names
    if isinstance(value, dict):
        return any(str(k).startswith(names) or _mentions(v, names) for k, v in value.items())
    return False


def _cells(adata, rows: np.ndarray | None, *, drop: list[str], targets: list[str],
           id_column: str | None = None):
    """The cells ``rows`` of ``adata`` (all when None) as a new AnnData, everything per cell kept as stored,
    without the obs columns ``drop`` and without the ``uns`` entries that refer to the target (they may
    summarise the test cells' labels); ``id_column`` adds the cell names as the first obs column."""
    sub = adata[rows].copy() if rows is not None else adata.copy()
    sub.obs = sub.obs.drop(columns=[c for c in drop if c in sub.obs.columns])
    if id_column:
        sub.obs.insert(0, id_column, _cell_ids(sub))
    for key in [k for k, v in sub.uns.items() if _mentions({k: v}, tuple(targets))]:
        del sub.uns[key]
    return sub


def _cell_ids(adata) -> np.ndarray:
    """The cells' names (obs names), or their positions when the names repeat."""
    names = adata.obs_names.astype(str)
    return names.to_numpy() if names.is_unique else np.array([f"cell_{i}" for i in range(adata.n_obs)])


def _free_name(name: str, taken) -> str:
    while name in taken:
        name = f"row_{name}"
    return name


def prepare_dataset(dataset: str | Path, out: str | Path, *, task_id: str | None = None, domain: str = "",
                    metric: str | None = None, target: str | None = None,
                    time_limit_s: float = DEFAULT_TIME_LIMIT_S, holdout: float | None = None,
                    holdout_seed: int = 0) -> BenchTask:
    """Write a task folder at ``out`` (absent or empty) from a dataset folder with labelled test rows (a
    test file or a split column), or with ``holdout``, the fraction of its training rows to hold out.

    Raises ``InputError`` with one sentence on bad input; nothing is left behind on failure.
    """
    dataset, out = Path(dataset).resolve(), Path(out).resolve()
    if holdout is not None:
        holdout = check_holdout(holdout)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} already exists and is not empty; choose a new --out folder for the task.")
    task = load_task(dataset, overrides=Overrides(target=target, metric=metric))
    if task.test_path and holdout:
        where = (f"its split column '{task.split_column}' marks test rows" if task.split_column is not None
                 else f"a test file, {Path(task.test_path).name}")
        raise InputError(f"{dataset} already has test rows ({where}); drop the hold-out (--holdout, or "
                         "holdout in the suite entry) or prepare another dataset.")
    if not task.test_path and not holdout:
        raise InputError(
            f"{dataset} has no test rows (a test file or a split column marking test rows); a benchmark "
            "task needs held-out test labels, so add them or declare a hold-out (--holdout 0.2, or "
            "holdout = 0.2 in the suite entry)."
        )
    metric_name = task.metric
    direction = "higher" if get_metric(metric_name).greater_is_better else "lower"
    normaliser = default_normaliser(metric_name)

    files = {p for p in (task.train_path, task.validation_path, task.test_path) if p}
    cells = {Path(p): read_anndata(p) for p in files if is_anndata(p)}
    parts, how = _parts(task, cells, holdout=holdout, seed=holdout_seed)
    train, test = parts["train"].frame, parts["test"].frame
    targets = task.target_columns
    split = [task.split_column] if task.split_column else []  # meaningless once the rows are apart
    drop = targets + split
    test_cells = parts["test"].path in cells
    if test_cells:
        id_col, added = _free_name(CELL_ID, test.columns), True
        adata, rows = cells[parts["test"].path], parts["test"].rows
        ids = _cell_ids(adata[rows] if rows is not None else adata)
    else:
        id_col, added = _id_column(test, task)
        ids = test[id_col].to_numpy() if not added else np.arange(len(test))
    answers = pd.DataFrame({id_col: ids})
    for col in targets:
        answers[col] = test[col].to_numpy()
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
    names = {w: f"{w}.h5ad" if part.path in cells else f"{w}.csv" for w, part in parts.items()}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        public, private = tmp / "public", tmp / "private"
        public.mkdir()
        private.mkdir()
        for which in ("train", "validation"):
            part = parts.get(which)
            if part is None:
                continue
            dest = public / names[which]
            if part.rows is None:
                _copy_table(part.path, dest)
            elif part.path in cells:
                _cells(cells[part.path], part.rows, drop=split, targets=targets).write_h5ad(dest)
            else:
                part.frame.drop(columns=split).to_csv(dest, index=False)
        if test_cells:
            _cells(cells[parts["test"].path], parts["test"].rows, drop=drop, targets=targets,
                   id_column=id_col).write_h5ad(public / names["test"])
        else:
            inputs = test.drop(columns=drop)
            if added:
                inputs.insert(0, id_col, answers[id_col])
            inputs.to_csv(public / names["test"], index=False)
        sample[columns].to_csv(public / "sample_submission.csv", index=False)
        answers.to_csv(private / "answers.csv", index=False)
        (public / "description.md").write_text(_description(
            task, metric=metric_name, direction=direction, id_col=id_col, columns=columns,
            counts={w: len(part.frame) for w, part in parts.items()}, files=names, time_limit_s=time_limit_s))
        # what the omicsagent loop reads from a dataset folder: no answers, only the declaration
        loop_toml = {"target": task.labels or task.target, "task_type": task.task_type, "metric": metric_name}
        if id_col in train.columns:
            loop_toml["id_columns"] = [id_col]
        if task.group_column:
            loop_toml["group_column"] = task.group_column
        if task.layer:
            loop_toml["layer"] = task.layer
        ignored = [
            c.name for c in task.columns if c.role in ("metadata", "leak") and "by the user" in c.reason
            and c.name != task.split_column
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
            source=f"{dataset} (test: {how})",
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
