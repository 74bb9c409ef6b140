"""Reference benchmark layouts read as they are, without converting anything by hand.

* BioXArena: ``<task>/public/`` with ``description.md``, ``sample_submission.csv`` and train/test files, the
  answers in ``<task>/private/answers.csv`` (or a path given in the suite), and the task's ``grade.py``
  exposing ``grade(submission_df, answers_df)`` (next to ``public/`` or a path given in the suite: the
  BioXArena repository keeps them in ``tasks/<domain>/<task>/grade.py``).
* MLE-bench / BioML-bench: a competition folder with ``config.yaml``, ``prepare.py``, ``grade.py`` and
  ``description.md``; ``prepare.py`` turns the raw data (``<folder>/raw`` or a path given in the suite)
  into ``public/`` and ``private/`` once, in the results folder, in a separate process.

The metric's direction and normaliser come from the suite entry, else from the metric's name when
omicsagent knows it, else the score is taken as a bounded higher-is-better number.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from omicsagent.bench.normalise import DEFAULT_NORMALISER
from omicsagent.bench.task import BenchTask
from omicsagent.errors import InputError
from omicsagent.ml.metrics import get_metric, resolve_metric_name
from omicsagent.tasks.io import find_table, read_table

# names the reference benchmarks give their graders -> omicsagent metric names
GRADER_NAMES = {
    "mean-absolute-error": "mae",
    "mean_absolute_error": "mae",
    "root-mean-squared-error": "rmse",
    "root_mean_squared_error": "rmse",
    "auc-roc": "auroc",
    "roc-auc": "auroc",
    "roc_auc": "auroc",
    "log-loss": "log_loss",
    "average-precision": "auprc",
    "macro-f1": "macro_f1",
    "matthews-correlation": "mcc",
    "pearson-correlation": "pearson",
    "spearman-correlation": "spearman",
}
PREPARE_TIMEOUT_S = 3600.0


def known_metric(name: str | None) -> str | None:
    if not name:
        return None
    return resolve_metric_name(GRADER_NAMES.get(name.strip().lower(), name))


def import_roots(code: Path) -> list[str]:
    """Folders to put on the task code's import path: the parent of the outermost package folder (one with
    ``__init__.py``) among its six nearest ancestors, so BioXArena's ``from tasks.utils import ...`` and
    MLE-bench's ``from mlebench.grade_helpers import ...`` resolve."""
    packages = [p for p in list(Path(code).resolve().parents)[:6] if (p / "__init__.py").is_file()]
    return [str(packages[-1].parent)] if packages else []


def declaration(entry: dict, metric_hint: str | None) -> dict:
    """metric, direction and normaliser for a task graded by its own code."""
    metric = entry.get("metric") or metric_hint or "score"
    known = known_metric(metric)
    direction = entry.get("direction") or (
        ("higher" if get_metric(known).greater_is_better else "lower") if known else "higher")
    normaliser = entry.get("normaliser") or (DEFAULT_NORMALISER[known] if known else
                                             ("error_ratio" if direction == "lower" else "bounded"))
    return {"metric": known or metric, "direction": direction, "normaliser": normaliser}


def _resolve(value: str | None, base: Path) -> Path | None:
    return None if value is None else (base / value).resolve()


def _constant_submission(task: BenchTask, dest: Path) -> Path:
    """A know-nothing submission from the training labels: each submission column found in the training
    table gets its mean (median for MAE) or most frequent value; other columns keep the sample's values."""
    public = task.public
    sample = read_table(find_table(public, "sample_submission"))
    train_path = find_table(public, "train")
    train = read_table(train_path) if train_path else pd.DataFrame()
    for col in sample.columns[1:]:
        if col in train.columns:
            values = train[col].dropna()
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.notna().all() and values.nunique() > 2:
                sample[col] = float(numeric.median() if task.metric == "mae" else numeric.mean())
            else:
                sample[col] = values.mode().iloc[0]
    sample.to_csv(dest, index=False)
    return dest


def with_baseline(task: BenchTask, entry: dict) -> BenchTask:
    """Fill ``baseline_error`` for an error_ratio task graded by its own code (the grader scores a constant
    submission made from the training labels), unless the suite declares it."""
    if task.normaliser != "error_ratio" or task.baseline_error is not None:
        return task
    if entry.get("baseline_error") is not None:
        return task.model_copy(update={"baseline_error": float(entry["baseline_error"])})
    from omicsagent.bench.grading import InvalidSubmission, read_answers, run_grader, validate_submission

    with tempfile.TemporaryDirectory(prefix="omicsagent-baseline-") as tmp:
        const = _constant_submission(task, Path(tmp) / "constant.csv")
        try:
            aligned = validate_submission(task, const, read_answers(task))
            aligned.to_csv(const, index=False)
            value = run_grader(task, const, Path(task.answers))
        except InvalidSubmission as err:
            raise InputError(f"task {task.id}: could not compute the constant baseline's error ({err}); set "
                             "baseline_error for it in the suite.") from None
    return task.model_copy(update={"baseline_error": value})


def _submission_layout(public: Path) -> tuple[str, list[str]]:
    sample = find_table(public, "sample_submission")
    if sample is None:
        raise InputError(f"{public} has no sample_submission.csv; the reference layouts need one.")
    cols = list(read_table(sample, nrows=5).columns)
    return cols[0], cols


