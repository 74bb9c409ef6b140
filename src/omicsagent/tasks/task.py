"""A Task: the files of a dataset plus everything detected about them, validated.

``load_task`` is the one entry point. It reads the files, detects the target, task type, metric and column
roles, applies ``task.toml`` and explicit overrides, and raises ``InputError`` (one sentence, with the fix)
on anything a run could not survive. It writes nothing.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, Field, ValidationError

from omicsagent.errors import InputError
from omicsagent.ml.metrics import DEFAULT_METRIC, TASK_TYPES, get_metric, metrics_for, resolve_metric_name
from omicsagent.tasks import detect
from omicsagent.ml.io import is_anndata, take_rows
from omicsagent.tasks.io import find_table, read_table

TaskType = Literal["binary", "multiclass", "regression", "multilabel"]


class ColumnInfo(BaseModel):
    name: str
    role: str
    reason: str = ""
    dtype: str = ""
    n_missing: int = 0
    n_unique: int = 0
    median_len: int | None = None
    max_len: int | None = None
    variants: bool = False  # protein column: equal-length variants of one reference sequence

    @property
    def is_feature(self) -> bool:
        return self.role in detect.FEATURE_ROLES


class Task(BaseModel):
    """Everything a run needs to know about a dataset. Plain data: saved in the run journal."""

    name: str
    train_path: str
    validation_path: str | None = None
    test_path: str | None = None  # hidden: the harness reads it; it never enters a workspace
    description: str = ""
    target: str  # the column to predict; for a multi-label task the label columns joined by ", " (display)
    labels: list[str] | None = None  # multilabel only: the 0/1 label columns, each may be missing per row
    target_reason: str = ""
    task_type: TaskType
    task_type_reason: str = ""
    classes: list[Any] | None = None
    metric: str
    columns: list[ColumnInfo]
    group_column: str | None = None
    n_train: int
    n_validation: int | None = None
    n_test: int | None = None
    n_dropped_missing_target: int = 0
    warnings: list[str] = Field(default_factory=list)
    layer: str | None = None  # AnnData input: the matrix the gene columns hold (None: X)
    split_column: str | None = None  # one file holding every split: the column naming each row's split

    @property
    def gene_columns(self) -> list[str]:
        """The expression features of a single-cell (AnnData) task: one column per gene."""
        return [c.name for c in self.columns if c.role == "gene"]

    @property
    def target_columns(self) -> list[str]:
        """The columns an inference script never gets: the target, or every label of a multi-label task."""
        return list(self.labels) if self.labels else [self.target]

    @property
    def feature_columns(self) -> list[ColumnInfo]:
        return [c for c in self.columns if c.is_feature]

    @property
    def excluded_columns(self) -> list[ColumnInfo]:
        return [c for c in self.columns if c.name not in self.target_columns and not c.is_feature]

    @property
    def input_columns(self) -> list[str]:
        """Columns an inference script may be given (everything but the target)."""
        return [c.name for c in self.columns if c.name not in self.target_columns]

    def column(self, name: str) -> ColumnInfo:
        return next(c for c in self.columns if c.name == name)

    @property
    def greater_is_better(self) -> bool:
        return get_metric(self.metric).greater_is_better

    def table(self, which: Literal["train", "validation", "test"]) -> pd.DataFrame:
        """The rows this task describes, read with the one table reader: for ``train``, without the rows
        whose target is missing (they exist only when ``--drop-missing-target`` was given).

        The harness builds the agent's inputs and the private labels from this, so the files the agent
        gets hold exactly ``n_train`` (``n_validation``, ``n_test``) rows.
        """
        path = {"train": self.train_path, "validation": self.validation_path, "test": self.test_path}[which]
        if path is None:
            raise ValueError(f"the task {self.name!r} has no {which} file")
        df = read_table(path, layer=self.layer)
        if self.split_column is not None:
            df = rows_of_split(df, self.split_column, which)
        if which == "train" and self.target in df.columns:
            df = without_missing_target(df, self.target, Path(path))
        elif self.classes and self.target in df.columns:
            df[self.target] = _like_classes(df[self.target], self.classes)
        return df


SPLIT_NAMES = {"train": ("train", "training"), "validation": ("validation", "valid", "val", "dev"),
               "test": ("test", "testing", "holdout")}


def split_of(values: pd.Series) -> pd.Series:
    """Each value of a split column as ``train``/``validation``/``test`` (missing where it is none)."""
    lower = values.astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype=object)
    for which, names in SPLIT_NAMES.items():
        out[lower.isin(names)] = which
    return out


def rows_of_split(df: pd.DataFrame, column: str, which: str) -> pd.DataFrame:
    """The rows of ``df`` whose split column names the split ``which``, in file order."""
    return take_rows(df, (split_of(df[column]) == which).to_numpy())


def _like_classes(y: pd.Series, classes: list) -> pd.Series:
    """Numeric labels typed like the training classes, so 1 in test.csv is the class 1.0 of train.csv (and
    the other way round) when labels are compared as text."""
    numbers = all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes)
    if not numbers or not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return y
    if all(isinstance(c, int) for c in classes):
        return y.astype("int64") if (y == y.round()).all() else y
    return y.astype(float)


def without_missing_target(df: pd.DataFrame, target: str, path: Path) -> pd.DataFrame:
    """``df`` (read from ``path``) without the rows whose target is missing, the target typed as if those
    rows had never been in the file: a column of whole numbers read as float only because of its gaps
    becomes integer again, so its classes are 0/1 as in the validation and test files, not 0.0/1.0."""
    missing = df[target].isna()
    if not missing.any():
        return df
    df = take_rows(df, ~missing.to_numpy())
    y = df[target]
    if pd.api.types.is_float_dtype(y) and (y == y.round()).all() and _written_as_integers(path, target):
        df[target] = y.astype("int64")
    return df


def _written_as_integers(path: Path, column: str) -> bool:
    """Whether every non-empty value of ``column`` in the file is an integer (text) or typed as one
    (Parquet)."""
    raw = read_table(path, as_text=(column,))[column].dropna()
    if raw.dtype == object:
        return bool(raw.astype(str).str.fullmatch(r"\s*[+-]?\d+\s*").all())
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa.types.is_integer(pq.read_schema(path).field(column).type)


class Overrides(BaseModel):
    """Values that replace detection: from task.toml, then from the command line."""

    target: str | list[str] | None = None  # several columns: a multi-label task
    task_type: TaskType | None = None
    metric: str | None = None
    id_columns: list[str] = Field(default_factory=list)
    group_column: str | None = None
    ignore_columns: list[str] = Field(default_factory=list)
    feature_columns: list[str] = Field(default_factory=list)  # force these to be used as features
    drop_missing_target: bool = False
    layer: str | None = None  # AnnData input: the layer the features come from
    split_column: str | None = None  # a column saying which rows are train, validation and test

    def merged(self, other: "Overrides") -> "Overrides":
        data = self.model_dump()
        for key, value in other.model_dump(exclude_defaults=True).items():
            data[key] = value
        return Overrides(**data)


# Where each override can be set: the task.toml key and the command-line option (if any).
OPTION_OF = {"target": "--target", "task_type": "--task-type", "metric": "--metric",
             "group_column": "--group", "ignore_columns": "--ignore",
             "drop_missing_target": "--drop-missing-target", "layer": "--layer",
             "split_column": "--split-column"}


def _where(key: str) -> str:
    """How a user names an override in a message: '--ignore (ignore_columns in task.toml)'."""
    return f"{OPTION_OF[key]} (or {key} in task.toml)" if key in OPTION_OF else f"{key} in task.toml"


def make_overrides(values: dict[str, Any], *, source: Path | None = None) -> Overrides:
    """Overrides from ``task.toml`` (``source``) or the command line (``source`` None), validated.

    An unknown key, a task type that does not exist or a value of the wrong kind is one ``InputError``
    naming the key (or option) and the fix, never a pydantic traceback.
    """
    keys = list(Overrides.model_fields)
    if source is not None:
        unknown = [k for k in values if k not in keys]
        if unknown:
            raise InputError(f"{source} has an unknown key {unknown[0]!r}; use only {', '.join(keys)} "
                             f"(under a [task] section or at the top level).")
    def named(key: str) -> str:
        if source is not None:
            return f"{source} sets {key} to {values[key]!r}, which"
        return f"{OPTION_OF.get(key, key)} {values[key]!r}"

    if values.get("task_type") is not None and values["task_type"] not in TASK_TYPES:
        raise InputError(f"{named('task_type')} is not a task type; use binary, multiclass, regression or "
                         f"multilabel.")
    try:
        return Overrides(**values)
    except ValidationError as err:
        first = err.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else ""
        what = named(key) if key in values else str(source or "an option")
        raise InputError(f"{what} is invalid ({first['msg'].lower()}); "
                         f"see `omicsagent inspect --help`.") from None


def _read_task_toml(path: Path) -> Overrides:
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not valid TOML ({err}); fix the syntax or remove the file.") from None
    if isinstance(raw.get("task"), dict):
        extra = [k for k in raw if k != "task"]
        if extra:
            raise InputError(f"{path} has {extra[0]!r} outside its [task] section; "
                             f"move every key under [task].")
        raw = raw["task"]
    if isinstance(raw.get("target"), list) and len(raw["target"]) == 1:
        raw["target"] = raw["target"][0]
    for key in ("id_columns", "ignore_columns", "feature_columns"):
        if isinstance(raw.get(key), str):
            raw[key] = [raw[key]]
    return make_overrides(raw, source=path)


def _resolve_files(dataset: Path | None, train: Path | None, validation: Path | None,
                   test: Path | None) -> tuple[Path, Path | None, Path | None, Path | None]:
    """(train, validation, test, folder) from a dataset folder and/or explicit files."""
    folder = None
    if dataset is not None:
        if not dataset.exists():
            raise InputError(
                f"{dataset} does not exist; give a dataset folder containing train.csv or a train file."
            )
        if dataset.is_file():
            train, folder = train or dataset, dataset.parent
        else:
            folder = dataset
            single = sorted(dataset.glob("*.h5ad"))
            if train is None and find_table(dataset, "train") is None and len(single) == 1:
                train = single[0]  # one AnnData file: the cells to learn from (and a split column, if any)
            elif train is None and find_table(dataset, "train") is None and len(single) > 1:
                raise InputError(
                    f"{dataset} holds several .h5ad files ({', '.join(f.name for f in single[:5])}); name "
                    "them train.h5ad (and validation.h5ad, test.h5ad) or pass --train FILE."
                )
            train = train or find_table(dataset, "train")
            validation = validation or find_table(dataset, "validation") or find_table(dataset, "valid")
            test = test or find_table(dataset, "test")
            if train is None:
                raise InputError(
                    f"{dataset} has no train.csv (or .tsv/.parquet/.csv.gz); add one or pass --train FILE."
                )
    if train is None:
        raise InputError("no training data given; pass a dataset folder or --train FILE.")
    return train, validation, test, folder


def load_task(dataset: str | Path | None = None, *, train: str | Path | None = None,
              validation: str | Path | None = None, test: str | Path | None = None,
              overrides: Overrides | None = None, name: str | None = None) -> Task:
    """Load, detect and validate a task. Raises ``InputError`` with one sentence on bad input."""
    p = lambda x: Path(x) if x is not None else None  # noqa: E731
    train_p, valid_p, test_p, folder = _resolve_files(p(dataset), p(train), p(validation), p(test))
    ov = Overrides()
    if folder is not None and (folder / "task.toml").exists():
        ov = _read_task_toml(folder / "task.toml")
    if overrides is not None:
        ov = ov.merged(overrides)
    description = ""
    if folder is not None and (folder / "description.md").exists():
        description = (folder / "description.md").read_text(errors="replace").strip()
    # resolved first: `run .` or `run ./data/` is named after the real folder
    task_name = name or (folder.resolve().name if folder is not None else train_p.stem)

    anndata = is_anndata(train_p)
    if ov.layer is not None and not anndata:
        raise InputError(f"--layer applies to AnnData (.h5ad) input, but {train_p} is a table; drop --layer.")
    train_df = read_table(train_p, layer=ov.layer)
    valid_df = read_table(valid_p, layer=ov.layer) if valid_p else None
    test_df = read_table(test_p, layer=ov.layer) if test_p else None
    split_column = ov.split_column or (_detected_split_column(train_df) if anndata else None)
    if split_column is not None:
        train_df, valid_df, test_df, valid_p, test_p = _split_by_column(
            train_df, split_column, train_p, valid_df, test_df, valid_p, test_p)
    genes: list[str] = []
    cell_reason = ""
    if anndata:
        genes = _gene_columns(train_p, ov.layer, train_df)
        ov, cell_reason = _cell_target(ov, train_df.drop(columns=genes), description, task_name, train_p,
                                       split_column)
    obs = train_df.drop(columns=genes) if genes else train_df
    profiles = {c: detect.profile_column(obs[c], n_rows=len(obs)) for c in obs.columns}
    labels_reason = (
        f"{len(ov.target)} 0/1 label columns chosen by the user" if isinstance(ov.target, list) else ""
    )
    if not ov.target and ov.task_type in (None, "multilabel"):
        found = _detected_labels(train_df, profiles, description, task_name)
        if found:
            ov = ov.model_copy(update={"target": found})
            labels_reason = (f"detected: {len(found)} side-by-side 0/1 columns with missing values (give "
                             f"--target COLUMN to predict only one)")
    if isinstance(ov.target, list) and len(ov.target) > 1 or ov.task_type == "multilabel":
        return _multilabel_task(ov, train_df, valid_df, test_df, profiles, train_p, valid_p, test_p,
                                name=task_name, description=description, reason=labels_reason)
    target, target_reason = _pick_target(train_df, profiles, ov, description, task_name, train_p)
    target_reason = cell_reason or target_reason
    for other, label in ((valid_df, valid_p), (test_df, test_p)):
        if other is not None:
            _check_columns(train_df, other, train_p, label, target)
    y = train_df[target]
    n_missing = int(y.isna().sum())
    if n_missing:
        if not ov.drop_missing_target:
            raise InputError(
                f"{train_p} has {n_missing} row(s) with a missing target '{target}'; "
                "pass --drop-missing-target to drop them or fill them in."
            )
        train_df = without_missing_target(train_df, target, train_p)
        y = train_df[target]
        if y.empty:
            raise InputError(f"every row of {train_p} has a missing target '{target}', so nothing is left "
                             f"to train on; fill the column in or choose another --target.")
    if y.nunique() < 2:
        raise InputError(
            f"the target '{target}' in {train_p} has a single value ({y.iloc[0]!r}); "
            "a model needs at least two classes or values, so check the target column."
        )
    for other, label in ((valid_df, valid_p), (test_df, test_p)):
        if other is not None and target not in other.columns:
            raise InputError(
                f"{label} has no target column '{target}'; "
                "add it (hidden test labels are read only by the harness) or remove the file."
            )
        if other is not None and other[target].isna().any():
            raise InputError(
                f"{label} has {int(other[target].isna().sum())} row(s) with a missing target '{target}'; "
                "fill or remove them."
            )

    task_type, tt_reason = detect.infer_task_type(y)
    if ov.task_type:
        task_type, tt_reason = ov.task_type, "set in task.toml or on the command line"
        _check_forced_type(y, task_type, target)
    metric = _pick_metric(ov.metric, task_type)
    columns = _final_roles(obs, profiles, target, task_type, ov, description)
    if genes:
        columns = _cell_roles(columns, ov, split_column) + _gene_infos(train_df, genes, ov.layer)
    elif split_column is not None:
        columns = _cell_roles(columns, ov, split_column, only_split=True)
    classes = sorted(pd.unique(y).tolist(), key=str) if task_type != "regression" else None
    if classes and all(isinstance(c, (int, float)) for c in classes):
        classes = sorted(classes)
    warnings = []
    if task_type != "regression":
        counts = y.value_counts()
        if counts.min() < 5:
            warnings.append(
                f"class {counts.idxmin()!r} has only {counts.min()} training rows; its metrics will be noisy."
            )
    if not any(c.is_feature for c in columns):
        raise InputError(
            f"{train_p} has no usable feature column besides the target; check --ignore or task.toml."
        )
    group = next((c.name for c in columns if c.role == "group"), None)
    return Task(
        name=task_name, train_path=str(train_p.resolve()),
        validation_path=str(valid_p.resolve()) if valid_p else None,
        test_path=str(test_p.resolve()) if test_p else None, description=description,
        target=target, target_reason=target_reason, task_type=task_type, task_type_reason=tt_reason,
        classes=classes, metric=metric, columns=columns, group_column=group, n_train=len(train_df),
        n_validation=len(valid_df) if valid_df is not None else None,
        n_test=len(test_df) if test_df is not None else None,
        n_dropped_missing_target=n_missing if ov.drop_missing_target else 0, warnings=warnings,
        layer=ov.layer, split_column=split_column,
    )


def _detected_split_column(df: pd.DataFrame) -> str | None:
    """An obs column named like a split (split, set, subset) whose values all name train, validation or
    test, with training rows among them."""
    for name in df.columns:
        if name.lower().strip() not in ("split", "set", "subset", "partition"):
            continue
        which = split_of(df[name])
        if which.notna().all() and (which == "train").any():
            return name
    return None


def _split_by_column(train_df, column: str, train_p: Path, valid_df, test_df, valid_p, test_p):
    """One file holding every split: the training, validation and test rows by the split column."""
    if column not in train_df.columns:
        raise InputError(f"the split column '{column}' is not in {train_p}; "
                         f"choose one of: {_column_list(train_df.columns)}.")
    if valid_df is not None or test_df is not None:
        raise InputError(f"{train_p} is split by its column '{column}', and separate validation or test "
                         "files were given too; give one or the other.")
    which = split_of(train_df[column])
    if which.isna().any():
        bad = train_df[column][which.isna()].iloc[0]
        raise InputError(f"the split column '{column}' holds {bad!r}, which is not train, validation or "
                         "test; fix those rows or choose another --split-column.")
    parts = {w: rows_of_split(train_df, column, w) for w in ("train", "validation", "test")}
    if parts["train"].empty:
        raise InputError(f"the split column '{column}' marks no row as train; mark the training rows "
                         "'train'.")
    valid = parts["validation"] if len(parts["validation"]) else None
    test = parts["test"] if len(parts["test"]) else None
    return (parts["train"], valid, test, train_p if valid is not None else None,
            train_p if test is not None else None)


def _gene_columns(path: Path, layer: str | None, df: pd.DataFrame) -> list[str]:
    """The gene columns of a table read from an AnnData file: its var names (or raw's, for --layer raw)."""
    from omicsagent.ml.io import anndata_parts

    genes = anndata_parts(path, layer, matrix=False)[2]
    return [g for g in genes if g in df.columns]


def _cell_target(ov: Overrides, obs: pd.DataFrame, description: str, name: str, path: Path,
                 split_column: str | None) -> tuple[Overrides, str]:
    """The target of a single-cell task: given, or detected among the categorical obs columns."""
    if isinstance(ov.target, list) or ov.task_type == "multilabel":
        raise InputError("a single-cell (.h5ad) task predicts one obs column; give one --target.")
    if ov.target:
        if ov.target not in obs.columns:
            raise InputError(f"the target column '{ov.target}' is not an obs column of {path}; "
                             f"choose one of: {_column_list(obs.columns)}.")
        return ov, ""
    candidates = [c for c in obs.columns if c != split_column and _categorical_obs(obs[c])]
    profiles = {c: detect.profile_column(obs[c], n_rows=len(obs)) for c in candidates}
    candidates = [c for c in candidates if profiles[c].role not in ("group", "identifier")]  # batch, donor
    if not candidates:
        raise InputError(f"{path} has no categorical obs column to predict; pass --target COLUMN "
                         f"(obs columns: {_column_list(obs.columns)}).")
    named = [c for c in candidates if _CELL_TYPE_NAME.search(c)]
    if len(named) == 1:
        return ov.model_copy(update={"target": named[0]}), "named like a cell-type annotation (obs)"
    sub = obs[candidates]
    profiles = {c: profiles[c] for c in candidates}
    choice = detect.choose_target(sub, profiles, description=description, dataset_name=name)
    if choice is not None and not choice.alternatives:
        reason = f"{choice.reason}, among the categorical obs columns"
        return ov.model_copy(update={"target": choice.column}), reason
    if choice is None and len(candidates) == 1:
        return ov.model_copy(update={"target": candidates[0]}), "the only categorical obs column"
    options = ", ".join([choice.column, *choice.alternatives] if choice else candidates)
    raise InputError(f"{path} has several categorical obs columns that could be the target ({options}); "
                     "choose one with --target COLUMN.")


_CELL_TYPE_NAME = re.compile(r"cell[\s_.-]?(type|label|class|identity|ontology)", re.I)


def _categorical_obs(s: pd.Series) -> bool:
    """An obs column of labels: text or booleans with 2 to 200 distinct values, not one per cell."""
    if pd.api.types.is_float_dtype(s):
        return False
    n = s.nunique()
    return 2 <= n <= 200 and n < len(s) and not pd.api.types.is_integer_dtype(s)


def _cell_roles(columns: list[ColumnInfo], ov: Overrides, split_column: str | None,
                only_split: bool = False) -> list[ColumnInfo]:
    """The obs columns of a single-cell task are annotations, not features (the genes are) nor groups,
    unless the user keeps one with feature_columns or --group; the split column is never a feature."""
    for info in columns:
        if info.name == split_column:
            info.role, info.reason = "metadata", "the split column (which rows are train, validation, test)"
        elif only_split or info.role in ("target", "leak") or info.name in ov.feature_columns \
                or info.name == ov.group_column:
            continue
        else:  # a batch or donor column groups the split only when the user says so (--group)
            info.role, info.reason = "metadata", "cell annotation (obs), not a feature"
    return columns


def _gene_infos(df: pd.DataFrame, genes: list[str], layer: str | None) -> list[ColumnInfo]:
    """One feature column per gene (role ``gene``), without per-column profiling (there may be 30,000)."""
    source = f"layer '{layer}'" if layer else "X"
    return [ColumnInfo(name=g, role="gene", reason=f"expression ({source})", dtype=str(df[g].dtype))
            for g in genes]


def _detected_labels(df: pd.DataFrame, profiles, description: str, name: str) -> list[str]:
    """The label columns of a multi-label table (``detect.multilabel_columns``) when no single column is a
    clear target; empty otherwise."""
    labels = detect.multilabel_columns(df)
    if not labels:
        return []
    choice = detect.choose_target(df, profiles, description=description, dataset_name=name)
    return labels if choice is None or choice.alternatives or choice.column in labels else []


def _multilabel_task(ov: Overrides, train_df, valid_df, test_df, profiles, train_p: Path, valid_p, test_p, *,
                     name: str, description: str, reason: str) -> Task:
    """A task with several 0/1 label columns, each possibly missing per row (a row counts for the labels it
    has). Every named column must exist and hold only 0/1 (or be empty) in every file."""
    labels = list(
        dict.fromkeys(ov.target if isinstance(ov.target, list) else [ov.target] if ov.target else [])
    )
    if len(labels) < 2:
        raise InputError("a multilabel task needs several 0/1 target columns; name them with a repeated "
                         "--target (or target = [...] in task.toml).")
    if ov.task_type not in (None, "multilabel"):
        raise InputError(f"several target columns make a multilabel task, not {ov.task_type}; drop "
                         f"--task-type or give one --target.")
    for label in labels:
        if label not in train_df.columns:
            raise InputError(f"the target column '{label}' is not in {train_p}; "
                             f"choose among: {_column_list(train_df.columns)}.")
    for other, path in ((valid_df, valid_p), (test_df, test_p)):
        if other is not None:
            _check_columns(train_df, other, train_p, path, labels[0])
            absent = [c for c in labels if c not in other.columns]
            if absent:
                raise InputError(f"{path} has no label column '{absent[0]}'; add it (hidden test labels are "
                                 f"read only by the harness) or remove the file.")
    for df, path in ((train_df, train_p), (valid_df, valid_p), (test_df, test_p)):
        if df is None:
            continue
        for label in labels:
            bad = detect.not_zero_one(df[label])
            if bad is not None:
                raise InputError(f"the target column '{label}' in {path} holds {bad!r}, not only 0/1, so it "
                                 f"cannot be one of several labels; give only 0/1 columns to --target or "
                                 f"name one target.")
    for label in labels:
        y = train_df[label].dropna()
        if y.nunique() < 2:
            raise InputError(
                f"the label '{label}' in {train_p} has no {'positive' if (y == 0).all() else 'negative'}"
                f" row, so no model can learn it; drop it from the target list."
            )
    metric = _pick_metric(ov.metric, "multilabel")
    columns = _final_roles(train_df, profiles, labels, "multilabel", ov, description)
    if not any(c.is_feature for c in columns):
        raise InputError(
            f"{train_p} has no usable feature column besides the labels; check --ignore or task.toml."
        )
    measured = train_df[labels].notna().mean()
    warnings = []
    if (measured < 1).any():
        warnings.append(
            f"labels are missing in some rows (measured in {measured.min():.0%} to {measured.max():.0%}"
            f" of rows); each label is learned and scored on the rows where it was measured."
        )
    unlabelled = int(train_df[labels].isna().all(axis=1).sum())
    if unlabelled:
        warnings.append(
            f"{unlabelled} training row(s) have no label at all; no label model learns from them."
        )
    rare = [c for c in labels if (train_df[c] == 1).sum() < 5]
    if rare:
        warnings.append(f"label(s) {', '.join(rare[:5])} have fewer than 5 positive training rows; their "
                        f"metrics will be noisy.")
    group = next((c.name for c in columns if c.role == "group"), None)
    return Task(
        name=name, train_path=str(train_p.resolve()),
        validation_path=str(valid_p.resolve()) if valid_p else None,
        test_path=str(test_p.resolve()) if test_p else None, description=description,
        target=", ".join(labels), labels=labels, target_reason=reason or "chosen by the user",
        task_type="multilabel", task_type_reason="several 0/1 target columns", classes=None, metric=metric,
        columns=columns, group_column=group, n_train=len(train_df),
        n_validation=len(valid_df) if valid_df is not None else None,
        n_test=len(test_df) if test_df is not None else None, warnings=warnings)


def _check_forced_type(y: pd.Series, task_type: str, target: str) -> None:
    """A task type set by the user must fit the target's values."""
    numeric = pd.to_numeric(y, errors="coerce")
    if task_type == "regression" and numeric.isna().any():
        raise InputError(f"the target '{target}' is not numeric, so it cannot be a regression task; "
                         f"drop --task-type regression.")
    n = int(y.nunique())
    if task_type == "binary" and n != 2:
        other = "regression" if detect.infer_task_type(y)[0] == "regression" else "multiclass"
        raise InputError(f"the target '{target}' has {n} distinct values, so it cannot be a binary task; "
                         f"use --task-type {other} or choose another --target.")
    if task_type == "multiclass" and not numeric.isna().any() and (numeric != numeric.round()).any():
        raise InputError(f"the target '{target}' holds continuous numbers ({n} distinct values), so it "
                         f"cannot be a multiclass task; use --task-type regression.")


def _check_columns(
    train: pd.DataFrame, other: pd.DataFrame, train_p: Path, other_p: Path, target: str
) -> None:
    """Validation and test files hold the training file's columns: a model trained on a column must
    find it."""
    missing = [c for c in train.columns if c not in other.columns]
    extra = [c for c in other.columns if c not in train.columns]
    if missing == [target] and not extra:
        return  # reported by the caller with a sentence about hidden labels
    if missing and not extra:
        names = ", ".join(map(repr, [c for c in missing if c != target][:5]))
        raise InputError(
            f"{other_p} lacks the column(s) {names} of {train_p.name}; add them (a model trained on "
            f"{train_p.name} needs every input column) or drop them from {train_p.name}."
        )
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"lacks {', '.join(map(repr, missing[:5]))}")
        if extra:
            parts.append(f"has extra {', '.join(map(repr, extra[:5]))}")
        raise InputError(
            f"{other_p} columns disagree with {train_p.name} ({'; '.join(parts)}); "
            "give files with the same columns."
        )


