"""What a brain gets at each step, and the Brain protocol.

A brain sees the task, the journal (read only), the reflection's instruction for this step, the structured
outputs of the earlier steps of this iteration, and a ``run`` function that executes an argument list in the
sandbox. It returns the step's structured output; the loop validates it and records it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from omicsagent.agent.journal import RunJournal, Usage
from omicsagent.agent.layout import IterationFiles, RunLayout

if TYPE_CHECKING:
    from omicsagent.sandbox import ExecResult, Sandbox, Workspace
    from omicsagent.tasks.task import Task


@dataclass
class StepOutcome:
    output: BaseModel
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)


@dataclass
class StepContext:
    step: str
    iteration: int
    task: Task
    journal: RunJournal
    layout: RunLayout  # every path of the run; the only place paths are derived
    workspace: Workspace  # its root is layout.workspace
    sandbox: Sandbox
    train_file: str  # relative to the workspace root (the training split once the split is registered)
    validation_features: str | None  # relative; validation inputs without the target (labels: harness only)
    n_validation: int
    deadline: float  # time.monotonic() value at which the run's budget ends
    seed: int
    instruction: str = ""  # the reflection's instruction for this step
    all_instructions: dict[str, str] = field(default_factory=dict)  # the last reflection's, for every step
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)  # earlier steps' outputs this iteration
    feedback: str = ""  # the validator's correction after a failed attempt
    attempt: int = 1
    log: Callable[[str], None] = lambda msg: None
    memory_mb: int = 8192
    step_timeout_s: float = 1800.0
    on_exec: Callable[[ExecResult], None] = lambda res: None
    # The loop's validation of this step's output (set by the loop for each attempt). A brain may call it
    # through ``validate`` to correct itself before answering; the loop does not repeat a check that passed.
    check: Callable[[BaseModel], None] | None = None
    ro_mounts: tuple[Path, ...] = ()  # extra read-only folders (configured pretrained models)
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. where embeddings are cached

    @property
    def iter_dir(self) -> Path:
        """This iteration's folder (absolute, inside the workspace's artifacts/)."""
        return self.layout.iteration_dir(self.iteration)

    @property
    def files(self) -> IterationFiles:
        """The iteration's files the harness promotes: train.py, inference.py, model/, predictions."""
        return self.layout.iteration_files(self.iteration)

    def time_left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def rel(self, path: Path | str) -> str:
        """Workspace-relative POSIX path of a host path: what scripts in the sandbox see."""
        return self.layout.ws_rel(path)

    def path(self, rel: str) -> Path:
        """Host path of a workspace-relative path (not confined: use ``workspace.confine`` for a model's
        path)."""
        return self.layout.ws_path(rel)

    def validate(self, output: BaseModel) -> None:
        """Run the loop's validator on ``output``; raises ``ModelMistake`` with the correction."""
        if self.check is not None:
            self.check(output)
            return
        from omicsagent.agent.steps import STEPS

        spec = STEPS[self.step]
        if spec.validate is not None:
            spec.validate(output, self)

    def run(self, argv: list[str], *, timeout_s: float | None = None, purpose: str = "") -> ExecResult:
        """Run an argument list in the sandbox, cwd = workspace root, within the time left."""
        from omicsagent.sandbox import Limits

        budget = min(self.step_timeout_s, max(self.time_left(), 30.0))
        if timeout_s is not None:
            budget = min(budget, timeout_s)
        limits = Limits(wall_seconds=budget, memory_mb=self.memory_mb, output_bytes=20_000)
        log_path = self.files.step_log(self.step)
        if purpose:
            self.log(f"{purpose}: {' '.join(argv[:4])}{' ...' if len(argv) > 4 else ''}")
        res = self.sandbox.run(argv, workspace=self.workspace, cwd=".", limits=limits,
                               env={"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", **self.extra_env},
                               extra_ro_mounts=self.ro_mounts, log_path=log_path)
        self.on_exec(res)
        return res


def failure_reason(res: ExecResult) -> str:
    """One phrase saying why a sandboxed command failed."""
    if res.timed_out:
        return f"timed out after {res.duration_s:.0f} s"
    if res.memory_exceeded:
        return f"exceeded the memory limit ({res.peak_memory_mb:.0f} MB)"
    return f"exit code {res.exit_code}"


class Brain(Protocol):
    """Decides what to do at each step. Implementations: ``ExpertBrain`` (offline) and ``LLMBrain``."""

    name: str

    def describe(self) -> dict[str, Any]:
        """Settings worth recording in the journal (model names, never keys)."""
        ...

    def run_step(self, ctx: StepContext) -> StepOutcome:
        """Carry out ``ctx.step`` and return its structured output (see ``omicsagent.agent.steps``)."""
        ...
