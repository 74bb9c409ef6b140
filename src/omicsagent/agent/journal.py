"""The run journal: plain, versioned data on disk, rewritten atomically after every step.

Reports, ``resume``, ``runs`` and the benchmarks all read it. Derived facts (is an iteration the best, how
long did the run take) are computed from it, not stored twice.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from omicsagent.agent.layout import JOURNAL_FILE, RunLayout
from omicsagent.errors import RunStateError
from omicsagent.ml.metrics import get_metric
from omicsagent.tasks.task import Task

JOURNAL_VERSION = 2
# Versions this omicsagent reads. Version 1 had no ``IterationRecord.parent``: its iterations read as roots.
READABLE_VERSIONS = (1, 2)

StepName = Literal["exploration", "split", "representation", "architecture", "training", "inference",
                   "prediction_exploration", "reflection"]
STEP_ORDER: tuple[str, ...] = ("exploration", "split", "representation", "architecture", "training",
                               "inference", "prediction_exploration", "reflection")


class Usage(BaseModel):
    """Model usage; ``cost_usd`` is None when the price is unknown (local models)."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0

    def add(self, other: Usage) -> Usage:
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return Usage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=cost,
        )


class StepRecord(BaseModel):
    name: str
    status: Literal["done", "failed", "skipped"]
    output: dict[str, Any] = Field(default_factory=dict)  # the step's validated structured output
    error: str | None = None
    attempts: int = 1
    started_at: float = 0.0
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)


class IterationRecord(BaseModel):
    index: int
    status: Literal["running", "succeeded", "failed"] = "running"
    summary: str = ""  # one line: what this iteration tried
    representation: str = ""
    model: str = ""
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepRecord] = Field(default_factory=list)
    train_metrics: dict[str, float] = Field(default_factory=dict)
    validation_metrics: dict[str, float] = Field(default_factory=dict)
    # Small data: each metric's score on each held-out fold of k-fold cross-validation (agent/resample.py)
    cv_metrics: dict[str, list[float]] = Field(default_factory=dict)
    failure: str | None = None
    instructions: dict[str, str] = Field(
        default_factory=dict
    )  # from this iteration's reflection, for the next
    started_at: float = 0.0
    duration_s: float = 0.0
    peak_memory_mb: float | None = None
    usage: Usage = Field(default_factory=Usage)
    dir: str = ""  # relative to the run directory (RunLayout.run_rel), e.g. workspace/artifacts/iter_000
    # The earlier iteration this one builds on (refines, debugs, blends from), None for a fresh draft: the
    # iterations form a search tree (reports draw it; ``omicsagent fork`` starts a run from any node).
    parent: int | None = None

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)


class SplitInfo(BaseModel):
    method: str  # "given" (validation file) or how the loop split train
    train_path: str  # relative to the run directory (RunLayout.run_rel)
    validation_path: str  # relative to the run directory
    n_train: int
    n_validation: int
    grouped_by: str | None = None
    stratified: bool = False


class RefitInfo(BaseModel):
    """The best iteration's train.py re-run on every labelled row (training file + validation), small data."""

    iteration: int
    n_rows: int
    status: Literal["done", "failed"]
    reason: str = ""  # why it failed (best/ then holds the model fitted on the training split)
    duration_s: float = 0.0


class Intervals(BaseModel):
    """Percentile bootstrap confidence intervals of the best iteration's validation and test metrics."""

    iteration: int
    resamples: int
    level: float
    seed: int
    validation: dict[str, list[float]] = Field(default_factory=dict)  # metric -> [low, high]
    test: dict[str, list[float]] = Field(default_factory=dict)


class RunSettings(BaseModel):
    brain: str = "expert"
    model: str | None = None  # LLM name for the llm brain, never a key
    iterations: int = 5
    time_budget_s: float = 900.0
    seed: int = 0
    sandbox: str = "bwrap"
    max_cost_usd: float | None = None
    # Below this many labelled rows (train + validation) selection uses k-fold cross-validation and the best
    # model is refit on every labelled row; 0 keeps the single validation split for every size.
    cv_below_rows: int = 3000
    cv_folds: int = 5
    # The expert brain's decisions and model fits never read the clock (no per-fit time limits, no "fits in
    # the time left" rule): the same data, seed and iteration cap give the same models whatever the machine's
    # load. The time budget is then only a safety stop.
    reproducible: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)


