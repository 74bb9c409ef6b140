"""The harness: what the brain cannot touch. It prepares the workspace, keeps private copies of the labels,
scores each iteration by running its inference script in the sandbox, promotes the best iteration to
``best/`` and scores the hidden test set once at the end.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.agent.bundle import write_environment
from omicsagent.agent.journal import RunJournal, SplitInfo
from omicsagent.agent.layout import PRIVATE_DIR, RunLayout
from omicsagent.agent.steps import check_predictions
from omicsagent.errors import InputError, ModelMistake
from omicsagent.ml.io import read_table, take_rows, write_table
from omicsagent.ml.metrics import evaluate
from omicsagent.tasks.task import Task

HARNESS_DIR = PRIVATE_DIR  # kept for imports; paths come from RunLayout
MAX_TRAIN_SCORING_ROWS = 20_000


TRAIN_INPUT = "inputs/train.csv"  # the training rows the agent gets, relative to the workspace root
VALIDATION_FEATURES = "scoring/validation_features.csv"  # validation inputs without the target
TRAIN_FEATURES = "scoring/train_features.csv"
EMBEDDING_CACHE = "embedding_cache"  # the embedding cache's folder in a workspace's scratch/
FEATURE_CACHE = "feature_cache"  # the row-feature cache's folder (ml.rowcache) in a workspace's scratch/
FIT_CACHE = "fit_cache"  # the fitted-model cache's folder (ml.fitcache) in a workspace's scratch/
RUN_CACHES = (EMBEDDING_CACHE, FEATURE_CACHE, FIT_CACHE)  # keyed by content: a fork of the run keeps them


def prepare_workspace(task: Task, layout: RunLayout | Path):
    """Create the workspace with the inputs an agent may read: the training rows, description, task card.

    ``inputs/train.csv`` is the task's training table as omicsagent read it (rows with a missing target
    dropped when the task says so), written by ``write_table``: comma-separated, or an AnnData file when
    its genes are sparse (workspace files keep a sparse matrix sparse whatever they are called). A given
    validation file never enters the workspace with its labels: it is registered as the split at once,
    features only. Test never enters.
    """
    from omicsagent.sandbox import Workspace

    layout = RunLayout.at(layout)
    ws = Workspace.create(layout.workspace)
    layout.private.mkdir(exist_ok=True)
    _write_input(ws, TRAIN_INPUT, task.table("train"), task)
    if task.description:
        (ws.inputs / "description.md").write_text(task.description)
    card = task.model_dump(exclude={"test_path", "train_path", "validation_path"})
    (ws.inputs / "task.json").write_text(json.dumps(card, indent=1, default=str))
    return ws


def _write_input(ws, rel: str, df: pd.DataFrame, task: Task) -> None:
    """(Re)write a read-only input file atomically."""
    path = ws.root / rel
    tmp = path.with_name(f".{path.name}.new")
    write_table(df, tmp, layer=task.layer)
    tmp.chmod(0o444)
    tmp.replace(path)


def register_given_split(layout: RunLayout | Path, ws, task: Task) -> SplitInfo:
    """The task's own validation file is the split: its labels go to the harness only."""
    train, valid = task.table("train"), task.table("validation")
    return _register(layout, ws, task, train, valid, train_rel=TRAIN_INPUT, method="given (validation file)",
                     stratified=False, grouped_by=None)


def register_split(layout: RunLayout | Path, ws, task: Task, *, train_rel: str, valid_rel: str, method: str,
                   stratified: bool, grouped_by: str | None) -> SplitInfo:
    """Take over a split the brain (or the fallback) wrote in the workspace; the labelled validation rows
    then leave the workspace (see ``_register``)."""
    train = read_table(ws.confine(train_rel))
    valid = read_table(ws.confine(valid_rel))
    info = _register(
        layout,
        ws,
        task,
        train,
        valid,
        train_rel=train_rel,
        method=method,
        stratified=stratified,
        grouped_by=grouped_by,
    )
    ws.confine(valid_rel).unlink(missing_ok=True)
    return info


