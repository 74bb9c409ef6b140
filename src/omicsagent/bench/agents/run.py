"""Running one agent on one task: public/ in, submission.csv out, with wall time, CPU time and peak memory.

* ``baseline:floor``, ``baseline:autogluon`` and external agents run as one command in the sandbox
  (``omicsagent.sandbox``): the task's ``public/`` is mounted read-only at its real path, ``{out}`` (the
  workspace's ``artifacts/``) is writable, the working directory is a writable scratch folder; nothing else
  of the host is visible (no ``private/``, no other task, no network, no secrets in the environment).
* ``expert`` and ``llm:...`` run the real loop as a user would: ``omicsagent run`` on a copy of the public
  training files (never the test inputs; AnnData ``.h5ad`` files stay AnnData) with the public target, then
  ``omicsagent predict`` on the test inputs (the public ``test.h5ad`` itself for a single-cell task). The
  loop runs the brain's code in its own sandbox; the wrapper itself reads only ``public/``.
"""
from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from omicsagent.bench.agents import AgentSpec
from omicsagent.bench.agents.public import SUBMISSION, read_public, test_inputs, write_submission
from omicsagent.bench.task import BenchTask
from omicsagent.errors import ConfigError, InputError
from omicsagent.ml.io import is_anndata

PREDICT_RESERVE = 0.15  # share of the time limit kept for prediction by the expert wrapper
MIN_PREDICT_S = 20.0  # ... and at least this many seconds


@dataclass(frozen=True)
class RunOptions:
    sandbox: str = "bwrap"
    memory_mb: int = 8192
    base_url: str | None = None
    env_file: str | None = None
    llm_config: str | None = None  # the loop's --config TOML for llm: agents
    forbidden: tuple[str, ...] = ()  # host folders an external command may not name (data, results)
    iterations: int | None = None  # iteration cap for omicsagent agents (reproducible sweeps)


@dataclass
class AgentRun:
    out_dir: Path
    ok: bool = False
    reason: str | None = None
    timed_out: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_mb: float = 0.0
    usage: dict | None = None  # LLM requests, tokens and cost
    artifacts: dict[str, list[str]] = field(default_factory=dict)

    @property
    def submission(self) -> Path:
        return self.out_dir / SUBMISSION


def grace_s(time_limit_s: float) -> float:
    """How long past its time limit an agent may run before it is killed (start-up, writing files)."""
    return min(300.0, max(30.0, 0.1 * time_limit_s))


