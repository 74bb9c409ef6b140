"""A benchmark task: a folder with ``task.toml``, ``public/`` (what an agent may see) and ``private/`` (the
test answers, never mounted into a sandbox), and optionally a ``grade.py``.

    TASK/task.toml                 id, domain, modality, metric, direction, normaliser, time limit, submission
    TASK/public/train.csv          training rows with labels (+ validation.csv)
    TASK/public/test.csv           test inputs with an id column and no labels
    TASK/public/description.md     what to predict and how the submission is scored
    TASK/public/sample_submission.csv
    TASK/private/answers.csv       id column + the target, read only by the grader
    TASK/grade.py                  optional: ``grade(submission, answers) -> float``

``BenchTask`` is the in-memory form shared by every layout (this one and the adapters' reference layouts):
absolute paths plus the declaration the grader and the normaliser need.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from omicsagent.errors import InputError

TASK_FILE = "task.toml"
NORMALISERS = ("bounded", "signed", "error_ratio")
DEFAULT_TIME_LIMIT_S = 900.0


class BenchTask(BaseModel):
    """Everything needed to run agents on a task and grade their submissions (plain, picklable data)."""

    id: str
    domain: str = ""
    modality: str = ""
    layout: str = "omicsagent"  # omicsagent | bioxarena | mlebench
    root: str  # the task folder (absolute)
    public_dir: str  # the only folder an agent sees (absolute)
    answers: str  # the private answers table (absolute)
    task_type: Literal["binary", "multiclass", "regression", "multilabel"] | None = None
    target: str | None = None  # the answers column scored by the built-in grader
    labels: list[str] | None = None  # multilabel: the answers' label columns (0/1, missing allowed)
    classes: list[Any] | None = None
    metric: str
    direction: Literal["higher", "lower"] = "higher"
    normaliser: str = "bounded"
    baseline_error: float | None = None  # the constant baseline's error (error_ratio only)
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    id_column: str = "id"
    submission_columns: list[str] = Field(default_factory=list)
    grader: str | None = None  # a task's own grade.py (absolute), run in a separate process
    grade_fn: str = "grade"
    grader_paths: list[str] = Field(default_factory=list)  # extra import roots for the grader
    source: str = ""  # where the task came from (a dataset folder, a reference layout)

    @property
    def public(self) -> Path:
        return Path(self.public_dir)

    @property
    def private_paths(self) -> list[Path]:
        """Paths an agent must never see: the answers and the private folder when there is one."""
        paths = [Path(self.answers)]
        for private in (Path(self.root) / "private", Path(self.answers).parent):
            if private.name == "private" and private.is_dir() and private not in paths:
                paths.append(private)
        return paths

    def check(self) -> None:
        """Raise ``InputError`` (one sentence) when the declaration cannot be graded."""
        if self.normaliser not in NORMALISERS:
            raise InputError(f"task {self.id}: normaliser {self.normaliser!r} is not known; use one of "
                             f"{', '.join(NORMALISERS)}.")
        if self.normaliser == "error_ratio":
            if self.direction != "lower":
                raise InputError(
                    f"task {self.id}: the error_ratio normaliser is for lower-is-better errors; set "
                    'direction = "lower" or choose another normaliser.'
                )
            b = self.baseline_error
            if b is None or not math.isfinite(b) or b <= 0:
                raise InputError(
                    f"task {self.id}: the error_ratio normaliser needs a positive baseline_error (the "
                    "error of a constant prediction from the training labels); set it in task.toml."
                )
        elif self.direction == "lower":
            raise InputError(
                f'task {self.id}: a lower-is-better metric needs normaliser = "error_ratio" with a '
                "baseline_error; fix task.toml."
            )
        if not self.submission_columns or self.id_column not in self.submission_columns:
            raise InputError(f"task {self.id}: the submission columns must include the id column "
                             f"{self.id_column!r}; fix task.toml.")
        if self.grader is None:
            from omicsagent.ml.metrics import resolve_metric_name

            if resolve_metric_name(self.metric) is None or (self.target is None and not self.labels) \
                    or self.task_type is None:
                raise InputError(
                    f"task {self.id}: metric {self.metric!r} needs a grade.py (the built-in grader "
                    "knows the omicsagent metrics and needs target and task_type)."
                )
        if not self.public.is_dir():
            raise InputError(f"task {self.id}: {self.public} does not exist; prepare the task first.")
        if not Path(self.answers).is_file():
            raise InputError(
                f"task {self.id}: the answers file {self.answers} does not exist; the task cannot be "
                "graded without it."
            )


# ----------------------------------------------------------------------------------------------------
# task.toml
# ----------------------------------------------------------------------------------------------------

def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def dump_toml(tables: dict[str, dict[str, Any]]) -> str:
    """A small TOML writer for flat tables of strings, numbers, booleans and lists (None is left out)."""
    out = []
    for name, table in tables.items():
        out.append(f"[{name}]")
        out += [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None]
        out.append("")
    return "\n".join(out)


def write_task_toml(task: BenchTask, folder: Path) -> Path:
    """Write ``folder/task.toml``; paths under ``task.root`` are written relative to it, so the folder can
    be written elsewhere first and moved into place."""
    folder, root = Path(folder), Path(task.root)

    def rel(p: Any) -> Any:
        return str(Path(p).relative_to(root)) if p and Path(p).is_relative_to(root) else p

    text = dump_toml(
        {
            "task": {
                "id": task.id,
                "domain": task.domain,
                "modality": task.modality,
                "task_type": task.task_type,
                "target": task.target,
                "labels": task.labels,
                "classes": task.classes,
                "metric": task.metric,
                "direction": task.direction,
                "normaliser": task.normaliser,
                "baseline_error": task.baseline_error,
                "time_limit_s": task.time_limit_s,
                "source": task.source,
            },
            "submission": {"id_column": task.id_column, "columns": task.submission_columns},
            "files": {
                "public": rel(task.public_dir),
                "answers": rel(task.answers),
                "grader": rel(task.grader) if task.grader else None,
                "grade_fn": task.grade_fn if task.grader else None,
            },
        }
    )
    path = folder / TASK_FILE
    path.write_text("# An omicsagent benchmark task (see docs/bench.md)\n" + text)
    return path


def is_task_dir(folder: Path) -> bool:
    return (Path(folder) / TASK_FILE).is_file() and (Path(folder) / "public").is_dir()


def load_task_dir(folder: str | Path, **overrides: Any) -> BenchTask:
    """Read a task folder written by ``omicsagent bench prepare`` (or by hand in that layout)."""
    folder = Path(folder).resolve()
    path = folder / TASK_FILE
    if not path.is_file():
        raise InputError(
            f"{folder} has no {TASK_FILE}; give a task folder made by `omicsagent bench prepare`."
        )
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not valid TOML ({err}); fix its syntax.") from None
    t, sub, files = raw.get("task", {}), raw.get("submission", {}), raw.get("files", {})

    def at(p: Any) -> str | None:
        return str((folder / p).resolve()) if p else None

    grader = files.get("grader")
    if grader is None and (folder / "grade.py").is_file():
        grader = "grade.py"
    data = {**t, "root": str(folder), "public_dir": at(files.get("public", "public")),
            "answers": at(files.get("answers", "private/answers.csv")), "grader": at(grader),
            "grade_fn": files.get("grade_fn") or "grade", "id_column": sub.get("id_column", "id"),
            "submission_columns": sub.get("columns", [])}
    data.setdefault("id", folder.name)
    data.update({k: v for k, v in overrides.items() if v is not None})
    from pydantic import ValidationError

    try:
        task = BenchTask(**data)
    except ValidationError as err:  # one sentence
        lines = str(err).splitlines()
        raise InputError(
            f"{path} has an invalid entry ({lines[1] if len(lines) > 1 else err}); see docs/bench.md."
        ) from None
    task.check()
    return task
