"""The team's brain protocol: what a role decides (plan), writes (a unit script) and judges (a review).

Every role is a brain with its own configuration: the offline expert brain (``expert.py``) or an LLM
(``llm.py``). The loop (``loop.py``) calls:

* ``decide(PlanContext) -> Decision`` before each step of the acting role: advance to the next unit,
  skip an optional one, go back to an earlier unit (bounded, with a reason), or finish;
* ``write(UnitContext) -> Attempt``: the unit's script (run in the sandbox by the loop), possibly
  starting from code offered by the code memory;
* ``review(ReviewContext) -> Review``: approve, or reject with concrete suggestions. A reviewer sees the
  current attempt, its results and the task history, never its own earlier reviews.

``take_usage()`` returns the LLM usage since the last call (zero for the expert brain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from omicsagent.agent.journal import Usage
from omicsagent.expression.team.guideline import ActionUnit, Guideline
from omicsagent.expression.team.memory import MemoryEntry


class Decision(BaseModel):
    action: Literal["advance", "skip", "back", "finish"]
    unit: str | None = Field(None, description="The unit to go back to (back) or to skip (skip).")
    reason: str = Field("", description="Why, in one sentence (recorded in the trace and the report).")
    directive: dict[str, Any] = Field(default_factory=dict,
                                      description="For back: what the re-run unit should do differently.")


class Attempt(BaseModel):
    script: str = Field(description="The complete Python script of the unit.")
    based_on: str | None = Field(None, description="Sha of the code-memory entry the script starts from.")
    notes: str = Field("", description="What the script does differently from the memory code, if anything.")


class Review(BaseModel):
    approved: bool
    suggestions: list[str] = Field(default_factory=list, description="Concrete changes, one per item.")
    patch: dict[str, Any] = Field(default_factory=dict, description="Structured parameter suggestions.")


@dataclass
class UnitView:
    name: str
    title: str
    optional: bool
    status: str  # pending, approved, skipped, failed


@dataclass
class TaskInfo:
    """What a task is: one cohort (engineers) or one problem (statistician)."""

    kind: str  # "cohort" or "problem"
    trait: str
    subject: str  # cohort folder name, or the condition of a problem
    condition: str | None = None
    folder: Path | None = None  # the task's folder (journal, trajectory of LLM calls)


@dataclass
class PlanContext:
    role: str
    task: TaskInfo
    guideline: Guideline
    units: list[UnitView]
    next_unit: str | None
    last_unit: str | None
    outputs: dict[str, dict]  # approved outputs of this pass, by unit
    backtracks_left: int
    history: list[str]  # one line per earlier event
    directives: dict[str, dict] = field(default_factory=dict)  # unit -> directive it was last re-run with
    feedback: str = ""  # why the previous decision was refused


@dataclass
class UnitContext:
    role: str
    task: TaskInfo
    guideline: Guideline
    unit: ActionUnit
    round: int
    max_rounds: int
    outputs: dict[str, dict]
    offers: list[MemoryEntry]
    directive: dict[str, Any] = field(default_factory=dict)
    directive_reason: str = ""
    feedback: list[Review] = field(default_factory=list)  # the reviews of this unit's earlier rounds
    previous_script: str | None = None
    conventions: str = ""  # the workspace conventions (paths, input JSON keys) for script writers
    input_keys: list[str] = field(default_factory=list)


@dataclass
class ReviewContext:
    role: str  # the reviewer's role
    author_role: str
    task: TaskInfo
    guideline: Guideline  # the author's
    unit: ActionUnit
    round: int
    script: str
    run_status: str
    run_ok: bool
    run_log: str  # head and tail of the script's output
    output: dict[str, Any]
    checks: list[str]  # problems the unit's checks found (empty: all passed)
    history: list[str]  # the task so far: decisions and unit outcomes
    outputs: dict[str, dict]  # approved outputs of the earlier units
    reviewer_guideline: Guideline | None = None


class RoleBrain(Protocol):
    name: str
    role: str

    def describe(self) -> dict[str, Any]: ...

    def decide(self, ctx: PlanContext) -> Decision: ...

    def write(self, ctx: UnitContext) -> Attempt: ...

    def review(self, ctx: ReviewContext) -> Review: ...

    def take_usage(self) -> Usage: ...
