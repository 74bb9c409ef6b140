"""``omicsagent bench``: prepare tasks, run agents x tasks x seeds, grade, leaderboards (docs/bench.md)."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from omicsagent.errors import ConfigError, InputError

bench_app = typer.Typer(
    name="bench", no_args_is_help=True, add_completion=False,
    help="Benchmark arena: tasks with hidden labels, graders, agents x tasks x seeds, leaderboards.",
)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    from omicsagent.cli import parse_duration

    value = parse_duration(text)
    if value <= 0:
        raise InputError(f"time limit {text!r} must be positive; write it like 15m or 900s.")
    return value


def parse_memory(text: str) -> int:
    """'8G', '512M', '4096' (MB) -> MB."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([gGmM]?)[bB]?\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise InputError(f"memory {text!r} is not a size; write it like 8G or 4096M.")
    value = float(m.group(1)) * (1024 if m.group(2).lower() == "g" else 1)
    return int(value)


def _handle(fn):
    from omicsagent.cli import handle_errors

    return handle_errors(fn)


@bench_app.command()
@_handle
def prepare(
    dataset: Annotated[
        Path,
        typer.Argument(
            help="An omicsagent dataset folder: train.csv (+ validation.csv) and test.csv with labels, or "
            "AnnData (.h5ad) files; without test rows, give --holdout."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Task folder to create (public/, private/, task.toml).")
    ],
    task_id: Annotated[
        str | None, typer.Option("--id", help="Task id (default: the dataset folder's name).")
    ] = None,
    domain: Annotated[
        str, typer.Option("--domain", help="Domain for per-domain leaderboards, e.g. sequences.")
    ] = "",
    metric: Annotated[
        str | None, typer.Option("--metric", help="Metric (default: the loop's default for the task type).")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Target column (overrides detection).")
    ] = None,
    time_limit: Annotated[str, typer.Option("--time-limit", help="Default time limit per job.")] = "15m",
    holdout: Annotated[
        float | None,
        typer.Option("--holdout", help="For a dataset without test rows: the fraction of the training rows "
                     "held out as the test set (stratified by the target for classification), e.g. 0.2."),
    ] = None,
    holdout_seed: Annotated[
        int, typer.Option("--holdout-seed", help="The seed of the --holdout split (the same task each time).")
    ] = 0,
) -> None:
    """Turn a dataset folder into a benchmark task: test labels move to private/.

    Example: omicsagent bench prepare ../shared/datasets/ml/gue_tf0 --out tasks/gue_tf0 --domain sequences
    """
    from omicsagent.bench.prepare import prepare_dataset

    if not dataset.is_dir():
        raise InputError(f"{dataset} is not a folder; give a dataset folder with train.csv and test.csv.")
    task = prepare_dataset(dataset, out, task_id=task_id, domain=domain, metric=metric, target=target,
                           time_limit_s=_duration(time_limit), holdout=holdout, holdout_seed=holdout_seed)
    _err().print(
        f"task {task.id}: {task.task_type}, metric {task.metric} ({task.direction} is better, normaliser "
        f"{task.normaliser}); public/ and private/ in {out}"
    )


@bench_app.command()
@_handle
def run(
    suite: Annotated[
        Path,
        typer.Argument(help="A suite TOML file (e.g. benchmarks/suites/omics-mini.toml) or one task folder."),
    ],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="The folder the suite's task paths are relative to (required with a suite file)."
        ),
    ] = None,
    agents: Annotated[
        str,
        typer.Option(
            "--agents",
            help=(
                "Comma-separated: expert, llm:PROVIDER:MODEL, baseline:floor, baseline:autogluon, "
                "or names defined with --agent."
            ),
        ),
    ] = "expert,baseline:floor",
    agent_defs: Annotated[
        list[str] | None,
        typer.Option(
            "--agent",
            help='An external agent: "NAME=COMMAND {public} {out} {time_limit} {seed}" (repeatable).',
        ),
    ] = None,
    seeds: Annotated[
        int, typer.Option("--seeds", min=1, max=1000, help="Seeds 0..N-1 per (agent, task).")
    ] = 1,
    time_limit: Annotated[
        str | None,
        typer.Option("--time-limit", help="Time limit per job, e.g. 15m (default: the suite's or task's)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Results folder (default: bench-results/<suite>); rerunning skips finished jobs.",
        ),
    ] = None,
    executor: Annotated[str, typer.Option("--executor", help="serial, process or ray.")] = "serial",
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Parallel jobs (process, local ray); default: CPU count."),
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="An existing Ray cluster (ray start --head ...).")
    ] = None,
    cpus_per_job: Annotated[
        float, typer.Option("--cpus-per-job", min=0.1, help="CPUs a job reserves (Ray).")
    ] = 1.0,
    memory_per_job: Annotated[
        str, typer.Option("--memory-per-job", help="Memory limit per job (and its Ray reservation).")
    ] = "8G",
    tasks: Annotated[
        str | None, typer.Option("--tasks", help="Comma-separated task ids: run only these.")
    ] = None,
    sandbox: Annotated[
        str, typer.Option("--sandbox", help="bwrap (default) or none (NO isolation).")
    ] = "bwrap",
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server for llm: agents.")
    ] = None,
    env_file: Annotated[
        Path | None, typer.Option("--env-file", help="A .env file with API keys for llm: agents.")
    ] = None,
    llm_config: Annotated[
        Path | None,
        typer.Option("--llm-config", help="The loop's TOML config for llm: agents (see docs/llm.md)."),
    ] = None,
    iterations: Annotated[
        int | None,
        typer.Option("--iterations", min=1, help="Iteration cap for omicsagent agents (expert, llm:); the "
                     "expert then runs --reproducible: the same models whatever the executor or load, while "
                     "the time limit is not reached."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Progress as JSON lines on stdout.")] = False,
) -> None:
    """Run agents x tasks x seeds; one JSON result per job; rerun to resume.

    Example: omicsagent bench run benchmarks/suites/omics-mini.toml --data ../shared/datasets
    --agents expert,baseline:floor --seeds 2
    """
    from omicsagent.bench.agents import autogluon_available, parse_agents, parse_external
    from omicsagent.bench.agents.run import RunOptions, resolve_external
    from omicsagent.bench.executors import EXECUTORS, ray_available
    from omicsagent.bench.suite import load_suite
    from omicsagent.sandbox import make_sandbox

    if executor not in EXECUTORS:
        raise ConfigError(f"--executor {executor!r} is not known; use {', '.join(EXECUTORS)}.")
    if executor == "ray" and not ray_available():
        raise ConfigError("--executor ray needs Ray; install it with `pip install 'omicsagent[ray]'` or use "
                          "--executor serial.")
    if ray_address and executor != "ray":
        raise ConfigError("--ray-address is for --executor ray; add --executor ray or drop --ray-address.")
    if data is not None and not data.is_dir():
        raise InputError(
            f"--data {data} is not a folder; give the folder the suite's task paths are relative to."
        )
    for flag, f in (("--env-file", env_file), ("--llm-config", llm_config)):
        if f is not None and not f.is_file():
            raise InputError(f"{flag} {f} does not exist; give an existing file.")
    memory_mb, limit = parse_memory(memory_per_job), _duration(time_limit)
    specs = parse_agents([a for a in agents.split(",")], parse_external(agent_defs or []))
    if any(s.kind == "autogluon" for s in specs) and not autogluon_available():
        _err().print(
            "[yellow]skipping baseline:autogluon: AutoGluon is not installed in this environment; "
            "install the optional extra with pip install -r requirements-autogluon.lock "
            "(or pip install 'omicsagent[autogluon]').[/]"
        )
        specs = [s for s in specs if s.kind != "autogluon"]
        if not specs:
            raise ConfigError(
                "no agent left to run (AutoGluon is not installed); add another agent to --agents."
            )
    the_suite = load_suite(suite)
    if the_suite.source is not None and data is None:
        raise InputError(f"pass --data ROOT, the folder the task paths in {suite} are relative to "
                         "(for omics-mini: --data ../shared/datasets).")
    data_root = (data or suite).resolve()  # a task folder given as the suite is its own data
    results = (out or Path("bench-results") / the_suite.name).resolve()
    forbidden = tuple(str(p) for p in {data_root, results})
    specs = [resolve_external(s, [Path(f) for f in forbidden]) for s in specs]
    make_sandbox(sandbox)  # fail now, with the fix, if the sandbox cannot work here
    ray_started = False
    if executor == "ray":  # refuse requirements no node meets before writing anything
        from omicsagent.bench.executors import connect_ray

        ray_started = connect_ray(address=ray_address, workers=workers, cpus=cpus_per_job,
                                  memory_mb=memory_mb)
    try:
        _run_sweep(the_suite, suite=suite, data_root=data_root, results=results, only=tasks, limit=limit,
                   specs=specs, seeds=seeds, executor=executor, workers=workers, ray_address=ray_address,
                   cpus_per_job=cpus_per_job, as_json=as_json, quiet=quiet,
                   options=RunOptions(sandbox=sandbox, memory_mb=memory_mb, base_url=base_url,
                                      env_file=str(env_file.resolve()) if env_file else None,
                                      llm_config=str(llm_config.resolve()) if llm_config else None,
                                      forbidden=forbidden, iterations=iterations))
    finally:
        if ray_started:
            import ray

            ray.shutdown()


def _run_sweep(the_suite, *, suite: Path, data_root: Path, results: Path, only: str | None, limit, specs,
               seeds: int, executor: str, workers, ray_address, cpus_per_job: float, as_json: bool,
               quiet: bool, options) -> None:
    from omicsagent.bench.suite import resolve_suite
    from omicsagent.bench.sweep import Sweep, SweepProgress, run_sweep

    only = [t.strip() for t in only.split(",") if t.strip()] if only else None
    bench_tasks = resolve_suite(the_suite, data_root=data_root, work=results / "tasks", only=only,
                                time_limit_s=limit)
    sweep = Sweep(suite=the_suite.name, tasks=bench_tasks, agents=specs, seeds=list(range(seeds)),
                  results_root=results, options=options, cpus=cpus_per_job)
    counts = run_sweep(sweep, executor=executor, workers=workers, ray_address=ray_address,
                       progress=SweepProgress(as_json=as_json, quiet=quiet), command=sys.argv)
    if not quiet and not as_json:
        _err().print(
            f"{counts['succeeded']} succeeded, {counts['failed']} failed, {counts['skipped']} skipped; "
            f"results in {results}\nleaderboard: omicsagent bench leaderboard {results}"
        )


@bench_app.command()
@_handle
def grade(
    task_dir: Annotated[Path, typer.Argument(help="A task folder (task.toml, public/, private/).")],
    submission: Annotated[Path, typer.Argument(help="The submission CSV to grade.")],
) -> None:
    """Grade one submission file against a task's hidden answers (validation first; invalid scores 0).

    Example: omicsagent bench grade tasks/gue_tf0 submission.csv
    """
    import json

    from omicsagent.bench.grading import grade_submission
    from omicsagent.bench.task import load_task_dir

    if not submission.is_file():
        raise InputError(f"{submission} does not exist; give the submission CSV to grade.")
    result = grade_submission(load_task_dir(task_dir), submission)
    typer.echo(json.dumps(result.to_dict()))


@bench_app.command()
@_handle
def leaderboard(
    results: Annotated[Path, typer.Argument(help="The --out folder of `omicsagent bench run`.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md (default), csv or html.")] = "md",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="File to write (html default: RESULTS/leaderboard.html; md and csv print to stdout).",
        ),
    ] = None,
) -> None:
    """Per task, per domain and overall: mean and standard error of the normalised score, success, time, cost.

    Example: omicsagent bench leaderboard bench-results/omics-mini --format html
    """
    from omicsagent.bench.leaderboard import write_leaderboard

    text, written = write_leaderboard(results, fmt, out)
    if written is None:
        typer.echo(text, nl=False)
    else:
        _err().print(f"wrote {written}")
