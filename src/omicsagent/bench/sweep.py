"""A sweep: every (agent, task, seed) of a suite, run by an executor, one result file per job, resumable."""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from omicsagent.bench.agents import AgentSpec
from omicsagent.bench.agents.run import RunOptions
from omicsagent.bench.executors import execute
from omicsagent.bench.jobs import Job, is_done, write_result
from omicsagent.bench.task import BenchTask


class SweepProgress:
    """One line per job start and end on stderr (or JSON lines on stdout)."""

    def __init__(self, *, as_json: bool = False, quiet: bool = False) -> None:
        self.as_json, self.quiet = as_json, quiet
        self.total = self.finished = 0

    def _emit(self, event: str, text: str, **data) -> None:
        if self.as_json:
            sys.stdout.write(
                json.dumps({"event": event, "time": round(time.time(), 3), **data}, default=str) + "\n"
            )
            sys.stdout.flush()
        elif not self.quiet:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def plan(self, total: int, skipped: int) -> None:
        self.total = total
        self._emit("plan", f"{total + skipped} jobs: {skipped} already finished (skipped), {total} to run",
                   jobs=total + skipped, skipped=skipped, to_run=total)

    def start(self, job: Job) -> None:
        self._emit(
            "job_start",
            f"start  {job.agent.name} on {job.task.id} (seed {job.seed}), time limit "
            f"{job.time_limit_s:.0f} s",
            key=job.key,
            agent=job.agent.name,
            task=job.task.id,
            seed=job.seed,
        )

    def done(self, job: Job, rec: dict) -> None:
        self.finished += 1
        head = f"[{self.finished}/{self.total}] {job.agent.name} on {job.task.id} (seed {job.seed}): "
        if rec["success"]:
            body = f"{rec['metric']} {rec['raw_score']:.4g} (score {rec['score']:.3f})"
        else:
            body = f"{rec['status'].upper()} ({rec['reason']})"
        self._emit(
            "job_end",
            head + body + f" in {rec['wall_s']:.1f} s",
            key=job.key,
            status=rec["status"],
            success=rec["success"],
            raw_score=rec["raw_score"],
            score=rec["score"],
            wall_s=rec["wall_s"],
        )


@dataclass
class Sweep:
    suite: str
    tasks: list[BenchTask]
    agents: list[AgentSpec]
    seeds: list[int]
    results_root: Path
    options: RunOptions = field(default_factory=RunOptions)
    cpus: float = 1.0

    def jobs(self) -> list[Job]:
        return [Job(agent=a, task=t, seed=s, time_limit_s=t.time_limit_s, results_root=str(self.results_root),
                    options=self.options, suite=self.suite, cpus=self.cpus)
                for t in self.tasks for a in self.agents for s in self.seeds]

    def write_manifest(self, command: list[str] | None = None) -> None:
        self.results_root.mkdir(parents=True, exist_ok=True)
        manifest = {
            "suite": self.suite,
            "agents": [a.name for a in self.agents],
            "seeds": self.seeds,
            "tasks": [
                {
                    "id": t.id,
                    "domain": t.domain,
                    "modality": t.modality,
                    "metric": t.metric,
                    "direction": t.direction,
                    "normaliser": t.normaliser,
                    "time_limit_s": t.time_limit_s,
                    "layout": t.layout,
                    "source": t.source,
                }
                for t in self.tasks
            ],
            "iterations": self.options.iterations,
            "command": command,
            "updated_at": time.time(),
        }
        tmp = self.results_root / ".sweep.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1))
        tmp.replace(self.results_root / "sweep.json")


def run_sweep(
    sweep: Sweep,
    *,
    executor: str = "serial",
    workers: int | None = None,
    ray_address: str | None = None,
    progress: SweepProgress | None = None,
    command: list[str] | None = None,
) -> dict:
    """Run the jobs without a result yet; return counts."""
    progress = progress or SweepProgress(quiet=True)
    sweep.write_manifest(command)
    jobs = sweep.jobs()
    todo = [j for j in jobs if not is_done(j)]
    progress.plan(len(todo), len(jobs) - len(todo))
    counts = {"jobs": len(jobs), "skipped": len(jobs) - len(todo), "succeeded": 0, "failed": 0}

    def on_result(job: Job, rec: dict) -> None:
        write_result(rec, sweep.results_root)
        counts["succeeded" if rec["success"] else "failed"] += 1
        progress.done(job, rec)

    execute(todo, executor=executor, on_start=progress.start, on_result=on_result, workers=workers,
            ray_address=ray_address, memory_mb=sweep.options.memory_mb)
    return counts
