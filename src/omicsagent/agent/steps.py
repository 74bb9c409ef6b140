"""The step table: each step's structured output and the validators every brain's output must pass.

A validator raises ``ModelMistake`` with a concrete correction (shown to the brain, which retries). The
same validators serve the expert brain and the LLM brain.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, Field

from omicsagent.errors import InputError, ModelMistake
from omicsagent.ml.io import read_table

if TYPE_CHECKING:
    from omicsagent.agent.context import StepContext


class ExplorationOutput(BaseModel):
    summary: str = Field(description="What the data looks like, in a few sentences.")
    findings: list[str] = Field(default_factory=list, description="Facts that should shape the modelling.")


class SplitOutput(BaseModel):
    method: str = Field(
        description="How the validation split was made (stratified? grouped by which column?)."
    )
    train_file: str = Field(
        description="Training split, path relative to the workspace, e.g. artifacts/split/train.csv."
    )
    validation_file: str = Field(
        description="Validation split, path relative to the workspace (under artifacts/). "
        "Once registered, the harness keeps its labels and removes it from the workspace."
    )


class RepresentationOutput(BaseModel):
    name: str = Field(description="Short name, e.g. 'k-mer 3-6 counts'.")
    description: str = Field(description="How each input column becomes model input, and why.")
    spec: dict[str, Any] = Field(default_factory=dict, description="Machine-readable representation, if any.")
    parent: int | None = Field(
        default=None,
        description="The earlier iteration this one builds on (refines, fixes or blends), or null for a "
        "fresh attempt.",
    )


class ArchitectureOutput(BaseModel):
    name: str = Field(description="Short model name, e.g. 'LightGBM'.")
    description: str = Field(description="The model, its loss and training regime, and why.")
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    spec: dict[str, Any] = Field(default_factory=dict, description="Machine-readable model spec, if any.")


class TrainingOutput(BaseModel):
    train_script: str = Field(
        description="Path of train.py relative to the workspace (inside the iteration folder)."
    )
    model_dir: str = Field(description="Folder holding the trained model files, relative to the workspace.")
    notes: str = ""


class InferenceOutput(BaseModel):
    inference_script: str = Field(
        description="Path of inference.py relative to the workspace; contract: --input X.csv --output Y.csv."
    )
    notes: str = ""


class PredictionExplorationOutput(BaseModel):
    summary: str
    findings: list[str] = Field(default_factory=list)


class ReflectionOutput(BaseModel):
    assessment: str = Field(
        description="What the metrics say about the last iteration (over/underfitting, failure...)."
    )
    instructions: dict[str, str] = Field(
        default_factory=dict, description="Concrete instruction per step name for the next iteration."
    )
    stop: bool = Field(False, description="True when further iterations are unlikely to help.")


OUTPUT_TYPES: dict[str, type[BaseModel]] = {
    "exploration": ExplorationOutput, "split": SplitOutput, "representation": RepresentationOutput,
    "architecture": ArchitectureOutput, "training": TrainingOutput, "inference": InferenceOutput,
    "prediction_exploration": PredictionExplorationOutput, "reflection": ReflectionOutput,
}

_FORBIDDEN_NAMES = re.compile(r"\btest(_features)?\.(csv|tsv|parquet)\b|/shared/datasets|\.harness")


def check_script_text(path: Path, ctx: StepContext, *, may_read_validation: bool = False) -> None:
    """Static checks: no test files, no paths outside the workspace, no validation inputs in train.py."""
    text = path.read_text(errors="replace")
    if _FORBIDDEN_NAMES.search(text):
        raise ModelMistake(
            f"{path.name} refers to a hidden test file; scripts may only read the training data "
            "(and, in inference, their --input file)."
        )
    root = str(ctx.workspace.root)
    allowed = tuple(str(m) for m in ctx.ro_mounts)  # configured pretrained model folders
    # Absolute paths with at least two components ("/model.joblib" alone is a fragment joined to a folder).
    for m in re.finditer(r"""["'](/[^"'\s/]+/[^"'\s]*)["']""", text):
        p = m.group(1)
        if any(p == a or p.startswith(a + "/") for a in allowed):
            continue
        if not p.startswith(root) and not p.startswith(("/tmp", "/dev/null", "/proc")):
            raise ModelMistake(
                f"{path.name} uses the absolute path {p!r} outside the workspace; "
                "use paths relative to the workspace or the script's arguments."
            )
    if not may_read_validation and ctx.validation_features and Path(ctx.validation_features).name in text:
        raise ModelMistake(
            f"{path.name} reads the validation inputs; train only on the training split ({ctx.train_file}), "
            "the harness scores on validation."
        )