def bioxarena_task(folder: Path, entry: dict, data_root: Path) -> BenchTask:
    folder = Path(folder).resolve()
    public = folder / "public"
    if not (public / "description.md").is_file():
        raise InputError(
            f"{public} has no description.md; a BioXArena task folder has public/description.md."
        )
    grade = _resolve(entry.get("grade"), data_root) or folder / "grade.py"
    if not grade.is_file():
        raise InputError(f"task {entry.get('id', folder.name)}: no grade.py at {grade}; give its path with "
                         "grade = \"...\" in the suite entry.")
    answers = _resolve(entry.get("answers"), data_root) or folder / "private" / "answers.csv"
    id_col, cols = _submission_layout(public)
    target = cols[1] if len(cols) == 2 else None
    task = BenchTask(id=entry.get("id") or folder.name, domain=entry.get("domain") or folder.parent.name,
                     modality=entry.get("modality", ""), layout="bioxarena", root=str(folder),
                     public_dir=str(public), answers=str(answers), target=target, id_column=id_col,
                     submission_columns=cols, grader=str(grade), grader_paths=import_roots(grade),
                     source=str(folder), **declaration(entry, None))
    task = with_baseline(task, entry)
    task.check()
    return task


def _config(folder: Path) -> dict:
    import yaml

    try:
        cfg = yaml.safe_load((folder / "config.yaml").read_text()) or {}
    except yaml.YAMLError as err:
        raise InputError(
            f"{folder / 'config.yaml'} is not valid YAML ({str(err).splitlines()[0]}); fix it."
        ) from None
    if not isinstance(cfg, dict):
        raise InputError(
            f"{folder / 'config.yaml'} is not a mapping; it needs id, dataset and grader entries."
        )
    return cfg


def _dataset_files(cfg: dict) -> tuple[str, str]:
    """Basenames of the answers and sample submission (MLE-bench ``dataset``; BioML-bench
    ``datasets: {'0': ...}``)."""
    ds = cfg.get("dataset") or next(iter((cfg.get("datasets") or {}).values()), {}) or {}
    return Path(str(ds.get("answers", "answers.csv"))).name, Path(
        str(ds.get("sample_submission", "sample_submission.csv"))
    ).name


def _find_split(prepared: Path, name: str) -> Path:
    for candidate in [prepared / name, *sorted(prepared.glob(f"*/{name}"))]:
        if candidate.is_dir():
            return candidate
    raise InputError(f"prepare.py wrote no {name}/ folder under {prepared}; check the task's prepare.py.")


def prepare_mlebench(folder: Path, raw: Path, dest: Path) -> None:
    """Run the task's prepare.py (separate process) into ``dest`` (written atomically)."""
    cfg = _config(folder)
    fn = str(cfg.get("preparer", "prepare:prepare")).rsplit(":", 1)[-1] or "prepare"
    if not (folder / "prepare.py").is_file():
        raise InputError(f"{folder} has config.yaml but no prepare.py; an MLE-bench task folder needs both.")
    if not raw.exists():
        raise InputError(f"the raw data folder {raw} does not exist; put the task's raw files there or set "
                         "raw = \"...\" in the suite entry.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    argv = [sys.executable, "-m", "omicsagent.bench._taskcode", "prepare", str(folder / "prepare.py"), fn,
            str(raw), str(tmp), *import_roots(folder / "prepare.py")]
    try:
        res = subprocess.run(
            argv,
            check=False,
            cwd=str(folder),
            capture_output=True,
            text=True,
            timeout=PREPARE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        if res.returncode != 0:
            tail = (res.stderr.strip().splitlines() or [f"exit code {res.returncode}"])[-1]
            raise InputError(
                f"the task's prepare.py failed in {folder} ({tail[:300]}); fix it or its raw data."
            )
        public = _find_split(tmp, "public")
        desc = folder / "description.md"
        if desc.is_file() and not (public / "description.md").exists():
            shutil.copyfile(desc, public / "description.md")
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def mlebench_task(folder: Path, entry: dict, data_root: Path, work: Path) -> BenchTask:
    folder = Path(folder).resolve()
    cfg = _config(folder)
    task_id = entry.get("id") or str(cfg.get("id") or folder.name)
    prepared = Path(work) / task_id
    if not prepared.is_dir():
        raw = _resolve(entry.get("raw"), data_root) or folder / "raw"
        prepare_mlebench(folder, raw, prepared)
    public, private = _find_split(prepared, "public"), _find_split(prepared, "private")
    answers_name, _ = _dataset_files(cfg)
    grade = folder / "grade.py"
    if not grade.is_file():
        raise InputError(f"{folder} has no grade.py; an MLE-bench task folder needs one.")
    grader = cfg.get("grader") or {}
    fn = str(grader.get("grade_fn", "grade:grade")).rsplit(":", 1)[-1] or "grade"
    id_col, cols = _submission_layout(public)
    biomed = cfg.get("biomedical_metadata") or {}
    task = BenchTask(id=task_id, domain=entry.get("domain") or str(cfg.get("domain") or ""),
                     modality=entry.get("modality") or str(biomed.get("modality") or ""), layout="mlebench",
                     root=str(prepared), public_dir=str(public), answers=str(private / answers_name),
                     target=cols[1] if len(cols) == 2 else None, id_column=id_col, submission_columns=cols,
                     grader=str(grade), grade_fn=fn, grader_paths=import_roots(grade), source=str(folder),
                     **declaration(entry, grader.get("name")))
    task = with_baseline(task, entry)
    task.check()
    return task
