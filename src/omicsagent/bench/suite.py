"""Suites: a TOML file listing tasks (paths relative to a data root given on the command line), with domains.

    [suite]
    name = "omics-mini"
    time_limit = "15m"            # optional default per job

    [[tasks]]
    id = "gue_tf0"
    path = "ml/gue_tf0"           # relative to --data ROOT
    domain = "sequences"
    metric = "auroc"              # optional; layout = "auto" (default), "task", "dataset", "bioxarena",
                                  # "mlebench"; target = "COLUMN" (a dataset's target, overrides detection)

    [[tasks]]
    id = "cells"
    path = "ml/cells"             # one AnnData file without test rows
    target = "cell_type"          # the obs column to predict
    holdout = 0.2                 # dataset layout only: hold out 20% of the training rows as the test set,
    holdout_seed = 0              # stratified by the target, with this seed (default 0): fixed per suite

Each entry is one of: a prepared task folder (``task.toml`` + ``public/`` + ``private/``); an omicsagent
dataset folder (train/validation/test with labels), prepared on the fly into ``RESULTS/tasks/<id>/`` the
first time ``bench run`` needs it; a BioXArena task folder; an MLE-bench / BioML-bench competition folder.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from omicsagent.bench.task import BenchTask, is_task_dir, load_task_dir
from omicsagent.errors import InputError
from omicsagent.tasks.io import find_table

LAYOUTS = ("auto", "task", "dataset", "bioxarena", "mlebench")
ENTRY_KEYS = {
    "id",
    "path",
    "domain",
    "modality",
    "metric",
    "direction",
    "normaliser",
    "baseline_error",
    "layout",
    "time_limit",
    "grade",
    "answers",
    "raw",
    "target",
    "holdout",
    "holdout_seed",
}


@dataclass
class Suite:
    name: str
    entries: list[dict]
    time_limit_s: float | None = None
    description: str = ""
    source: Path | None = None
    ids: list[str] = field(default_factory=list)


def seconds(value, where: str) -> float:
    """A duration from a TOML value: a number of seconds or a string such as '15m'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str):
        from omicsagent.cli import parse_duration

        return parse_duration(value)
    raise InputError(f"{where}: time limit {value!r} is not a duration; write it like \"15m\" or 900.")


def _safe_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "task"