def _register(
    layout: RunLayout | Path,
    ws,
    task: Task,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    train_rel: str,
    method: str,
    stratified: bool,
    grouped_by: str | None,
) -> SplitInfo:
    """Keep the labels privately, write label-free feature files to score on, and leave the agent only the
    training split and the validation features: ``inputs/train.csv`` becomes the training split (so it
    cannot be joined with the validation features to recover their labels) and ``scratch/`` is emptied
    (copies made while exploring or splitting)."""
    layout = RunLayout.at(layout)
    layout.private.mkdir(exist_ok=True)
    write_table(valid, layout.private_labels("validation"), layer=task.layer)
    scored = train
    if len(train) > MAX_TRAIN_SCORING_ROWS:  # train metrics on a fixed sample: enough to see over-fitting
        picked = train.index.to_series().sample(MAX_TRAIN_SCORING_ROWS, random_state=0).sort_index()
        scored = take_rows(train, train.index.get_indexer(picked.index))
    write_table(scored, layout.private_labels("train"), layer=task.layer)
    layout.scoring.mkdir(exist_ok=True)
    write_table(scored.drop(columns=task.target_columns), ws.root / TRAIN_FEATURES, layer=task.layer)
    write_table(valid.drop(columns=task.target_columns), ws.root / VALIDATION_FEATURES, layer=task.layer)
    if train_rel != TRAIN_INPUT:
        _write_input(ws, TRAIN_INPUT, train, task)
    for child in ws.scratch.iterdir():
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    return SplitInfo(method=method, train_path=layout.ws_to_run(train_rel),
                     validation_path=layout.run_rel(layout.private_labels("validation")), n_train=len(train),
                     n_validation=len(valid), grouped_by=grouped_by, stratified=stratified)


def labels(layout: RunLayout | Path, which: str, task: Task) -> pd.Series | pd.DataFrame:
    """The private labels: a Series, or for a multi-label task a DataFrame of the label columns."""
    table = read_table(RunLayout.at(layout).private_labels(which))
    return table[task.labels] if task.labels else table[task.target]


def validation_errors(layout: RunLayout | Path, task: Task, pred_path: Path) -> dict:
    """Where the validation predictions go wrong (``analysis.validation_errors``), from the private labels."""
    from omicsagent.agent.analysis import validation_errors as analyse

    return analyse(task, read_table(RunLayout.at(layout).private_labels("validation")), read_table(pred_path))


def metric_inputs(task: Task, y_true: pd.Series | pd.DataFrame, pred: pd.DataFrame) -> tuple:
    """(task type, truth, predicted values, probabilities, classes) as arrays, what ``evaluate`` takes."""
    if task.labels:  # multi-label: one probability column per label, NaN labels left out per label
        truth = y_true[task.labels].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        proba = pred[[f"probability_{c}" for c in task.labels]].to_numpy(dtype=float)
        return "multilabel", truth, None, proba, None
    if task.task_type == "regression":
        return ("regression", y_true.to_numpy(dtype=float), pred["prediction"].to_numpy(dtype=float), None,
                None)
    classes = task.classes
    proba = pred[[f"probability_{c}" for c in classes]].to_numpy(dtype=float)
    y = np.array([str(v) for v in y_true])
    yp = np.array([str(v) for v in pred["prediction"]])
    return task.task_type, y, yp, proba, [str(c) for c in classes]


def metrics_from_predictions(
    task: Task, y_true: pd.Series | pd.DataFrame, pred: pd.DataFrame
) -> dict[str, float]:
    return evaluate(*metric_inputs(task, y_true, pred))


def model_access(journal: RunJournal, ws=None, *,
                 run_workspace: Path | None = None) -> tuple[tuple[Path, ...], dict[str, str]]:
    """(read-only mounts, environment) that give sandboxed scripts the run's configured pretrained models
    (``--embeddings``) and the run's caches: embeddings, row features (``ml.rowcache``) and fitted models
    (``ml.fitcache``) are cached in the workspace's scratch folder. A throwaway workspace (a
    cross-validation fold, the refit, scoring) names the run's workspace as ``run_workspace``: the run's
    caches are then mounted read-only and read first, so rows the run computed are not computed again."""
    from omicsagent.ml.embeddings import CACHE_ENV, SHARED_CACHE_ENV, mounts
    from omicsagent.ml.fitcache import FIT_CACHE_ENV, FIT_CACHE_SHARED_ENV
    from omicsagent.ml.rowcache import FEATURE_CACHE_ENV, FEATURE_CACHE_SHARED_ENV

    folders = tuple(mounts(journal.settings.extra.get("embeddings")))
    caches = [(FEATURE_CACHE, FEATURE_CACHE_ENV, FEATURE_CACHE_SHARED_ENV),
              (FIT_CACHE, FIT_CACHE_ENV, FIT_CACHE_SHARED_ENV)]
    env: dict[str, str] = {}
    if folders:
        env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        caches.append((EMBEDDING_CACHE, CACHE_ENV, SHARED_CACHE_ENV))
    for name, own_env, shared_env in caches:
        if ws is not None:
            env[own_env] = str(ws.scratch / name)
        shared = Path(run_workspace) / "scratch" / name if run_workspace is not None else None
        if shared is not None and shared.is_dir():
            folders += (shared,)
            env[shared_env] = str(shared)
    return folders, env