def _column_list(columns) -> str:
    names = [str(c) for c in columns]
    return ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")


def _pick_target(df, profiles, ov: Overrides, description: str, name: str, train_p: Path) -> tuple[str, str]:
    if ov.target:
        if ov.target not in df.columns:
            raise InputError(f"the target column '{ov.target}' is not in {train_p}; "
                             f"choose one of: {_column_list(df.columns)}.")
        return ov.target, "chosen by the user"
    choice = detect.choose_target(df, profiles, description=description, dataset_name=name)
    if choice is None:
        raise InputError(
            f"could not tell which column of {train_p} is the target; "
            f"pass --target COLUMN (columns: {', '.join(df.columns)})."
        )
    if choice.alternatives:
        options = ", ".join([choice.column, *choice.alternatives])
        raise InputError(
            f"{train_p} has several plausible target columns ({options}); choose one with --target COLUMN."
        )
    return choice.column, choice.reason


def _pick_metric(requested: str | None, task_type: str) -> str:
    if not requested:
        return DEFAULT_METRIC[task_type]
    key = resolve_metric_name(requested)
    allowed = [m.name for m in metrics_for(task_type)]
    if key is None:
        raise InputError(f"unknown metric '{requested}'; for a {task_type} task choose one of: "
                         f"{', '.join(allowed)}.")
    if key not in allowed:
        raise InputError(
            f"metric '{requested}' does not apply to a {task_type} task; choose one of: {', '.join(allowed)}."
        )
    return key


