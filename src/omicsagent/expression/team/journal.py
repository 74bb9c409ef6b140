"""Journals of the expression team: plain versioned JSON, rewritten atomically after every step.

* ``TaskJournal``: one cohort (an engineer's units) or one problem (the statistician's units), in
  ``OUT/team/cohorts/<Trait>/<folder>/journal.json`` or ``OUT/team/problems/<Trait>/<Cond>/journal.json``:
  every decision (advance, skip, back with the reason, finish) and every unit visit with its review rounds.
* ``TeamJournal``: the PI's view in ``OUT/team/journal.json``: settings, brains, guideline digests and one
  summary per finished (trait, cohort) and (trait, condition). ``expr run`` skips what it lists as done.

A kill -9 leaves the previous or the new file, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from omicsagent.agent.journal import Usage
from omicsagent.errors import RunStateError

VERSION = 1


def save_model(model: BaseModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(model.model_dump_json(indent=1))
    os.replace(tmp, path)


class RoundRecord(BaseModel):
    round: int
    author: str  # "geo (expert)"
    reuse: Literal["as_is", "adapted", "new"] = "new"
    based_on: str | None = None
    script: str = ""  # path relative to the workspace
    run: str = ""  # status line of the sandboxed run
    run_ok: bool = False
    duration_s: float = 0.0
    peak_memory_mb: float = 0.0
    output: dict[str, Any] = Field(default_factory=dict)
    checks: list[str] = Field(default_factory=list)  # problems found by the unit's checks
    reviewer: str | None = None  # "code_reviewer (expert)"
    approved: bool = False
    suggestions: list[str] = Field(default_factory=list)
    patch: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None  # the author could not give a script
    usage: Usage = Field(default_factory=Usage)


class UnitRecord(BaseModel):
    type: Literal["unit"] = "unit"
    unit: str
    visit: int = 1  # 2 after going back to it once, ...
    status: Literal["running", "approved", "failed", "skipped"] = "running"
    reason: str = ""  # for skipped units
    rounds: list[RoundRecord] = Field(default_factory=list)
    output: dict[str, Any] = Field(default_factory=dict)
    started_at: float = Field(default_factory=time.time)
    duration_s: float = 0.0

    @property
    def reuse(self) -> str | None:
        return self.rounds[-1].reuse if self.rounds and self.status == "approved" else None


class DecisionRecord(BaseModel):
    type: Literal["decision"] = "decision"
    role: str
    action: str
    unit: str | None = None
    reason: str = ""
    directive: dict[str, Any] = Field(default_factory=dict)
    valid: bool = True
    note: str = ""  # why the harness refused it and what it did instead
    time: float = Field(default_factory=time.time)
    usage: Usage = Field(default_factory=Usage)


class TaskJournal(BaseModel):
    version: int = VERSION
    kind: Literal["cohort", "problem"]
    role: str
    trait: str
    subject: str
    condition: str | None = None
    status: Literal["running", "done", "failed"] = "running"
    cohort_id: str | None = None
    events: list[UnitRecord | DecisionRecord] = Field(default_factory=list)
    backtracks: int = 0
    result: dict[str, Any] = Field(default_factory=dict)
    note: str = ""
    brains: dict[str, dict[str, Any]] = Field(default_factory=dict)
    started_at: float = Field(default_factory=time.time)
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)

    def save(self, path: Path) -> None:
        save_model(self, path)

    @classmethod
    def load(cls, path: Path) -> TaskJournal:
        return cls.model_validate_json(Path(path).read_text())

    @property
    def units(self) -> list[UnitRecord]:
        return [e for e in self.events if isinstance(e, UnitRecord)]

    def reuse_counts(self) -> dict[str, int]:
        counts = {"as_is": 0, "adapted": 0, "new": 0}
        for u in self.units:
            if u.reuse:
                counts[u.reuse] += 1
        return counts

    def total_usage(self) -> Usage:
        total = Usage()
        for e in self.events:
            if isinstance(e, DecisionRecord):
                total = total.add(e.usage)
            else:
                for r in e.rounds:
                    total = total.add(r.usage)
        return total


class CohortEntry(BaseModel):
    trait: str
    folder: str
    kind: str  # GEO or TCGA
    status: Literal["done", "failed"]
    cohort_id: str | None = None
    record: dict[str, Any] | None = None
    note: str = ""
    journal: str = ""  # relative to OUT
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    reuse: dict[str, int] = Field(default_factory=dict)
    backtracks: int = 0
    files: list[str] = Field(default_factory=list)  # copied into OUT/preprocess, relative to OUT
    guideline: str = ""  # digests of the guidelines it was made with (a change redoes it)


class ProblemEntry(BaseModel):
    trait: str
    condition: str | None
    status: Literal["done", "failed"]
    cohort: str | None = None
    condition_cohort: str | None = None
    n_genes: int | None = None
    output: str | None = None  # relative to OUT
    note: str = ""
    journal: str = ""
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    reuse: dict[str, int] = Field(default_factory=dict)
    backtracks: int = 0
    guideline: str = ""


class TeamJournal(BaseModel):
    version: int = VERSION
    status: Literal["running", "finished", "failed"] = "running"
    status_reason: str = ""
    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    elapsed_s: float = 0.0
    settings: dict[str, Any] = Field(default_factory=dict)
    cohorts: dict[str, CohortEntry] = Field(default_factory=dict)
    problems: dict[str, ProblemEntry] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    def save(self, path: Path) -> None:
        self.updated_at = time.time()
        save_model(self, path)

    @classmethod
    def load(cls, path: Path) -> TeamJournal:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            raise RunStateError(
                f"{path} is corrupted (not valid JSON); delete it to start the run again."
            ) from None
        if data.get("version") != VERSION:
            raise RunStateError(f"{path} has version {data.get('version')}; this omicsagent reads {VERSION}.")
        return cls.model_validate(data)


def cohort_key(trait: str, folder: str) -> str:
    return f"{trait}/{folder}"


def problem_key(trait: str, condition: str | None) -> str:
    return f"{trait}/{condition}"