def keep_fits(ws, run_workspace: Path) -> int:
    """Move the fits a throwaway workspace stored (a cross-validation fold's) into the run's fit cache, so a
    later blend or bag of the same members reuses them fold by fold; returns how many were new. The files
    are moved as they are, never read here: only sandboxed code loads them. Links and other names are
    left behind."""
    from omicsagent.ml.fitcache import is_entry

    src, dst = ws.scratch / FIT_CACHE, Path(run_workspace) / "scratch" / FIT_CACHE
    if not src.is_dir() or src.is_symlink():
        return 0
    moved = 0
    for f in src.iterdir():
        if is_entry(f.name) and f.is_file() and not f.is_symlink() and not (dst / f.name).exists():
            dst.mkdir(parents=True, exist_ok=True)
            shutil.move(f, dst / f.name)
            moved += 1
    return moved


def own_file(path: Path, root: Path) -> Path:
    """A file a sandboxed script wrote, refused if it is a link or resolves outside ``root``.

    Without this, a script could point its predictions at the harness's private labels.
    """
    path = Path(path)
    if path.is_symlink() or not path.resolve().is_relative_to(Path(root).resolve()):
        raise ModelMistake(
            f"{path.name} is a link or lies outside the workspace; write predictions as a plain file."
        )
    return path


def score_predictions(layout: RunLayout | Path, task: Task, which: str, pred_path: Path) -> dict[str, float]:
    layout = RunLayout.at(layout)
    y = labels(layout, which, task)
    pred = check_predictions(own_file(pred_path, layout.workspace), task, n_rows=len(y))
    return metrics_from_predictions(task, y, pred)


def promote(layout: RunLayout | Path, journal: RunJournal) -> Path | None:
    """Copy the best iteration's scripts and model into RUN/best, replacing the previous best in one rename.

    The new folder is built beside ``best/`` and swapped with it atomically (``renameat2`` with
    ``RENAME_EXCHANGE``), so ``best/`` is always a whole, real folder: the old one until the swap, the new one
    after it. A failure while building leaves the old ``best/`` untouched.
    """
    layout = RunLayout.at(layout)
    best = journal.best_iteration
    if best is None:
        return None
    _recover_promotion(layout)
    files = layout.files_at(best.dir)
    tmp = layout.best_staging(uuid.uuid4().hex[:8])
    tmp.mkdir()
    try:
        for script in (files.train_script, files.inference_script):
            if script.exists():
                shutil.copy2(script, tmp / script.name)
        refit = journal.refit if journal.refit and journal.refit.iteration == best.index else None
        model = layout.refit_model if refit and refit.status == "done" else files.model_dir
        if model.exists():  # the model refit on every labelled row (small data), else the iteration's
            shutil.copytree(model, tmp / files.model_dir.name)
        write_environment(tmp, layout.private)  # requirements.txt and wheels/omicsagent-*.whl
        intervals = journal.intervals
        intervals = intervals if intervals and intervals.iteration == best.index else None
        info = {"iteration": best.index, "summary": best.summary, "metric": journal.task.metric,
                "validation": best.validation_metrics, "train": best.train_metrics,
                "cross_validation": best.cv_metrics or None,
                "test": journal.test_metrics if journal.test_iteration == best.index else None,
                "refit": refit.model_dump() if refit else None,
                "intervals": intervals.model_dump() if intervals else None}
        (tmp / "metrics.json").write_text(json.dumps(info, indent=1))
        (tmp / "README.md").write_text(_best_readme(journal, best.index))
        _publish(tmp, layout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # after a swap it holds the previous best
    return layout.best


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange_paths(a: Path, b: Path) -> None:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Raises OSError; ``errno`` is EINVAL or ENOSYS where the kernel, C library or filesystem cannot do it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available in this C library")
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a))


def _publish(new: Path, layout: RunLayout) -> None:
    """Make the folder ``new`` become best/ in one rename; afterwards ``new`` holds the old best/."""
    final = layout.best
    if not final.exists():
        os.rename(new, final)
        return
    try:
        exchange_paths(new, final)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise
        # No atomic exchange on this filesystem (some network filesystems): two renames. Between them
        # best/ is briefly absent; _recover_promotion puts the old one back if the process dies there.
        old = layout.best_previous
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
        os.rename(new, final)
        os.rename(old, new)