def _rel_file(ctx: StepContext, rel: str, what: str) -> Path:
    path = ctx.workspace.confine(rel)
    if not path.exists():
        raise ModelMistake(
            f"the {what} {rel!r} does not exist in the workspace; "
            f"write it first (paths are relative to {ctx.workspace.root})."
        )
    return path


def validate_split(out: SplitOutput, ctx: StepContext) -> None:
    task = ctx.task
    tr, va = (
        _rel_file(ctx, out.train_file, "training split"),
        _rel_file(ctx, out.validation_file, "validation split"),
    )
    for path, rel in ((tr, out.train_file), (va, out.validation_file)):
        if not path.is_relative_to(ctx.workspace.artifacts) or not path.is_file():
            raise ModelMistake(
                f"{rel!r} is not a file under artifacts/; write both splits under artifacts/split/ "
                "(scratch/ is emptied once the split is registered)."
            )
    if tr == va:
        raise ModelMistake("the training and validation splits are the same file; write two files.")
    try:
        a, b = read_table(tr), read_table(va)
    except InputError as err:  # a file the brain wrote: its to fix
        raise ModelMistake(
            f"the split files cannot be read ({err}); write them with DataFrame.to_csv(index=False)."
        ) from None
    for df, name in ((a, "training"), (b, "validation")):
        missing = [c for c in task.input_columns + task.target_columns if c not in df.columns]
        if missing:
            raise ModelMistake(
                f"the {name} split lacks columns {missing[:5]}; keep every column of train.csv."
            )
    if len(a) + len(b) != task.n_train:
        raise ModelMistake(
            f"the splits hold {len(a)} + {len(b)} rows but train.csv has {task.n_train}; "
            "every row must be in exactly one split."
        )
    if not 0.05 * task.n_train <= len(b) <= 0.4 * task.n_train:
        raise ModelMistake(
            f"the validation split has {len(b)} of {task.n_train} rows; use 10-30% of the data."
        )
    if task.task_type in ("binary", "multiclass") and b[task.target].nunique() < 2:
        raise ModelMistake("the validation split holds a single class; stratify the split by the target.")
    if task.group_column and set(a[task.group_column]) & set(b[task.group_column]):
        raise ModelMistake(
            f"groups in '{task.group_column}' appear in both splits; split by group (e.g. GroupShuffleSplit)."
        )


def validate_training(out: TrainingOutput, ctx: StepContext) -> None:
    script = _rel_file(ctx, out.train_script, "training script")
    check_script_text(script, ctx)
    model_dir = _rel_file(ctx, out.model_dir, "model folder")
    if model_dir.is_dir() and not any(model_dir.iterdir()):
        raise ModelMistake(
            f"the model folder {out.model_dir!r} is empty; run train.py so it saves the model there."
        )


def validate_inference(out: InferenceOutput, ctx: StepContext) -> None:
    """Dry-run the inference script on validation inputs without labels and check its output."""
    script = _rel_file(ctx, out.inference_script, "inference script")
    check_script_text(script, ctx, may_read_validation=False)
    pred_path = ctx.files.validation_predictions
    from omicsagent.agent.context import failure_reason

    res = ctx.run(
        ["python", ctx.rel(script), "--input", ctx.validation_features, "--output", ctx.rel(pred_path)],
        purpose="inference dry-run",
    )
    if not res.ok:
        raise ModelMistake(
            f"the inference dry-run on validation inputs failed ({failure_reason(res)}); "
            f"its output ends with:\n{res.output[-1500:]}"
        )
    from omicsagent.agent.harness import own_file

    check_predictions(own_file(pred_path, ctx.workspace.root), ctx.task, n_rows=ctx.n_validation)