def load_suite(path: str | Path) -> Suite:
    """A suite TOML file, or a single task/dataset folder as a one-task suite."""
    path = Path(path)
    if path.is_dir():
        folder = path.resolve()
        name = folder.name
        if is_task_dir(folder):
            name = str(tomllib.loads((folder / "task.toml").read_text()).get("task", {}).get("id") or name)
        return Suite(
            name=_safe_id(name), entries=[{"id": _safe_id(name), "path": str(folder)}], ids=[_safe_id(name)]
        )
    if not path.is_file():
        raise InputError(
            f"{path} does not exist; give a suite TOML file (such as benchmarks/suites/omics-mini.toml) "
            "or a task folder."
        )
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not valid TOML ({err}); fix its syntax.") from None
    head = raw.get("suite", {})
    entries = raw.get("tasks") or raw.get("task") or []
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path} lists no tasks; add [[tasks]] entries with id, path and domain.")
    seen: set[str] = set()
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "path" not in e:
            raise InputError(
                f"{path}: task entry {i + 1} has no path; give each [[tasks]] a path relative to --data."
            )
        unknown = sorted(set(e) - ENTRY_KEYS)
        if unknown:
            raise InputError(f"{path}: task entry {i + 1} has unknown key(s) {', '.join(unknown)}; use only "
                             f"{', '.join(sorted(ENTRY_KEYS))}.")
        e.setdefault("id", _safe_id(Path(e["path"]).name))
        e["id"] = _safe_id(str(e["id"]))
        if e["id"] in seen:
            raise InputError(f"{path}: the task id {e['id']!r} appears twice; give each task its own id.")
        seen.add(e["id"])
        if "holdout" in e:
            from omicsagent.bench.prepare import check_holdout

            check_holdout(e["holdout"], f"{path}: task {e['id']}'s holdout")
        seed = e.get("holdout_seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise InputError(f"{path}: task {e['id']}'s holdout_seed is {seed!r}; give a whole number >= 0.")
        if e.get("layout", "auto") not in LAYOUTS:
            raise InputError(
                f"{path}: task {e['id']} has layout {e['layout']!r}; use one of {', '.join(LAYOUTS)}."
            )
    limit = seconds(head["time_limit"], str(path)) if "time_limit" in head else None
    return Suite(
        name=str(head.get("name") or path.stem),
        entries=entries,
        time_limit_s=limit,
        description=str(head.get("description", "")),
        source=path.resolve(),
        ids=[e["id"] for e in entries],
    )


def detect_layout(folder: Path) -> str:
    if is_task_dir(folder):
        return "task"
    if (folder / "config.yaml").is_file():
        return "mlebench"
    if (folder / "public").is_dir() and find_table(folder / "public", "sample_submission") is not None:
        return "bioxarena"
    if find_table(folder, "train") is not None or any(folder.glob("*.h5ad")):  # load_task picks the file
        return "dataset"
    raise InputError(
        f"{folder} is not a task folder (task.toml + public/), a dataset folder (train.csv + test.csv, or "
        "AnnData .h5ad files), "
        "a BioXArena task (public/sample_submission.csv) nor an MLE-bench task (config.yaml)."
    )


def resolve_task(entry: dict, *, data_root: Path, work: Path, default_time_limit_s: float | None = None,
                 time_limit_s: float | None = None) -> BenchTask:
    """The BenchTask of one suite entry; a dataset folder is prepared into ``work/<id>`` once."""
    from omicsagent.bench import adapters
    from omicsagent.bench.prepare import prepare_dataset

    folder = (Path(data_root) / entry["path"]).resolve()
    if not folder.is_dir():
        raise InputError(
            f"task {entry['id']}: {folder} does not exist; check --data (the folder the suite's paths "
            "are relative to)."
        )
    layout = entry.get("layout", "auto")
    layout = detect_layout(folder) if layout == "auto" else layout
    limit = time_limit_s or (seconds(entry["time_limit"], f"task {entry['id']}") if "time_limit" in entry
                             else default_time_limit_s)
    if "holdout" in entry and layout != "dataset":
        raise InputError(f"task {entry['id']}: holdout applies to a dataset folder, and {folder} is a "
                         f"{layout} folder with its own test rows; remove holdout from the entry.")
    if layout == "task":
        task = load_task_dir(folder, domain=entry.get("domain"), id=entry["id"])
    elif layout == "dataset":
        dest = Path(work) / entry["id"]
        if not is_task_dir(dest):
            prepare_dataset(folder, dest, task_id=entry["id"], domain=entry.get("domain", ""),
                            metric=entry.get("metric"), target=entry.get("target"),
                            holdout=entry.get("holdout"), holdout_seed=entry.get("holdout_seed", 0))
        task = load_task_dir(dest, domain=entry.get("domain"))
    elif layout == "bioxarena":
        task = adapters.bioxarena_task(folder, entry, Path(data_root))
    else:
        task = adapters.mlebench_task(folder, entry, Path(data_root), Path(work))
    if limit is not None:
        task = task.model_copy(update={"time_limit_s": limit})
    return task


def resolve_suite(suite: Suite, *, data_root: Path, work: Path, only: list[str] | None = None,
                  time_limit_s: float | None = None) -> list[BenchTask]:
    """The suite's tasks (``only`` a selection of ids); ``time_limit_s`` overrides every task's limit."""
    if only:
        unknown = [t for t in only if t not in suite.ids]
        if unknown:
            raise InputError(
                f"--tasks names {', '.join(unknown)}, not in the suite {suite.name}; choose from "
                f"{', '.join(suite.ids)}."
            )
    entries = [e for e in suite.entries if not only or e["id"] in only]
    return [resolve_task(e, data_root=data_root, work=work, default_time_limit_s=suite.time_limit_s,
                         time_limit_s=time_limit_s) for e in entries]
