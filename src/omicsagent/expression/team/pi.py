"""The PI: reads the problems, dispatches every cohort and every problem, records what is finished.

1. Every cohort of every listed trait (and of the traits used as conditions) goes to the GEO engineer
   (one job per series folder) or the TCGA engineer (one job per trait: it picks the matching cohort).
2. The approved GenoTEX files of each cohort are copied into ``OUT/preprocess`` and its record merged
   into ``cohort_info.json``; then the team journal marks the cohort done (so a kill -9 loses no
   finished cohort, and a rerun skips it).
3. Every (trait, condition) problem goes to the statistician; its JSON lands in ``OUT/regress``.
4. The HTML reports are written.

Work is done through an executor (serial, or a pool of processes with ``jobs > 1``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from omicsagent.errors import InputError
from omicsagent.expression.pipeline.geo import _cohort_id
from omicsagent.expression.pipeline.preprocess import PreprocessOptions
from omicsagent.expression.pp.cohort import CohortRecord, save_cohort_record
from omicsagent.expression.pp.symbols import AliasTable, load_alias_table
from omicsagent.expression.team.brain import RoleBrain, TaskInfo
from omicsagent.expression.team.executor import make_executor
from omicsagent.expression.team.guideline import Guideline, load_guidelines
from omicsagent.expression.team.journal import (
    CohortEntry,
    ProblemEntry,
    TaskJournal,
    TeamJournal,
    cohort_key,
    problem_key,
)
from omicsagent.expression.team.layout import PREPROCESS, REGRESS, RunPaths
from omicsagent.expression.team.loop import TaskSetup, UnitLoop, workspace_links
from omicsagent.expression.team.memory import CodeMemory
from omicsagent.expression.team.problems import (
    CohortJob,
    Problem,
    ProblemSet,
    discover_cohorts,
    load_problems,
)
from omicsagent.expression.team.roles import build_brains, describe_brains
from omicsagent.expression.team.unitlib import write_json
from omicsagent.sandbox import Sandbox, Workspace, make_sandbox

Emit = Callable[..., None]


@dataclass(frozen=True)
class TeamSettings:
    problems: Path
    cohorts: Path
    out: Path
    brain: str = "expert"
    model: str | None = None
    config: Path | None = None
    env_file: Path | None = None
    guidelines: tuple[Path, ...] = ()
    traits: tuple[str, ...] | None = None
    jobs: int = 1
    gene_info: Path | None = None
    cache_dir: Path | None = None
    memory: Path | None = None  # None: the default code memory
    use_memory: bool = True
    sandbox: str = "auto"
    report: bool = True

    def resolved(self) -> TeamSettings:
        """Every path absolute and free of symlinks (it is handed to workers and to the sandbox)."""
        def r(p: Path | None) -> Path | None:
            return None if p is None else Path(p).expanduser().resolve()

        return replace(self, problems=r(self.problems), cohorts=r(self.cohorts), out=r(self.out),
                       config=r(self.config), env_file=r(self.env_file),
                       guidelines=tuple(r(g) for g in self.guidelines), gene_info=r(self.gene_info),
                       cache_dir=r(self.cache_dir), memory=r(self.memory))

    def fingerprint(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True)


@dataclass
class TeamResult:
    journal: TeamJournal
    paths: RunPaths
    problems: ProblemSet
    reports: list[Path] = field(default_factory=list)


# ----- what a worker process builds once ----------------------------------------------------------


@dataclass
class _Context:
    guides: dict[str, Guideline]
    brains: dict[str, RoleBrain]
    sandbox: Sandbox
    memory: CodeMemory | None
    aliases: dict[str, AliasTable]


_CONTEXTS: dict[str, _Context] = {}


def _variant(ref: bool) -> str:
    return "reference" if ref else "default"


def _context(s: TeamSettings) -> _Context:
    key = s.fingerprint()
    if key not in _CONTEXTS:
        guides = load_guidelines(list(s.guidelines))
        brains = build_brains(
            brain=s.brain, guides=guides, config=s.config, env_file=s.env_file, model=s.model
        )
        aliases = {}
        for role in ("geo", "tcga"):
            ref = bool(guides[role].settings["reference_compatible"])
            if _variant(ref) not in aliases:
                aliases[_variant(ref)] = load_alias_table(
                    s.gene_info, cache_dir=s.cache_dir, reference_compatible=ref
                )
        memory = CodeMemory(s.memory) if s.use_memory else None
        _CONTEXTS.clear()
        _CONTEXTS[key] = _Context(guides, brains, make_sandbox(s.sandbox), memory, aliases)
    return _CONTEXTS[key]


def _fresh_workspace(task_dir: Path) -> Workspace:
    """A task restarts from nothing (a kill -9 may have left half of it)."""
    if task_dir.exists():
        shutil.rmtree(task_dir)
    task_dir.mkdir(parents=True)
    return Workspace.create(task_dir / "workspace")


def _summary(journal: TaskJournal, paths: RunPaths, task_dir: Path) -> dict[str, Any]:
    return {"status": journal.status, "note": journal.note, "backtracks": journal.backtracks,
            "reuse": journal.reuse_counts(), "usage": journal.total_usage().model_dump(),
            "duration_s": journal.duration_s, "result": journal.result,
            "journal": str((task_dir / "journal.json").relative_to(paths.out))}


def cohort_worker(item: tuple[TeamSettings, CohortJob], emit: Emit) -> dict[str, Any]:
    s, job = item
    ctx = _context(s)
    paths = RunPaths(s.out)
    role = "geo" if job.kind == "GEO" else "tcga"
    variant = _variant(bool(ctx.guides[role].settings["reference_compatible"]))
    alias_file = paths.aliases / f"{variant}.json"
    task_dir = paths.cohort(job.trait, job.folder)
    ws = _fresh_workspace(task_dir)
    base = {"alias_table": str(alias_file)}
    base["cohort_dir" if job.kind == "GEO" else "cohort_root"] = str(job.path)
    task = TaskInfo(kind="cohort", trait=job.trait, subject=job.folder, folder=task_dir)
    emit("task_start", trait=job.trait, subject=job.folder, role=role)
    loop = UnitLoop(TaskSetup(
        role=role, task=task, guides=ctx.guides, brains=ctx.brains, workspace=ws, task_dir=task_dir,
        sandbox=ctx.sandbox, memory=ctx.memory, base_input=base, mounts=[job.path, alias_file],
        aliases=ctx.aliases[variant], run_label=str(s.out), emit=emit,
    ))
    journal = loop.run()
    return _summary(journal, paths, task_dir)


def problem_worker(item: tuple[TeamSettings, Problem], emit: Emit) -> dict[str, Any]:
    s, problem = item
    ctx = _context(s)
    paths = RunPaths(s.out)
    task_dir = paths.problem(problem.trait, problem.condition)
    ws = _fresh_workspace(task_dir)
    task = TaskInfo(kind="problem", trait=problem.trait, subject=str(problem.condition),
                    condition=problem.condition, folder=task_dir)
    emit("task_start", trait=problem.trait, subject=str(problem.condition), role="statistician")
    loop = UnitLoop(TaskSetup(
        role="statistician", task=task, guides=ctx.guides, brains=ctx.brains, workspace=ws, task_dir=task_dir,
        sandbox=ctx.sandbox, memory=ctx.memory,
        base_input={"preprocess_root": str(paths.preprocess), "task_info": str(s.problems)},
        mounts=[paths.preprocess, s.problems], run_label=str(s.out), emit=emit,
    ))
    journal = loop.run()
    return _summary(journal, paths, task_dir)


# ----- the PI -------------------------------------------------------------------------------------


class PI:
    def __init__(self, settings: TeamSettings, emit: Emit) -> None:
        self.s = settings.resolved()
        self.emit = emit
        self.paths = RunPaths(self.s.out)

    def prepare(self) -> tuple[ProblemSet, list[CohortJob], list[str]]:
        """Validate everything the user gave before anything is written."""
        s = self.s
        if s.jobs < 1:
            raise InputError(f"--jobs {s.jobs} must be at least 1.")
        if s.out.exists() and not s.out.is_dir():
            raise InputError(f"{s.out} is a file; pass a folder for --out.")
        problems = load_problems(s.problems, list(s.traits) if s.traits else None)
        jobs, notes = discover_cohorts(s.cohorts, problems.preprocess_traits)
        _context(s)  # guidelines, brains (LLM configs), alias tables, sandbox: fail now, not in a worker
        return problems, jobs, problems.notes + notes

    def _write_aliases(self) -> None:
        ctx = _context(self.s)
        for variant, table in ctx.aliases.items():
            path = self.paths.aliases / f"{variant}.json"
            write_json(path, table.mapping)

    def run(self) -> TeamResult:
        started = time.time()
        problem_set, jobs, notes = self.prepare()
        ctx = _context(self.s)
        paths = self.paths
        journal = TeamJournal.load(paths.journal) if paths.journal.is_file() else TeamJournal()
        paths.preprocess.mkdir(parents=True, exist_ok=True)
        paths.regress.mkdir(parents=True, exist_ok=True)
        self._write_aliases()
        digests = {role: g.digest() for role, g in ctx.guides.items()}
        journal.status, journal.status_reason = "running", ""
        journal.settings = {
            "problems": str(self.s.problems), "cohorts": str(self.s.cohorts), "brain": self.s.brain,
            "brains": {r: b.describe() for r, b in ctx.brains.items()}, "jobs": self.s.jobs,
            "guidelines": {r: {"digest": d, "source": ctx.guides[r].source} for r, d in digests.items()},
            "traits": problem_set.traits, "memory": str(ctx.memory.root) if ctx.memory else None,
            "sandbox": ctx.sandbox.name,
        }
        journal.notes = list(notes)
        journal.save(paths.journal)
        cohort_digest = {"GEO": self._digest(digests, "geo"), "TCGA": self._digest(digests, "tcga")}
        todo = [j for j in jobs if not self._done(journal.cohorts.get(cohort_key(j.trait, j.folder)),
                                                   cohort_digest[j.kind])]
        stat_digest = self._digest(digests, "statistician")
        ptodo = [p for p in problem_set.problems
                 if not self._done(journal.problems.get(problem_key(p.trait, p.condition)), stat_digest)]
        # a problem whose cohorts are redone is redone too
        redo_traits = {j.trait for j in todo}
        ptodo = [
            p
            for p in problem_set.problems
            if p in ptodo or p.trait in redo_traits or p.condition in redo_traits
        ]
        executor = make_executor(self.s.jobs)
        self.emit(
            "team_start",
            traits=len(problem_set.traits),
            cohorts=len(jobs),
            cohorts_done=len(jobs) - len(todo),
            problems=len(problem_set.problems),
            problems_done=len(problem_set.problems) - len(ptodo),
            brains=describe_brains(ctx.brains),
            executor=f"{executor.name} executor, {self.s.jobs} job(s)",
        )
        for note in notes:
            self.emit("note", message=note)

        def cohort_done(item, summary) -> None:
            _, job = item
            entry = self._merge_cohort(job, summary, cohort_digest[job.kind])
            journal.cohorts[cohort_key(job.trait, job.folder)] = entry
            journal.elapsed_s = round(time.time() - started, 3)
            journal.save(paths.journal)
            self.emit(
                "task_end",
                trait=job.trait,
                subject=job.folder,
                role="geo" if job.kind == "GEO" else "tcga",
                status=entry.status,
                summary=entry.note,
            )

        def problem_done(item, summary) -> None:
            _, problem = item
            entry = self._merge_problem(problem, summary, stat_digest)
            journal.problems[problem_key(problem.trait, problem.condition)] = entry
            journal.elapsed_s = round(time.time() - started, 3)
            journal.save(paths.journal)
            self.emit("task_end", trait=problem.trait, subject=str(problem.condition), role="statistician",
                      status=entry.status, summary=entry.note)

        executor.run(cohort_worker, [(self.s, j) for j in todo], cohort_done, self.emit)
        executor.run(problem_worker, [(self.s, p) for p in ptodo], problem_done, self.emit)
        result = TeamResult(journal, paths, problem_set)
        if self.s.report:
            from omicsagent.expression.team.report import write_reports

            result.reports = write_reports(paths, journal, problem_set)
        journal.status = "finished"
        journal.elapsed_s = round(time.time() - started, 3)
        journal.save(paths.journal)
        done = [e for e in journal.problems.values() if e.status == "done" and e.output]
        self.emit(
            "team_end",
            status="finished",
            summary=f"{len(done)} of {len(problem_set.problems)} problems answered; report {paths.report}",
        )
        return result

    @staticmethod
    def _digest(digests: dict[str, str], role: str) -> str:
        reviewers = ("code_reviewer", "domain_expert") if role != "statistician" else ("code_reviewer",)
        return "+".join(digests[r] for r in (role, *reviewers, "pi"))

    @staticmethod
    def _done(entry, digest: str) -> bool:
        return entry is not None and entry.status == "done" and entry.guideline == digest

    # ----- merging a finished task into the GenoTEX tree -----
    def _merge_cohort(self, job: CohortJob, summary: dict[str, Any], digest: str) -> CohortEntry:
        paths = self.paths
        task_dir = paths.cohort(job.trait, job.folder)
        src = task_dir / "workspace" / PREPROCESS / job.trait
        dst = paths.preprocess / job.trait
        entry = CohortEntry(
            trait=job.trait,
            folder=job.folder,
            kind=job.kind,
            status=summary["status"],
            note=summary["note"],
            journal=summary["journal"],
            duration_s=summary["duration_s"],
            usage=summary["usage"],
            reuse=summary["reuse"],
            backtracks=summary["backtracks"],
        )
        entry.guideline = digest
        records = {}
        links = workspace_links(task_dir / "workspace")
        if links:  # never copy through a link a script left (it could point outside the workspace)
            summary = {
                **summary,
                "status": "failed",
                "note": f"the workspace holds symbolic links ({links[0]})",
            }
            entry.status, entry.note = "failed", summary["note"]
        if summary["status"] == "done" and (src / "cohort_info.json").is_file():
            records = json.loads((src / "cohort_info.json").read_text())
        elif summary["status"] != "done":
            cid = "TCGA" if job.kind == "TCGA" else _cohort_id(job.path, None, PreprocessOptions())
            records = {
                cid: CohortRecord(
                    False,
                    None,
                    None,
                    False,
                    None,
                    None,
                    None,
                    None,
                    f"the team could not preprocess this cohort: {summary['note']}",
                ).to_dict()
            }
        for cid, rec in records.items():
            record = CohortRecord(**rec)
            entry.cohort_id, entry.record = cid, record.to_dict()
            for sub in ("clinical_data", "gene_data", None):
                rel = Path(sub) / f"{cid}.csv" if sub else Path(f"{cid}.csv")
                s_file, d_file = src / rel, dst / rel
                if summary["status"] == "done" and s_file.is_file():
                    d_file.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(s_file, d_file)
                    entry.files.append(str(d_file.relative_to(paths.out)))
                elif d_file.exists():
                    d_file.unlink()  # a stale file of an earlier run would contradict the new record
            save_cohort_record(dst / "cohort_info.json", cid, record)
        if not entry.note:
            rec = entry.record
            if rec is None:
                entry.note = (summary.get("result", {}).get("select_cohort", {}) or {}).get(
                    "reason"
                ) or "no record"
            else:
                entry.note = f"{'usable' if rec['is_usable'] else 'not usable'}: {rec.get('note')}"
        return entry

    def _merge_problem(self, problem: Problem, summary: dict[str, Any], digest: str) -> ProblemEntry:
        paths = self.paths
        name = f"significant_genes_condition_{problem.condition}.json"
        src = paths.problem(problem.trait, problem.condition) / "workspace" / REGRESS / problem.trait / name
        dst = paths.regress / problem.trait / name
        result = summary.get("result", {})
        sel, reg = result.get("select_cohorts", {}) or {}, result.get("regress", {}) or {}
        entry = ProblemEntry(
            trait=problem.trait,
            condition=problem.condition,
            status=summary["status"],
            cohort=sel.get("cohort"),
            condition_cohort=sel.get("condition_cohort"),
            journal=summary["journal"],
            duration_s=summary["duration_s"],
            usage=summary["usage"],
            reuse=summary["reuse"],
            backtracks=summary["backtracks"],
            note=summary["note"],
        )
        entry.guideline = digest
        links = workspace_links(paths.problem(problem.trait, problem.condition) / "workspace")
        if links:
            summary = {**summary, "status": "failed"}
            entry.status, entry.note = "failed", f"the workspace holds symbolic links ({links[0]})"
        if summary["status"] == "done" and src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            entry.output = str(dst.relative_to(paths.out))
            entry.n_genes = len(json.loads(dst.read_text())["significant_genes"]["Variable"])
            entry.note = entry.note or (f"{entry.n_genes} genes from {entry.cohort}"
                                        + (f" + {entry.condition_cohort}" if entry.condition_cohort else "")
                                        + f" ({reg.get('model')}, penalty {reg.get('penalty')})")
        else:
            if dst.exists():
                dst.unlink()
            entry.note = entry.note or f"no answer: {sel.get('reason', 'no cohort qualifies')}"
        return entry


def run_team(settings: TeamSettings, emit: Emit | None = None) -> TeamResult:
    return PI(settings, emit or (lambda kind, **data: None)).run()