def check_predictions(path: Path, task, *, n_rows: int) -> pd.DataFrame:
    """The inference contract: one row per input, `prediction`, and `probability_<class>` per class."""
    if not path.exists():
        raise ModelMistake(
            f"inference wrote no output file at {path.name}; "
            "write the --output path with DataFrame.to_csv(index=False)."
        )
    try:
        pred = read_table(path)
    except InputError as err:  # a file the brain's script wrote: its to fix
        raise ModelMistake(
            f"the predictions file cannot be read ({err}); write it with DataFrame.to_csv(index=False)."
        ) from None
    if len(pred) != n_rows:
        raise ModelMistake(
            f"inference returned {len(pred)} rows for {n_rows} input rows; "
            "write exactly one prediction per input row, in order."
        )
    if task.labels:
        return _check_label_probabilities(pred, task.labels)
    if "prediction" not in pred.columns:
        raise ModelMistake(f"the predictions lack a 'prediction' column (columns: {list(pred.columns)[:8]}).")
    if pred["prediction"].isna().any():
        raise ModelMistake(
            f"{int(pred['prediction'].isna().sum())} predictions are empty; predict a value for every row."
        )
    if task.task_type == "regression":
        if pd.to_numeric(pred["prediction"], errors="coerce").isna().any():
            raise ModelMistake("regression predictions must be numbers.")
        return pred
    want = [f"probability_{c}" for c in task.classes]
    missing = [c for c in want if c not in pred.columns]
    if missing:
        raise ModelMistake(
            f"the predictions lack {missing}; write one probability_<class> column per class ({want})."
        )
    probs = pred[want].apply(pd.to_numeric, errors="coerce")
    if probs.isna().any().any() or (probs < -1e-6).any().any() or (probs > 1 + 1e-6).any().any():
        raise ModelMistake("probability columns must hold numbers between 0 and 1 for every row.")
    allowed = {str(c) for c in task.classes}
    bad = sorted({str(v) for v in pred["prediction"]} - allowed)
    if bad:
        raise ModelMistake(
            f"predictions contain labels {bad[:5]} that are not classes of the task ({sorted(allowed)})."
        )
    return pred


def _check_label_probabilities(pred: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Multi-label contract: a `probability_<label>` column per label, numbers between 0 and 1."""
    want = [f"probability_{c}" for c in labels]
    missing = [c for c in want if c not in pred.columns]
    if missing:
        raise ModelMistake(
            f"the predictions lack {missing[:5]}; write one probability_<label> column per label "
            f"({want[:5]}{' ...' if len(want) > 5 else ''})."
        )
    probs = pred[want].apply(pd.to_numeric, errors="coerce")
    if probs.isna().any().any() or (probs < -1e-6).any().any() or (probs > 1 + 1e-6).any().any():
        raise ModelMistake("probability columns must hold numbers between 0 and 1 for every row.")
    return pred


def validate_representation(out: RepresentationOutput, ctx: StepContext) -> None:
    if out.parent is not None and not 0 <= out.parent < ctx.iteration:
        raise ModelMistake(
            f"parent {out.parent} is not an earlier iteration; give one of 0..{ctx.iteration - 1} or null."
            if ctx.iteration else f"parent {out.parent} is not an earlier iteration (this is the first); "
            "give null."
        )


def validate_reflection(out: ReflectionOutput, ctx: StepContext) -> None:
    unknown = [k for k in out.instructions if k not in OUTPUT_TYPES]
    if unknown:
        raise ModelMistake(f"instructions name unknown steps {unknown}; use step names {list(OUTPUT_TYPES)}.")


@dataclass(frozen=True)
class StepSpec:
    name: str
    output_type: type[BaseModel]
    validate: Callable[[Any, StepContext], None] | None
    purpose: str


STEPS: dict[str, StepSpec] = {
    s.name: s
    for s in [
        StepSpec(
            "exploration",
            ExplorationOutput,
            None,
            "Explore the training data: sizes, columns, target balance, sequence lengths, anything unusual.",
        ),
        StepSpec(
            "split",
            SplitOutput,
            validate_split,
            "Split train.csv into training and validation files "
            "(stratified; grouped when a group column exists).",
        ),
        StepSpec("representation", RepresentationOutput, validate_representation,
                 "Choose how inputs become model features."),
        StepSpec("architecture", ArchitectureOutput, None, "Choose the model and its hyperparameters."),
        StepSpec(
            "training",
            TrainingOutput,
            validate_training,
            "Write train.py in the iteration folder and run it so the model is saved.",
        ),
        StepSpec(
            "inference",
            InferenceOutput,
            validate_inference,
            "Write inference.py: --input X --output Y, one row per input, "
            "prediction plus probability_<class>.",
        ),
        StepSpec(
            "prediction_exploration",
            PredictionExplorationOutput,
            None,
            "Analyse validation errors of this iteration.",
        ),
        StepSpec(
            "reflection",
            ReflectionOutput,
            validate_reflection,
            "Turn metrics and history into instructions for the next iteration.",
        ),
    ]
}
