"""The unit loop of one task (a cohort for an engineer, a problem for the statistician).

Before each step the acting role decides (advance, skip an optional unit, go back to an earlier unit, or
finish); the harness validates the decision. A unit runs in review rounds: the author writes a script,
the loop runs it in the sandbox (cohort files read-only, no network, no keys), the unit's checks look at
what it wrote, and the reviewer approves or rejects with suggestions for the next round. Every round
starts from the state the unit started from, and going back restores the state the earlier unit
started from (snapshots of ``scratch/state`` and ``artifacts``). The task journal is rewritten after
every decision and every round.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from omicsagent.agent.journal import Usage
from omicsagent.errors import ModelMistake
from omicsagent.expression.pp.symbols import AliasTable
from omicsagent.expression.team.brain import (
    Attempt,
    Decision,
    PlanContext,
    Review,
    ReviewContext,
    RoleBrain,
    TaskInfo,
    UnitContext,
    UnitView,
)
from omicsagent.expression.team.checks import CheckContext, run_checks
from omicsagent.expression.team.guideline import Guideline
from omicsagent.expression.team.journal import DecisionRecord, RoundRecord, TaskJournal, UnitRecord
from omicsagent.expression.team.layout import MAX_OUTPUT_BYTES, STATE, UNITS
from omicsagent.expression.team.memory import CodeMemory, classify_reuse
from omicsagent.expression.team.unitlib import plain, write_json
from omicsagent.sandbox import Limits, Sandbox, Workspace

Emit = Callable[..., None]
MAX_DECISIONS = 200  # a safety stop: a task never needs this many decisions
SNAPSHOT_PARTS = (STATE, Path("artifacts"))


def workspace_links(root: Path) -> list[str]:
    """Symbolic links a script left under scratch/ or artifacts/: the host never reads through them
    (a link could point at a file outside the workspace)."""
    found = []
    for sub in ("scratch", "artifacts"):
        base = root / sub
        if base.is_dir():
            found += [str(p.relative_to(root)) for p in base.rglob("*") if p.is_symlink()]
    return found


def conventions() -> str:
    return resources.files("omicsagent.expression.team").joinpath("prompts", "conventions.md").read_text()


def clip(obj: Any, limit: int = 4000) -> Any:
    """A JSON value cut down for the journal (long lists and texts shortened)."""
    if isinstance(obj, dict):
        return {k: clip(v, limit) for k, v in obj.items()}
    if isinstance(obj, list):
        out = [clip(v, limit) for v in obj[:60]]
        return out + [f"... {len(obj) - 60} more"] if len(obj) > 60 else out
    if isinstance(obj, str) and len(obj) > limit:
        return obj[:limit] + f" ... [{len(obj) - limit} characters cut]"
    return obj


@dataclass
class TaskSetup:
    """Everything the loop of one task needs (built by the PI, in the worker process)."""

    role: str
    task: TaskInfo
    guides: dict[str, Guideline]
    brains: dict[str, RoleBrain]
    workspace: Workspace
    task_dir: Path  # holds journal.json and snapshots/
    sandbox: Sandbox
    memory: CodeMemory | None
    base_input: dict[str, Any]  # cohort_dir / cohort_root / alias_table / preprocess_root / task_info ...
    mounts: list[Path]
    aliases: AliasTable | None = None
    run_label: str = ""
    emit: Emit = field(default=lambda kind, **data: None)


class UnitLoop:
    def __init__(self, setup: TaskSetup) -> None:
        self.s = setup
        self.guide = setup.guides[setup.role]
        pi = setup.guides["pi"].settings
        self.max_rounds = int(pi["max_review_rounds"])
        self.max_backtracks = int(pi["max_backtracks"])
        self.offers = int(pi["memory_offers"]) if pi["reuse_code"] else 0
        self.limits = Limits(wall_seconds=float(pi["unit_timeout_s"]), memory_mb=int(pi["unit_memory_mb"]),
                             output_bytes=60_000)
        self.ws = setup.workspace
        self.path = setup.task_dir / "journal.json"
        t = setup.task
        self.journal = TaskJournal(kind=t.kind, role=setup.role, trait=t.trait, subject=t.subject,
                                   condition=t.condition,
                                   brains={r: b.describe() for r, b in setup.brains.items()})
        self.history: list[str] = []

    # ----- helpers -----
    def _emit(self, kind: str, **data: Any) -> None:
        self.s.emit(kind, trait=self.s.task.trait, subject=self.s.task.subject, role=self.s.role, **data)

    def _save(self) -> None:
        self.journal.duration_s = round(time.time() - self.journal.started_at, 3)
        self.journal.usage = self.journal.total_usage()
        self.journal.save(self.path)

    def _snap_dir(self, index: int) -> Path:
        return self.s.task_dir / "snapshots" / f"{index:02d}"

    def _snapshot(self, index: int) -> None:
        dest = self._snap_dir(index)
        if dest.exists():
            shutil.rmtree(dest)
        for part in SNAPSHOT_PARTS:
            src = self.ws.root / part
            if src.exists():
                shutil.copytree(src, dest / part)

    def _restore(self, index: int) -> None:
        src = self._snap_dir(index)
        for part in SNAPSHOT_PARTS:
            live = self.ws.root / part
            if live.exists():
                shutil.rmtree(live)
            if (src / part).exists():
                shutil.copytree(src / part, live)
            else:
                live.mkdir(parents=True, exist_ok=True)

    def _brain(self, role: str) -> RoleBrain:
        return self.s.brains[role]

    def _label(self, role: str) -> str:
        return f"{role} ({self._brain(role).name})"

    # ----- the loop -----
    def run(self) -> TaskJournal:
        units = self.guide.units
        status = {u.name: "pending" for u in units}
        outputs: dict[str, dict] = {}
        directives: dict[str, tuple[dict, str]] = {}
        visits: dict[str, int] = {}
        pos, last = 0, None
        feedback = ""
        self._save()
        for _ in range(MAX_DECISIONS):
            next_unit = units[pos].name if pos < len(units) else None
            stopped = bool(last and outputs.get(last, {}).get("stop") is True)
            ctx = PlanContext(
                role=self.s.role, task=self.s.task, guideline=self.guide,
                units=[UnitView(u.name, u.title, u.optional, status[u.name]) for u in units],
                next_unit=next_unit, last_unit=last, outputs=outputs,
                backtracks_left=self.max_backtracks - self.journal.backtracks, history=list(self.history),
                directives={k: v[0] for k, v in directives.items()}, feedback=feedback,
            )
            brain = self._brain(self.s.role)
            try:
                decision = brain.decide(ctx)
                problem = self._invalid(decision, units, status, pos, next_unit, stopped)
            except ModelMistake as err:
                decision, problem = Decision(action="advance"), f"no valid decision ({err})"
            record = DecisionRecord(role=self.s.role, action=decision.action, unit=decision.unit,
                                    reason=decision.reason, directive=decision.directive,
                                    usage=brain.take_usage())
            if problem:
                fallback = "finish" if (next_unit is None or stopped) else "advance"
                record.valid, record.note = False, f"{problem}; the harness chose {fallback}"
                decision = Decision(action=fallback, reason=record.note)
                feedback = problem
            else:
                feedback = ""
            self.journal.events.append(record)
            self._save()
            self._emit(
                "decision",
                action=decision.action,
                unit=decision.unit or next_unit,
                reason=decision.reason,
                valid=record.valid,
            )
            if decision.action == "finish":
                self.history.append(f"{self.s.role} finished: {decision.reason}")
                break
            if decision.action == "back":
                j = next(i for i, u in enumerate(units) if u.name == decision.unit)
                self._restore(j)
                for u in units[j:]:
                    status[u.name] = "pending"
                    outputs.pop(u.name, None)
                directives[decision.unit] = (decision.directive, decision.reason)
                self.journal.backtracks += 1
                self.history.append(f"{self.s.role} went back to {decision.unit}: {decision.reason}")
                pos, last = j, None
                continue
            unit = units[pos]
            if decision.action == "skip":
                status[unit.name] = "skipped"
                self.journal.events.append(
                    UnitRecord(
                        unit=unit.name,
                        status="skipped",
                        reason=decision.reason,
                        visit=visits.get(unit.name, 0) + 1,
                    )
                )
                self.history.append(f"{unit.name} skipped: {decision.reason}")
                self._save()
                pos += 1
                continue
            visits[unit.name] = visits.get(unit.name, 0) + 1
            self._snapshot(pos)
            rec = self._run_unit(
                pos, unit.name, visits[unit.name], outputs, directives.get(unit.name, ({}, ""))
            )
            status[unit.name] = rec.status
            if rec.status != "approved":
                self.journal.status = "failed"
                self.journal.note = (
                    f"unit {unit.name} was not approved after {len(rec.rounds)} round(s): "
                    + "; ".join(
                        (rec.rounds[-1].suggestions or ["no script"])[:3] if rec.rounds else ["no round ran"]
                    )
                )
                self.history.append(self.journal.note)
                break
            outputs[unit.name] = rec.output
            self.history.append(self._summary(unit.name, rec))
            pos, last = pos + 1, unit.name
        else:
            self.journal.status = "failed"
            self.journal.note = f"more than {MAX_DECISIONS} decisions; stopped"
        if self.journal.status == "running":
            self.journal.status = "done"
        self.journal.result = plain(clip(outputs))
        self._save()
        return self.journal

    def _invalid(self, d: Decision, units, status, pos, next_unit, stopped) -> str | None:
        names = [u.name for u in units]
        if d.action == "finish":
            return None
        if stopped and d.action != "back":
            return "the last unit ended the task (stop); only finish or back are possible"
        if d.action == "advance":
            return None if next_unit is not None else "every unit is done; finish or go back"
        if d.action == "skip":
            if next_unit is None:
                return "there is no unit left to skip"
            if d.unit not in (None, next_unit):
                return f"only the next unit ({next_unit}) can be skipped"
            return None if units[pos].optional else f"{next_unit} is not optional"
        if d.action == "back":
            if self.journal.backtracks >= self.max_backtracks:
                return f"no backtrack left (at most {self.max_backtracks})"
            if (
                d.unit not in names
                or names.index(d.unit) >= pos
                or status[d.unit] not in ("approved", "skipped")
            ):
                return f"{d.unit!r} is not an earlier unit that ran"
            if not d.reason.strip():
                return "going back needs a reason"
            return None
        return f"unknown action {d.action!r}"

    def _summary(self, unit: str, rec: UnitRecord) -> str:
        out = {k: v for k, v in rec.output.items() if k not in ("rows", "background", "samples", "notes",
                                                                  "candidates", "cv_grid", "genes",
                                                                  "coefficients")}
        text = json.dumps(plain(out), default=str)
        return f"{unit} approved after {len(rec.rounds)} round(s): {text[:600]}"

    # ----- one unit -----
    def _run_unit(self, index: int, name: str, visit: int, outputs: dict[str, dict],
                  directive: tuple[dict, str]) -> UnitRecord:
        unit = self.guide.unit(name)
        rec = UnitRecord(unit=name, visit=visit)
        self.journal.events.append(rec)
        author = self._brain(self.s.role)
        reviews = []
        previous_script = None
        folder = self.ws.root / UNITS / name
        folder.mkdir(parents=True, exist_ok=True)
        self._emit("unit_start", unit=name, visit=visit)
        for rnd in range(1, self.max_rounds + 1):
            if rnd > 1:
                self._restore(index)
                folder.mkdir(parents=True, exist_ok=True)
            offers = self.s.memory.offers(self.s.role, name, self.offers) if self.s.memory else []
            uctx = UnitContext(
                role=self.s.role, task=self.s.task, guideline=self.guide, unit=unit, round=rnd,
                max_rounds=self.max_rounds, outputs=outputs, offers=offers, directive=directive[0],
                directive_reason=directive[1], feedback=list(reviews), previous_script=previous_script,
                conventions=conventions(), input_keys=sorted(self._input(name, outputs, folder)),
            )
            started = time.time()
            try:
                attempt = author.write(uctx)
            except ModelMistake as err:
                rr = RoundRecord(round=rnd, author=self._label(self.s.role), error=str(err)[:2000],
                                 suggestions=[f"the author gave no script: {str(err)[:500]}"],
                                 usage=author.take_usage())
                rec.rounds.append(rr)
                self._save()
                self._emit("round", unit=name, round=rnd, approved=False, reuse=None, reviewer=None,
                           suggestions=rr.suggestions)
                continue  # the author sees the same reviews again next round
            rr = self._attempt(rnd, visit, unit, attempt, offers, outputs, folder)
            rr.usage = rr.usage.add(author.take_usage())
            rr.duration_s = round(time.time() - started, 3)
            rec.rounds.append(rr)
            self._save()
            self._emit(
                "round",
                unit=name,
                round=rnd,
                approved=rr.approved,
                reuse=rr.reuse,
                reviewer=rr.reviewer,
                suggestions=rr.suggestions[:3],
                run=rr.run,
            )
            if rr.approved:
                rec.status = "approved"
                rec.output = rr.output
                if self.s.memory is not None:
                    self.s.memory.store(self.s.role, name, attempt.script, approval={
                        "trait": self.s.task.trait, "cohort": self.s.task.subject, "brain": author.name,
                        "guideline": self.guide.digest(), "run": self.s.run_label,
                    })
                break
            reviews.append(Review(approved=False, suggestions=rr.suggestions, patch=rr.patch))
            previous_script = attempt.script
        else:
            rec.status = "failed"
        rec.duration_s = round(time.time() - rec.started_at, 3)
        self._save()
        self._emit("unit_end", unit=name, status=rec.status, rounds=len(rec.rounds), reuse=rec.reuse)
        return rec

    def _input(self, name: str, outputs: dict[str, dict], folder: Path) -> dict[str, Any]:
        return {
            "role": self.s.role,
            "unit": name,
            "trait": self.s.task.trait,
            "condition": self.s.task.condition,
            "workspace": str(self.ws.root),
            "state_dir": str(STATE),
            "output": str(folder / "output.json"),
            "settings": self.guide.settings,
            "previous": outputs,
            **self.s.base_input,
        }

    def _attempt(
        self, rnd: int, visit: int, unit, attempt: Attempt, offers, outputs, folder: Path
    ) -> RoundRecord:
        reuse, based = classify_reuse(attempt.script, offers, attempt.based_on)
        stem = f"v{visit}_r{rnd}"
        script = folder / f"{stem}.py"
        script.write_text(attempt.script)
        info = self._input(unit.name, outputs, folder)
        write_json(folder / "input.json", info)
        out_path = folder / "output.json"
        if out_path.exists():
            out_path.unlink()
        res = self.s.sandbox.run(["python", str(script.relative_to(self.ws.root)),
                                  str((folder / "input.json").relative_to(self.ws.root))],
                                 workspace=self.ws, limits=self.limits, extra_ro_mounts=self.s.mounts,
                                 log_path=folder / f"{stem}.log")
        links = workspace_links(self.ws.root)
        output, problem = ({}, None) if links else self._read_output(out_path)
        rr = RoundRecord(round=rnd, author=self._label(self.s.role), reuse=reuse, based_on=based,
                         script=str(script.relative_to(self.ws.root)), run=res.status, run_ok=res.ok,
                         peak_memory_mb=res.peak_memory_mb)
        checks: list[str] = []
        if links:
            checks.append(
                f"the script left symbolic links ({', '.join(links[:5])}); write regular files only"
            )
        elif not res.ok:
            checks.append(f"the script failed ({res.status}): {res.output[-1500:]}")
        elif problem:
            checks.append(problem)
        else:
            if output.get("stop") is not True:
                checks += unit.output_problems(output)
            checks += run_checks(
                unit.checks,
                CheckContext(
                    role=self.s.role,
                    unit=unit.name,
                    output=output,
                    trait=self.s.task.trait,
                    workspace=self.ws.root,
                    settings=self.guide.settings,
                    review=self.s.guides["code_reviewer"].settings,
                    previous=outputs,
                    aliases=self.s.aliases,
                    extra={**self.s.base_input, "condition": self.s.task.condition},
                ),
            )
        rr.output = plain(clip(output or {}))
        rr.checks = checks
        reviewer_role = unit.reviewer
        if reviewer_role == "none":
            approved, suggestions, patch = not checks, list(checks), {}
        else:
            reviewer = self._brain(reviewer_role)
            rctx = ReviewContext(
                role=reviewer_role,
                author_role=self.s.role,
                task=self.s.task,
                guideline=self.guide,
                unit=unit,
                round=rnd,
                script=attempt.script,
                run_status=res.status,
                run_ok=res.ok,
                run_log=(
                    res.output[:3000] + ("\n...\n" + res.output[-3000:] if len(res.output) > 6000 else "")
                ),
                output=output or {},
                checks=checks,
                history=list(self.history),
                outputs=outputs,
                reviewer_guideline=self.s.guides.get(reviewer_role),
            )
            try:
                review = reviewer.review(rctx)
                approved, suggestions, patch = review.approved, list(review.suggestions), dict(review.patch)
            except ModelMistake as err:
                approved, suggestions, patch = not checks, [f"the reviewer gave no verdict ({err})"], {}
            rr.usage = rr.usage.add(reviewer.take_usage())
            rr.reviewer = self._label(reviewer_role)
            if approved and checks:  # the checks are the guideline's: a reviewer cannot waive them
                approved = False
            suggestions += [c for c in checks if c not in suggestions]
        rr.approved, rr.suggestions, rr.patch = approved, suggestions, patch
        return rr

    @staticmethod
    def _read_output(path: Path) -> tuple[dict[str, Any], str | None]:
        if not path.is_file():
            return {}, "the script wrote no output JSON (input['output'])"
        if path.stat().st_size > MAX_OUTPUT_BYTES:
            return {}, f"the output JSON is larger than {MAX_OUTPUT_BYTES} bytes; write a summary, not data"
        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as err:
            return {}, f"the output is not valid JSON ({err})"
        if not isinstance(data, dict):
            return {}, "the output JSON must be an object"
        return data, None


def usage_total(journal: TaskJournal) -> Usage:
    return journal.total_usage()