def _recover_promotion(layout: RunLayout) -> None:
    """Undo what a promotion killed half-way left behind (only the run's lock holder calls this)."""
    old = layout.best_previous
    if old.exists() and not layout.best.exists():
        os.rename(old, layout.best)
    for leftover in [old, *layout.best_stagings()]:
        shutil.rmtree(leftover, ignore_errors=True)


def _best_readme(journal: RunJournal, index: int) -> str:
    t = journal.task
    refit = journal.refit if journal.refit and journal.refit.iteration == index else None
    rows = "the training file" + (" and the validation file" if t.validation_path else "")
    fitted = (f"The model in model/ was refit on every labelled row ({refit.n_rows}: {rows}, in file order) "
              f"after selection by cross-validation; reproduce it with "
              f"`python best/train.py --train train.csv --out model` on those rows.\n\n"
              if refit and refit.status == "done" else
              f"The refit on every labelled row failed ({refit.reason}); model/ was fitted on the training "
              f"split.\n\n" if refit else "The model in model/ was fitted on the training split.\n\n")
    return (
        f"# Best model of run {journal.run_id} (iteration {index})\n\n"
        f"Task: predict `{t.target}` ({t.task_type}); metric {t.metric}.\n\n"
        + fitted +
        "Predict on new data (same input columns as train.csv, target not needed):\n\n"
        "    omicsagent predict RUN_DIR --input new.csv --output predictions.csv\n"
        "    python best/inference.py --input new.csv --output predictions.csv\n\n"
        "Retrain from scratch:\n\n"
        "    python best/train.py --train train.csv --out best/model\n\n"
        "Environment (what these scripts import, pinned; omicsagent itself is the wheel in best/wheels/):\n\n"
        "    python -m venv .venv && .venv/bin/pip install -r best/requirements.txt\n"
    )


def run_inference(layout: RunLayout | Path, sandbox, *, model_dir: Path, input_path: Path, output_path: Path,
                  timeout_s: float = 1800, memory_mb: int = 8192, journal: RunJournal | None = None) -> None:
    """Run a promoted model's inference.py on a file, in a throwaway sandbox workspace.

    Used for the hidden test set and for ``omicsagent predict``: the brain's code runs only in the sandbox,
    and the input file is copied in, so nothing else of the host is visible.
    """
    from omicsagent.agent.context import failure_reason
    from omicsagent.sandbox import Limits, Workspace

    tmp = Path(tempfile.mkdtemp(prefix=".infer-", dir=RunLayout.at(layout).root))
    try:
        ws = Workspace.create(tmp / "workspace")
        ws.add_input(input_path, name="input.csv")
        shutil.copytree(model_dir, ws.artifacts / "best")
        mounts, extra_env = (model_access(journal, ws, run_workspace=RunLayout.at(layout).workspace)
                             if journal is not None else ((), {}))
        res = sandbox.run(["python", "artifacts/best/inference.py", "--input", "inputs/input.csv",
                           "--output", "scratch/predictions.csv"], workspace=ws, cwd=".",
                          limits=Limits(wall_seconds=timeout_s, memory_mb=memory_mb, output_bytes=20_000),
                          env={"OMP_NUM_THREADS": "2", **extra_env}, extra_ro_mounts=mounts)
        if not res.ok:
            tail = res.output.strip().splitlines()[-1] if res.output.strip() else ""
            if "InputError" in res.output or "missing" in tail.lower():
                raise InputError(f"the model could not read {input_path}: {tail.split(': ', 1)[-1]}")
            raise ModelMistake(f"inference failed ({failure_reason(res)}): {tail}")
        out = own_file(ws.scratch / "predictions.csv", ws.root)
        if not out.exists():
            raise ModelMistake("inference wrote no predictions file")
        tmp_out = output_path.with_name(f".{output_path.name}.tmp")
        shutil.copy2(out, tmp_out)
        tmp_out.replace(output_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def score_test(layout: RunLayout | Path, journal: RunJournal, sandbox) -> dict[str, float] | None:
    """Score best/inference.py on the hidden test file (labels read here, outside the sandbox)."""
    layout = RunLayout.at(layout)
    task = journal.task
    best = journal.best_iteration
    if not task.test_path or best is None or not layout.best.exists():
        return None
    test = task.table("test")
    layout.private.mkdir(exist_ok=True)
    features = layout.test_features
    write_table(test.drop(columns=task.target_columns), features, layer=task.layer)
    preds = layout.test_predictions
    run_inference(layout, sandbox, model_dir=layout.best, input_path=features, output_path=preds,
                  journal=journal)
    features.unlink(missing_ok=True)
    pred = check_predictions(preds, task, n_rows=len(test))
    return metrics_from_predictions(task, test[task.labels] if task.labels else test[task.target], pred)
