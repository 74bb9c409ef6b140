"""One job = (agent, task, seed): run the agent, grade its submission, return one result record.

Results live in ``RESULTS/results/<agent>__<task>__seed<k>.json`` (written atomically by the driver as each
job finishes); the job's own files in ``RESULTS/jobs/<same key>/``. A rerun skips every job whose result
file exists, so a killed sweep resumes where it stopped.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from omicsagent import __version__
from omicsagent.bench.agents import AgentSpec
from omicsagent.bench.agents.run import RunOptions, run_agent
from omicsagent.bench.grading import Grade, grade_submission
from omicsagent.bench.task import BenchTask

RESULT_SCHEMA = 1
RESULTS_DIR, JOBS_DIR = "results", "jobs"


def safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def job_key(agent: str, task_id: str, seed: int) -> str:
    return f"{safe(agent)}__{safe(task_id)}__seed{seed}"


@dataclass(frozen=True)
class Job:
    agent: AgentSpec
    task: BenchTask
    seed: int
    time_limit_s: float
    results_root: str  # absolute
    options: RunOptions = field(default_factory=RunOptions)
    suite: str = ""
    cpus: float = 1.0

    @property
    def key(self) -> str:
        return job_key(self.agent.name, self.task.id, self.seed)

    @property
    def result_path(self) -> Path:
        return Path(self.results_root) / RESULTS_DIR / f"{self.key}.json"


def _rel(paths: list[str], root: Path) -> list[str]:
    return [str(Path(p).relative_to(root)) if Path(p).is_relative_to(root) else p for p in paths]


def run_job(job: Job) -> dict:
    """Run and grade one job; return its result record. Agent failures are results (success false);
    an exception here is a bug of ours and stops the sweep."""
    root = Path(job.results_root)
    job_dir = root / JOBS_DIR / job.key
    if job_dir.exists():  # a job cut off by a kill: start it again from nothing
        shutil.rmtree(job_dir)
    job_dir.mkdir(parents=True)
    started = time.time()
    run = run_agent(
        job.agent, job.task, job_dir, seed=job.seed, time_limit_s=job.time_limit_s, options=job.options
    )
    t = time.monotonic()
    if run.submission.is_file() or run.submission.is_symlink():
        grade = grade_submission(job.task, run.submission)
    else:
        grade = Grade(valid=False, reason=run.reason or f"the agent wrote no {run.submission.name}")
    if grade.valid:
        status = "succeeded"
    elif run.timed_out:
        status = "timeout"
    else:
        status = "invalid" if run.submission.exists() else "failed"
    reason = grade.reason if not grade.valid else None
    if not grade.valid and run.reason and run.reason not in (reason or ""):
        reason = f"{reason}; {run.reason}" if reason else run.reason
    task = job.task
    return {
        "schema": RESULT_SCHEMA, "key": job.key, "suite": job.suite, "agent": job.agent.name,
        "agent_kind": job.agent.kind, "task": task.id, "domain": task.domain, "modality": task.modality,
        "layout": task.layout, "seed": job.seed, "status": status, "success": grade.valid, "reason": reason,
        "metric": task.metric, "direction": task.direction, "normaliser": task.normaliser,
        "baseline_error": task.baseline_error, "raw_score": grade.raw, "score": grade.score,
        "time_limit_s": job.time_limit_s, "wall_s": run.wall_s, "cpu_s": run.cpu_s,
        "peak_memory_mb": run.peak_memory_mb, "grading_s": round(time.monotonic() - t, 3),
        "llm": run.usage, "cost_usd": (run.usage or {}).get("cost_usd"),
        "artifacts": {"submission": _rel([str(run.submission)], root)[0] if run.submission.exists() else None,
                      **{k: _rel(v, root) for k, v in run.artifacts.items()}},
        "started_at": started, "finished_at": time.time(), "host": platform.node(), "worker_pid": os.getpid(),
        "omicsagent_version": __version__,
    }


def write_result(record: dict, results_root: str | Path) -> Path:
    """Write one result atomically (a kill leaves the file complete or absent)."""
    folder = Path(results_root) / RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['key']}.json"
    tmp = folder / f".{path.name}.tmp"
    tmp.write_text(json.dumps(record, indent=1, default=str))
    tmp.replace(path)
    return path


def read_result(path: Path) -> dict | None:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == RESULT_SCHEMA and "key" in data else None


def load_results(results_root: str | Path) -> list[dict]:
    folder = Path(results_root) / RESULTS_DIR
    records = [read_result(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    return [r for r in records if r is not None]


def is_done(job: Job) -> bool:
    rec = read_result(job.result_path)
    return rec is not None and rec.get("key") == job.key
