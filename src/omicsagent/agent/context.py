"""What a brain gets at each step, and the Brain protocol.

A brain sees the task, the journal (read only), the reflection's instruction for this step, the structured
outputs of the earlier steps of this iteration, and a ``run`` function that executes an argument list in the
sandbox. It returns the step's structured output; the loop validates it and records it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

from pydantic import BaseModel

from omicsagent.agent.journal import RunJournal, Usage

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
    task: "Task"
    journal: RunJournal
    workspace: "Workspace"
    sandbox: "Sandbox"
    iter_dir: Path  # absolute, inside workspace.artifacts
    train_file: str  # relative to the workspace root (the training split)
    validation_file: str | None  # relative; None before the split step
    validation_features: str | None  # relative; validation inputs without the target
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
    on_exec: Callable[["ExecResult"], None] = lambda res: None
    ro_mounts: tuple[Path, ...] = ()  # extra read-only folders (configured pretrained models)
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. where embeddings are cached

    def time_left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def rel(self, path: Path) -> str:
        return str(Path(path).resolve().relative_to(self.workspace.root.resolve()))

    def run(self, argv: list[str], *, timeout_s: float | None = None, purpose: str = "") -> "ExecResult":
        """Run an argument list in the sandbox, cwd = workspace root, within the time left."""
        from omicsagent.sandbox import Limits

        budget = min(self.step_timeout_s, max(self.time_left(), 30.0))
        if timeout_s is not None:
            budget = min(budget, timeout_s)
        limits = Limits(wall_seconds=budget, memory_mb=self.memory_mb, output_bytes=20_000)
        log_path = self.iter_dir / f"{self.step}.log"
        if purpose:
            self.log(f"{purpose}: {' '.join(argv[:4])}{' ...' if len(argv) > 4 else ''}")
        res = self.sandbox.run(argv, workspace=self.workspace, cwd=".", limits=limits,
                               env={"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", **self.extra_env},
                               extra_ro_mounts=self.ro_mounts, log_path=log_path)
        self.on_exec(res)
        return res


def failure_reason(res: "ExecResult") -> str:
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