def check_named_columns(ov: Overrides, columns, target: str) -> None:
    """Every column an override names exists and is not the target."""
    lists = ("id_columns", "ignore_columns", "feature_columns")
    named = [(key, c) for key in lists for c in getattr(ov, key)]
    named += [("group_column", ov.group_column)] if ov.group_column else []
    for key, name in named:
        if name not in columns:
            raise InputError(f"the column '{name}' given to {_where(key)} is not in the training data; "
                             f"check its spelling (columns: {_column_list(columns)}).")
        if name == target:
            raise InputError(f"the column '{name}' given to {_where(key)} is the target, which is never a "
                             f"feature; remove it there or choose another --target.")


def _leak(df: pd.DataFrame, name: str, targets: list[str], task_type: str) -> str | None:
    """Why column ``name`` looks like it leaks the target (or, multi-label, one of the labels)."""
    for t in targets:
        why = detect.leakage_reason(df[name], df[t], "binary" if task_type == "multilabel" else task_type)
        if why is not None:
            return why if len(targets) == 1 else f"{why} ('{t}')"
    return None


def _final_roles(df: pd.DataFrame, profiles: dict[str, detect.ColumnProfile], target: str | list[str],
                 task_type: str, ov: Overrides, description: str = "") -> list[ColumnInfo]:
    targets = target if isinstance(target, list) else [target]
    has_sequences = any(p.role in ("dna", "rna", "protein") for p in profiles.values())
    for t in targets:
        check_named_columns(ov, df.columns, t)
    out = []
    for name, p in profiles.items():
        info = ColumnInfo(**p.__dict__)
        if name in targets:
            info.role, info.reason = "target", "the value to predict"
        elif name in ov.feature_columns:
            info.reason = (
                f"{info.reason}; kept as a feature by the user"
                if info.is_feature
                else "kept as a feature by the user"
            )
            if not info.is_feature:
                info.role = "numeric" if pd.api.types.is_numeric_dtype(df[name]) else "categorical"
        elif name in ov.id_columns:
            info.role, info.reason = "identifier", "set as an identifier by the user"
        elif name == ov.group_column:
            info.role, info.reason = "group", "set as the group column by the user"
        elif name in ov.ignore_columns:
            info.role, info.reason = "metadata", "ignored by the user"
        elif info.role in ("group", "identifier", "constant", "empty", "metadata"):
            pass
        elif (why := _leak(df, name, targets, task_type)) is not None:
            info.role, info.reason = "leak", f"leakage suspect: {why}"
        elif (dup := detect.duplicate_of(df, name, [o.name for o in out if o.is_feature])) is not None:
            info.role, info.reason = "duplicate", f"an exact copy of '{dup}'"
        elif has_sequences and info.role in ("categorical", "text"):
            info.role, info.reason = (
                "metadata",
                "annotation next to sequence columns: a sequence model learns from the sequences, "
                "and such labels can encode how negatives were sampled",
            )
        elif (info.role == "numeric" and not has_sequences and (why := detect.integer_code_reason(
                df[name], description=description, columns=list(df.columns))) is not None):
            info.role, info.reason = "categorical", why
        out.append(info)
    if ov.group_column:
        for info in out:
            if info.role == "group" and info.name != ov.group_column:
                info.role, info.reason = (
                    "metadata",
                    "another group-like column (the user chose a different group column)",
                )
    return out
