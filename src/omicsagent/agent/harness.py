"""The harness: what the brain cannot touch. It prepares the workspace, keeps private copies of the labels,
scores each iteration by running its inference script in the sandbox, promotes the best iteration to
``best/`` and scores the hidden test set once at the end.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.agent.journal import RunJournal, SplitInfo
from omicsagent.agent.steps import check_predictions
from omicsagent.errors import InputError, ModelMistake
from omicsagent.ml.metrics import evaluate
from omicsagent.tasks.io import read_table
from omicsagent.tasks.task import Task

HARNESS_DIR = ".harness"  # in the run directory, never mounted into the sandbox
MAX_TRAIN_SCORING_ROWS = 20_000


def prepare_workspace(task: Task, run_dir: Path):
    """Create the workspace with the inputs an agent may read: train, validation, description. Never test."""
    from omicsagent.sandbox import Workspace

    ws = Workspace.create(run_dir / "workspace")
    ws.add_input(Path(task.train_path), name="train.csv" if task.train_path.endswith(".csv") else Path(task.train_path).name)
    if task.validation_path:
        ws.add_input(Path(task.validation_path), name="validation.csv" if task.validation_path.endswith(".csv") else Path(task.validation_path).name)
    if task.description:
        (ws.inputs / "description.md").write_text(task.description)
    card = task.model_dump(exclude={"test_path", "train_path", "validation_path"})
    (ws.inputs / "task.json").write_text(json.dumps(card, indent=1, default=str))
    (run_dir / HARNESS_DIR).mkdir(exist_ok=True)
    return ws


def input_rel(ws, task: Task, which: str) -> str:
    path = Path(task.train_path if which == "train" else task.validation_path)
    name = f"{which}.csv" if path.name.endswith(".csv") else path.name
    return str((ws.inputs / name).relative_to(ws.root))


def register_split(run_dir: Path, ws, task: Task, *, train_rel: str, valid_rel: str, method: str,
                   stratified: bool, grouped_by: str | None) -> SplitInfo:
    """Copy the labels privately and write label-free feature files the scripts are scored on."""
    harness = run_dir / HARNESS_DIR
    harness.mkdir(exist_ok=True)
    train = read_table(ws.root / train_rel)
    valid = read_table(ws.root / valid_rel)
    for df, name in ((train, "train"), (valid, "validation")):
        df.to_csv(harness / f"{name}_labeled.csv", index=False)
    if len(train) > MAX_TRAIN_SCORING_ROWS:  # train metrics on a fixed sample: enough to see over-fitting
        train = train.sample(MAX_TRAIN_SCORING_ROWS, random_state=0).sort_index()
        train.to_csv(harness / "train_labeled.csv", index=False)
    feats = ws.root / "scoring"
    feats.mkdir(exist_ok=True)
    train.drop(columns=[task.target]).to_csv(feats / "train_features.csv", index=False)
    valid.drop(columns=[task.target]).to_csv(feats / "validation_features.csv", index=False)
    return SplitInfo(method=method, train_path=str(Path("workspace") / train_rel),
                     validation_path=str(Path("workspace") / valid_rel), n_train=len(read_table(ws.root / train_rel)),
                     n_validation=len(valid), grouped_by=grouped_by, stratified=stratified)


def labels(run_dir: Path, which: str, task: Task) -> pd.Series:
    return read_table(run_dir / HARNESS_DIR / f"{which}_labeled.csv")[task.target]


def metrics_from_predictions(task: Task, y_true: pd.Series, pred: pd.DataFrame) -> dict[str, float]:
    if task.task_type == "regression":
        return evaluate("regression", y_true.to_numpy(dtype=float), pred["prediction"].to_numpy(dtype=float))
    classes = task.classes
    proba = pred[[f"probability_{c}" for c in classes]].to_numpy(dtype=float)
    y = np.array([str(v) for v in y_true])
    yp = np.array([str(v) for v in pred["prediction"]])
    return evaluate(task.task_type, y, yp, proba, [str(c) for c in classes])


def model_access(journal: RunJournal, ws=None) -> tuple[tuple[Path, ...], dict[str, str]]:
    """(read-only mounts, environment) that give sandboxed scripts the run's configured pretrained models
    (``--embeddings``), with their embedding cache in the workspace's scratch folder."""
    from omicsagent.ml.embeddings import CACHE_ENV, mounts

    folders = tuple(mounts(journal.settings.extra.get("embeddings")))
    if not folders:
        return (), {}
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if ws is not None:
        env[CACHE_ENV] = str(ws.scratch / "embedding_cache")
    return folders, env