def _tail(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def run_agent(agent: AgentSpec, task: BenchTask, job_dir: Path, *, seed: int, time_limit_s: float,
              options: RunOptions) -> AgentRun:
    from omicsagent.bench.measure import CpuSampler

    t0 = time.monotonic()
    with CpuSampler() as cpu:
        if agent.kind in ("expert", "llm"):
            run = _run_loop(agent, task, job_dir, seed=seed, time_limit_s=time_limit_s, options=options)
        else:
            run = _run_sandboxed(agent, task, job_dir, seed=seed, time_limit_s=time_limit_s, options=options)
    run.wall_s = round(time.monotonic() - t0, 3)
    run.cpu_s = cpu.seconds
    return run


# ----------------------------------------------------------------------------------------------------
# sandboxed commands: floor, autogluon, external
# ----------------------------------------------------------------------------------------------------

def _host_paths(tokens: list[str], forbidden: list[Path]) -> tuple[list[str], list[Path]]:
    """Tokens naming existing host files become absolute and are mounted read-only; a path that contains
    or lies inside a forbidden folder (the data, the results, the answers) is refused."""
    out, mounts = [], []
    for tok in tokens:
        p = Path(tok).expanduser()
        if not tok or tok.startswith("-") or not p.exists():
            out.append(tok)
            continue
        p = p.resolve()
        for f in forbidden:
            if p == Path("/") or f.is_relative_to(p) or p.is_relative_to(f):
                raise ConfigError(
                    f"the agent command names {p}, which holds or lies inside {f} (benchmark data or "
                    "answers); keep the agent's own files elsewhere."
                )
        mounts.append(p)
        out.append(str(p))
    return out, mounts


def resolve_external(agent: AgentSpec, forbidden: list[Path]) -> AgentSpec:
    """The agent with the host files its command names made absolute (jobs may run in another working
    directory, e.g. a Ray worker), after checking they do not expose benchmark data; ``ConfigError`` if so."""
    if agent.kind != "external":
        return agent
    tokens = shlex.split(agent.command or "")
    marked = [t for t in tokens if "{" not in t]
    mapped, _ = _host_paths(marked, [Path(f).resolve() for f in forbidden])
    it = iter(mapped)
    resolved = [t if "{" in t else next(it) for t in tokens]
    return AgentSpec(agent.name, agent.kind, model=agent.model, command=shlex.join(resolved))


def _command(agent: AgentSpec, task: BenchTask, out: Path, *, seed: int, time_limit_s: float,
             forbidden: list[Path]) -> tuple[list[str], list[Path]]:
    if agent.kind == "floor":
        return [
            "python",
            "-m",
            "omicsagent.bench.agents.floor",
            str(task.public),
            str(out),
            "--seed",
            str(seed),
        ], []
    if agent.kind == "autogluon":
        return [
            "python",
            "-m",
            "omicsagent.bench.agents.autogluon",
            str(task.public),
            str(out),
            "--seed",
            str(seed),
            "--time-limit",
            str(int(time_limit_s)),
        ], []
    values = {
        "public": str(task.public),
        "out": str(out),
        "time_limit": str(int(time_limit_s)),
        "seed": str(seed),
    }
    tokens = []
    for tok in shlex.split(agent.command or ""):
        for name, value in values.items():
            tok = tok.replace("{" + name + "}", value)
        tokens.append(tok)

    def ours(t: str) -> bool:
        return t.startswith((values["public"], values["out"]))

    mapped, mounts = _host_paths([t for t in tokens if not ours(t)], forbidden)
    it = iter(mapped)
    return [t if ours(t) else next(it) for t in tokens], mounts


def _run_sandboxed(agent: AgentSpec, task: BenchTask, job_dir: Path, *, seed: int, time_limit_s: float,
                   options: RunOptions) -> AgentRun:
    from omicsagent.sandbox import Limits, Workspace, make_sandbox

    ws = Workspace.create(job_dir / "sandbox")
    run = AgentRun(out_dir=ws.artifacts)
    forbidden = [Path(f).resolve() for f in options.forbidden] + [Path(task.root).resolve()] + \
        [p.resolve() for p in task.private_paths]
    argv, mounts = _command(
        agent, task, ws.artifacts, seed=seed, time_limit_s=time_limit_s, forbidden=forbidden
    )
    sandbox = make_sandbox(options.sandbox)
    res = sandbox.run(
        argv,
        workspace=ws,
        cwd="scratch",
        limits=Limits(
            wall_seconds=time_limit_s + grace_s(time_limit_s),
            memory_mb=options.memory_mb,
            output_bytes=50_000,
        ),
        extra_ro_mounts=[task.public, *mounts],
        env={"OMICSAGENT_BENCH_SEED": str(seed)},
        log_path=job_dir / "agent.log",
    )
    run.peak_memory_mb = res.peak_memory_mb
    run.timed_out = res.timed_out
    run.ok = res.ok
    if not res.ok:
        run.reason = f"the agent stopped ({res.status})" + (
            f": {_tail(res.output)}" if _tail(res.output) else ""
        )
    run.artifacts = {
        "log": [str(job_dir / "agent.log")],
        "solution": sorted(str(p) for p in ws.artifacts.rglob("*") if p.is_file() and p.name != SUBMISSION),
    }
    metrics = ws.artifacts / "metrics.json"  # BioXArena-style self-report: token usage if the agent gives it
    if metrics.is_file():
        run.usage = _self_reported_usage(metrics)
    return run


def _self_reported_usage(path: Path) -> dict | None:
    import json

    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    keys = ("input_tokens", "output_tokens", "cost_usd")
    got = {k: data[k] for k in keys if isinstance(data.get(k), (int, float))}
    return {**got, "self_reported": True} if got else None


# ----------------------------------------------------------------------------------------------------
# the omicsagent loop: expert and llm
# ----------------------------------------------------------------------------------------------------

def _host_run(argv: list[str], *, cwd: Path, wall_s: float, memory_mb: int, log: Path):
    from omicsagent.sandbox import Limits
    from omicsagent.sandbox.process import run_process

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return run_process(
        argv,
        cwd=cwd,
        env=env,
        limits=Limits(wall_seconds=max(1.0, wall_s), memory_mb=memory_mb, output_bytes=50_000),
        log_path=log,
    )


def _loop_input(pub, dest: Path) -> Path:
    """A dataset folder for ``omicsagent run``: the public training files only (never the test inputs)."""
    dest.mkdir(parents=True)
    shutil.copyfile(pub.train, dest / f"train{''.join(pub.train.suffixes)}")
    if pub.validation:
        shutil.copyfile(pub.validation, dest / f"validation{''.join(pub.validation.suffixes)}")
    for name in ("description.md", "task.toml"):
        if (pub.root / name).is_file():
            shutil.copyfile(pub.root / name, dest / name)
    return dest


def _run_loop(agent: AgentSpec, task: BenchTask, job_dir: Path, *, seed: int, time_limit_s: float,
              options: RunOptions) -> AgentRun:
    out = job_dir / "out"
    out.mkdir(parents=True)
    run = AgentRun(out_dir=out)
    try:
        pub = read_public(task.public)
    except InputError as err:
        run.reason = f"the {agent.name} agent cannot read this task's public files: {err}"
        return run
    deadline = time.monotonic() + time_limit_s + grace_s(time_limit_s)
    data = _loop_input(pub, job_dir / "input")
    run_dir = job_dir / "run"
    budget = max(30.0, time_limit_s * (1 - PREDICT_RESERVE) - 10.0)
    argv = [
        sys.executable,
        "-m",
        "omicsagent",
        "run",
        str(data),
        "--out",
        str(run_dir),
        "--time-budget",
        f"{budget:.0f}s",
        "--seed",
        str(seed),
        *[a for t in pub.targets for a in ("--target", t)],
        "--sandbox",
        options.sandbox,
        "--json",
    ]
    if options.iterations:
        argv += ["--iterations", str(options.iterations)]
        # the expert's decisions and fits then never read the clock: serial and Ray give the same models
        argv += ["--reproducible"] if agent.kind == "expert" else []
    if agent.kind == "llm":
        argv += ["--brain", "llm", "--model", agent.model or ""]
        argv += ["--base-url", options.base_url] if options.base_url else []
        argv += ["--env-file", options.env_file] if options.env_file else []
        argv += ["--config", options.llm_config] if options.llm_config else []
    # The loop may run past its budget (a started cross-validation finishes its folds, the refit, the report):
    # it is stopped in time for the prediction, which always keeps its reserve. best/ is promoted atomically,
    # so a run stopped there still has its best model.
    reserve = max(MIN_PREDICT_S, PREDICT_RESERVE * time_limit_s)
    res = _host_run(argv, cwd=job_dir, wall_s=deadline - time.monotonic() - reserve,
                    memory_mb=options.memory_mb, log=job_dir / "agent.log")
    run.peak_memory_mb, run.timed_out = res.peak_memory_mb, res.timed_out
    run.usage = _journal_usage(run_dir)
    run.artifacts = {
        "log": [str(job_dir / "agent.log")],
        "journal": [str(p) for p in [run_dir / "journal.json"] if p.exists()],
        "solution": [
            str(p) for p in (run_dir / "best" / "train.py", run_dir / "best" / "inference.py") if p.exists()
        ],
        "report": [str(p) for p in [run_dir / "report.html"] if p.exists()],
    }
    if not (run_dir / "best" / "inference.py").exists():
        run.reason = f"the run produced no model ({res.status})" + (
            f": {_tail(res.output)}" if _tail(res.output) else ""
        )
        return run
    if is_anndata(pub.test):  # the cells as published: `predict` reads AnnData with the run's layer
        inputs = pub.test
    else:
        inputs = job_dir / "test_inputs.csv"
        test_inputs(pub).to_csv(inputs, index=False)
    preds = job_dir / "predictions.csv"
    res2 = _host_run([sys.executable, "-m", "omicsagent", "predict", str(run_dir), "--input", str(inputs),
                      "--output", str(preds), "--sandbox", options.sandbox],
                     cwd=job_dir, wall_s=deadline - time.monotonic(), memory_mb=options.memory_mb,
                     log=job_dir / "predict.log")
    run.peak_memory_mb = max(run.peak_memory_mb, res2.peak_memory_mb)
    run.timed_out = run.timed_out or res2.timed_out
    if not res2.ok or not preds.exists():
        run.reason = f"prediction on the test inputs failed ({res2.status}): {_tail(res2.output)}"
        return run
    import pandas as pd

    try:
        write_submission(pub, pd.read_csv(preds), out)
    except (ValueError, KeyError) as err:
        run.reason = f"could not turn the predictions into a submission: {err}"
        return run
    run.ok = True
    return run


def _journal_usage(run_dir: Path) -> dict | None:
    if not (run_dir / "journal.json").exists():
        return None
    from omicsagent.agent.journal import RunJournal
    from omicsagent.errors import OmicsAgentError

    try:
        usage = RunJournal.load(run_dir).total_usage()
    except OmicsAgentError:
        return None
    return usage.model_dump()