class RunJournal(BaseModel):
    version: int = JOURNAL_VERSION
    run_id: str
    status: Literal["running", "finished", "interrupted", "failed"] = "running"
    status_reason: str = ""
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    elapsed_s: float = 0.0  # active time, summed over sessions (resume does not count the gap)
    settings: RunSettings
    task: Task
    split: SplitInfo | None = None
    iterations: list[IterationRecord] = Field(default_factory=list)
    test_metrics: dict[str, float] | None = None
    test_iteration: int | None = None
    refit: RefitInfo | None = None
    intervals: Intervals | None = None
    usage: Usage = Field(default_factory=Usage)
    notes: list[str] = Field(default_factory=list)

    # ----- derived -----
    @property
    def metric(self):
        return get_metric(self.task.metric)

    @property
    def n_labelled(self) -> int:
        """Rows with labels the run may learn from: the training file plus a given validation file."""
        return self.task.n_train + (self.task.n_validation or 0)

    @property
    def kfold(self) -> bool:
        """Small data: selection by k-fold cross-validation, the best model refit on every labelled row."""
        s = self.settings
        return s.cv_below_rows > 0 and s.cv_folds >= 2 and self.n_labelled < s.cv_below_rows

    def primary(self, it: IterationRecord) -> float | None:
        """The selection score: the mean over cross-validation folds (small data), else the validation
        score."""
        folds = it.cv_metrics.get(self.task.metric)
        if folds:
            return float(sum(folds) / len(folds))
        return it.validation_metrics.get(self.task.metric)

    def spread(self, it: IterationRecord) -> float | None:
        """The standard deviation of the selection score over the folds (None without cross-validation)."""
        folds = it.cv_metrics.get(self.task.metric)
        if not folds or len(folds) < 2:
            return None
        mean = sum(folds) / len(folds)
        return float((sum((f - mean) ** 2 for f in folds) / (len(folds) - 1)) ** 0.5)

    @property
    def best_iteration(self) -> IterationRecord | None:
        best = None
        for it in self.iterations:
            if it.status == "succeeded" and self.metric.better(
                self.primary(it), None if best is None else self.primary(best)
            ):
                best = it
        return best

    @property
    def finished_iterations(self) -> list[IterationRecord]:
        return [it for it in self.iterations if it.status != "running"]

    @property
    def brains(self) -> list[str]:
        """Every brain that has worked on this run (``resume --brain`` can switch)."""
        return list(self.settings.extra.get("brains") or [self.settings.brain])

    def total_usage(self) -> Usage:
        total = Usage()
        for it in self.iterations:
            total = total.add(it.usage)
        return total.add(self.usage)

    # ----- disk -----
    def save(self, run_dir: Path | RunLayout) -> None:
        self.updated_at = time.time()
        path = RunLayout.at(run_dir).journal
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.model_dump_json(indent=1))
        tmp.replace(path)  # atomic: a kill -9 leaves the old or the new journal, never half of one

    @classmethod
    def load(cls, run_dir: Path | RunLayout) -> RunJournal:
        layout = RunLayout.at(run_dir)
        path = layout.journal
        if not path.exists():
            raise RunStateError(
                f"{layout.display()} is not an omicsagent run (no {JOURNAL_FILE}); give the --out "
                "folder of a run."
            )
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RunStateError(
                f"{path} is corrupted (not valid JSON); restore it or start a new run."
            ) from None
        if data.get("version") not in READABLE_VERSIONS:
            raise RunStateError(
                f"{path} has journal version {data.get('version')}, this omicsagent reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}; use a matching omicsagent version."
            )
        data["version"] = JOURNAL_VERSION  # older versions lack only fields that have defaults
        return cls.model_validate(data)