def own_file(path: Path, root: Path) -> Path:
    """A file a sandboxed script wrote, refused if it is a link or resolves outside ``root``.

    Without this, a script could point its predictions at the harness's private labels.
    """
    path = Path(path)
    if path.is_symlink() or not path.resolve().is_relative_to(Path(root).resolve()):
        raise ModelMistake(f"{path.name} is a link or lies outside the workspace; write predictions as a plain file.")
    return path


def score_predictions(run_dir: Path, task: Task, which: str, pred_path: Path) -> dict[str, float]:
    y = labels(run_dir, which, task)
    pred = check_predictions(own_file(pred_path, run_dir / "workspace"), task, n_rows=len(y))
    return metrics_from_predictions(task, y, pred)


def environment_lock() -> str:
    """Pinned versions of every package in the running environment: the environment to rerun the scripts."""
    rows = sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"]},
                  key=str.lower)
    return "# The Python packages this model was trained with (pip install -r requirements.txt)\n" + "\n".join(rows) + "\n"


def promote(run_dir: Path, journal: RunJournal) -> Path | None:
    """Copy the best iteration's scripts and model into RUN/best (atomically replaces the previous best)."""
    best = journal.best_iteration
    if best is None:
        return None
    src = run_dir / best.dir
    tmp = Path(tempfile.mkdtemp(prefix=".best-", dir=run_dir))
    for name in ("train.py", "inference.py"):
        if (src / name).exists():
            shutil.copy2(src / name, tmp / name)
    if (src / "model").exists():
        shutil.copytree(src / "model", tmp / "model")
    (tmp / "requirements.txt").write_text(environment_lock())
    info = {"iteration": best.index, "summary": best.summary, "metric": journal.task.metric,
            "validation": best.validation_metrics, "train": best.train_metrics,
            "test": journal.test_metrics if journal.test_iteration == best.index else None}
    (tmp / "metrics.json").write_text(json.dumps(info, indent=1))
    (tmp / "README.md").write_text(_best_readme(journal, best.index))
    final = run_dir / "best"
    old = run_dir / ".best-old"
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def _best_readme(journal: RunJournal, index: int) -> str:
    t = journal.task
    return (f"# Best model of run {journal.run_id} (iteration {index})\n\n"
            f"Task: predict `{t.target}` ({t.task_type}); metric {t.metric}.\n\n"
            "Predict on new data (same input columns as train.csv, target not needed):\n\n"
            "    omicsagent predict RUN_DIR --input new.csv --output predictions.csv\n"
            "    python best/inference.py --input new.csv --output predictions.csv\n\n"
            "Retrain from scratch:\n\n"
            "    python best/train.py --train train.csv --out best/model\n\n"
            "Environment: `pip install -r best/requirements.txt`.\n")


def run_inference(run_dir: Path, sandbox, *, model_dir: Path, input_path: Path, output_path: Path,
                  timeout_s: float = 1800, memory_mb: int = 8192, journal: RunJournal | None = None) -> None:
    """Run a promoted model's inference.py on a file, in a throwaway sandbox workspace.

    Used for the hidden test set and for ``omicsagent predict``: the brain's code runs only in the sandbox,
    and the input file is copied in, so nothing else of the host is visible.
    """
    from omicsagent.agent.context import failure_reason
    from omicsagent.sandbox import Limits, Workspace

    tmp = Path(tempfile.mkdtemp(prefix=".infer-", dir=run_dir))
    try:
        ws = Workspace.create(tmp / "workspace")
        ws.add_input(input_path, name="input.csv")
        shutil.copytree(model_dir, ws.artifacts / "best")
        mounts, extra_env = model_access(journal, ws) if journal is not None else ((), {})
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


def score_test(run_dir: Path, journal: RunJournal, sandbox) -> dict[str, float] | None:
    """Score best/inference.py on the hidden test file (labels read here, outside the sandbox)."""
    task = journal.task
    best = journal.best_iteration
    if not task.test_path or best is None or not (run_dir / "best").exists():
        return None
    test = read_table(task.test_path)
    harness = run_dir / HARNESS_DIR
    features = harness / "test_features.csv"
    test.drop(columns=[task.target]).to_csv(features, index=False)
    preds = harness / "test_predictions.csv"
    run_inference(run_dir, sandbox, model_dir=run_dir / "best", input_path=features, output_path=preds,
                  journal=journal)
    features.unlink(missing_ok=True)
    pred = check_predictions(preds, task, n_rows=len(test))
    return metrics_from_predictions(task, test[task.target], pred)
