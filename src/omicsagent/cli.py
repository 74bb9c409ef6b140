"""The command line: thin. Parse options, call the library, turn errors into one sentence and an exit code."""
from __future__ import annotations

import functools
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from omicsagent import __version__
from omicsagent.errors import InputError, OmicsAgentError, command
from omicsagent.ml.metrics import metric_names

app = typer.Typer(
    name="omicsagent",
    help="An autonomous, sandboxed data-science agent for molecular biology.\n\n"
         "Example: omicsagent run ../shared/datasets/ml/gue_tf0 --time-budget 10m",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def handle_errors(fn: Callable) -> Callable:
    """User-facing errors become one red sentence and the error's exit code; Ctrl-C exits 130."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OmicsAgentError as err:
            _stderr().print(
                f"[bold red]error:[/] {escape(str(err))}"
            )  # "[fm]" in a message is text, not markup
            raise typer.Exit(err.exit_code) from None
        except KeyboardInterrupt:
            _stderr().print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
    return wrapper


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"omicsagent {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logs."),
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


TargetOpt = typer.Option(
    None,
    "--target",
    help="The column to predict (overrides detection); repeat it to name "
    "several 0/1 label columns of a multi-label task.",
)
MetricOpt = typer.Option(None, "--metric", help=f"Primary metric: {', '.join(metric_names())}.")
TaskTypeOpt = typer.Option(
    None, "--task-type", help="binary, multiclass, regression or multilabel (overrides detection)."
)
TrainOpt = typer.Option(
    None, "--train", help="Training table (instead of, or overriding, DATASET/train.csv)."
)
ValidOpt = typer.Option(None, "--validation", help="Validation table.")
TestOpt = typer.Option(None, "--test", help="Hidden test table, read only by the harness.")
IgnoreOpt = typer.Option(None, "--ignore", help="A column to exclude from features (repeatable).")
GroupOpt = typer.Option(None, "--group", help="Column of groups to keep apart when splitting.")
DropOpt = typer.Option(False, "--drop-missing-target", help="Drop training rows whose target is missing.")
LayerOpt = typer.Option(None, "--layer", help="AnnData (.h5ad) input: the layer the gene features come from "
                        "(default X; 'raw' for adata.raw).")
SplitColumnOpt = typer.Option(None, "--split-column", help="A column naming each row's split (train, "
                              "validation, test) when one file holds them all.")


def build_task(dataset, train, validation, test, target, task_type, metric, ignore, group, drop_missing,
               layer=None, split_column=None):
    from omicsagent.tasks import load_task, make_overrides

    targets = list(dict.fromkeys(target or []))  # several: a multi-label task (load_task checks they are 0/1)
    values = {
        "target": (targets if len(targets) > 1 else targets[0]) if targets else None,
        "task_type": task_type,
        "metric": metric,
        "ignore_columns": list(ignore or []),
        "group_column": group,
        "drop_missing_target": drop_missing,
        "layer": layer,
        "split_column": split_column,
    }
    ov = make_overrides({k: v for k, v in values.items() if v is not None})
    return load_task(dataset, train=train, validation=validation, test=test, overrides=ov)


@app.command()
@handle_errors
def inspect(
    dataset: Optional[Path] = typer.Argument(
        None,
        help="Dataset folder with train.csv (and optional validation.csv, test.csv, "
        "description.md, task.toml).",
    ),
    train: Optional[Path] = TrainOpt,
    validation: Optional[Path] = ValidOpt,
    test: Optional[Path] = TestOpt,
    target: Optional[list[str]] = TargetOpt,
    task_type: Optional[str] = TaskTypeOpt,
    metric: Optional[str] = MetricOpt,
    ignore: Optional[list[str]] = IgnoreOpt,
    group: Optional[str] = GroupOpt,
    drop_missing_target: bool = DropOpt,
    layer: Optional[str] = LayerOpt,
    split_column: Optional[str] = SplitColumnOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the task as JSON."),
) -> None:
    """Show what omicsagent detects in a dataset: target, task type, metric, column roles, leakage suspects.

    Example: omicsagent inspect ../shared/datasets/ml/ago2_clash_hejret
    """
    task = build_task(
        dataset, train, validation, test, target, task_type, metric, ignore, group, drop_missing_target,
        layer, split_column,
    )
    if as_json:
        typer.echo(json.dumps(task.model_dump(), indent=2, default=str))
        return
    from omicsagent.tasks.card import task_card

    Console().print(task_card(task))


# ----------------------------------------------------------------------------------------------------
# The experimentation loop
# ----------------------------------------------------------------------------------------------------

def parse_duration(text: str) -> float:
    """'15m', '900s', '1h30m', '90' (seconds) -> seconds."""
    import re

    from omicsagent.errors import InputError

    t = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return float(t)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(h|m|min|s|sec)", t)
    if not parts or "".join(f"{a}{b}" for a, b in parts) != t.replace(" ", ""):
        raise InputError(f"time budget {text!r} is not a duration; write it like 15m, 900s or 1h30m.")
    scale = {"h": 3600, "m": 60, "min": 60, "s": 1, "sec": 1}
    return sum(float(a) * scale[b] for a, b in parts)


def parse_budget(text: str) -> float:
    """A --time-budget in seconds, refused when it is too short for a single iteration."""
    from omicsagent.agent.runner import MIN_ITERATION_S

    seconds = parse_duration(text)
    if seconds < MIN_ITERATION_S:
        raise InputError(f"--time-budget {text} is shorter than the {MIN_ITERATION_S:g} s one iteration "
                         f"needs; give at least {MIN_ITERATION_S:g}s, for example --time-budget 5m.")
    return seconds


def check_seed(seed: int) -> int:
    if not 0 <= seed < 2**32:
        raise InputError(f"--seed {seed} is out of range; give a whole number from 0 to {2**32 - 1}.")
    return seed


def check_out_dir(out: Path) -> None:
    """Refuse an --out that is a file or cannot be created, before anything is read or written."""
    path = Path(os.path.expanduser(str(out))).absolute()
    if path.exists() and not path.is_dir():
        raise InputError(f"--out {out} is an existing file; give a folder that does not exist yet.")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"--out {out} cannot be created because {parent} is a file; choose another folder.")
    try:  # the one test that holds for root, read-only and virtual file systems: create a folder, remove it
        os.rmdir(tempfile.mkdtemp(prefix=".omicsagent-check-", dir=parent))
    except OSError as err:
        raise InputError(f"--out {out} cannot be created in {parent} ({err.strerror or err}); "
                         f"choose a folder you can write to.") from None


def _progress(quiet: bool, as_json: bool):
    from omicsagent.agent.progress import ConsoleProgress, JsonProgress, NullProgress

    if as_json:
        return JsonProgress()
    return NullProgress() if quiet else ConsoleProgress()


def _make_brain(brain: str, *, model: str | None, base_url: str | None, env_file: Path | None,
                config: Path | None, max_cost: float | None):
    from omicsagent.errors import ConfigError

    if brain == "expert":
        if model:
            raise ConfigError("--model is for the LLM brain; add --brain llm or drop --model.")
        from omicsagent.brains.expert import ExpertBrain

        return ExpertBrain()
    if brain == "llm":
        try:
            from omicsagent.brains.llm import LLMBrain, load_llm_config
        except ImportError as err:
            raise ConfigError(
                f"the LLM brain is not available in this installation ({err}); use --brain expert."
            ) from None
        cfg = load_llm_config(model=model, base_url=base_url, env_file=env_file, config_file=config)
        if max_cost is not None:
            cfg = cfg.model_copy(update={"max_cost_usd": max_cost})
        return LLMBrain(cfg)
    raise ConfigError(f"unknown brain {brain!r}; use --brain expert (offline) or --brain llm.")


def _search(search: str | None, brain: str) -> dict:
    """The expert brain's search policy for settings.extra (``--search``), checked."""
    from omicsagent.brains.expert.policy import DEFAULT_SEARCH, SEARCHES
    from omicsagent.errors import ConfigError

    if search is not None and search not in SEARCHES:
        raise InputError(f"--search {search} is not a search policy; use --search tree or --search linear.")
    if brain != "expert":
        if search is not None:
            raise ConfigError("--search is the expert brain's policy; drop it or use --brain expert.")
        return {}
    return {"search": search or DEFAULT_SEARCH}


def _preflight(brain) -> None:
    """Let a brain check what it needs (a reachable server, an accepted key) before a run folder exists."""
    check = getattr(brain, "preflight", None)
    if callable(check):
        check()


def _summary(journal, layout, as_json: bool) -> None:
    best = journal.best_iteration
    run_dir = Path(layout.display())
    metric, ci = journal.task.metric, journal.intervals
    ci = ci if ci is not None and best is not None and ci.iteration == best.index else None
    refit = journal.refit if journal.refit and best and journal.refit.iteration == best.index else None
    info = {"run_dir": str(layout.root), "status": journal.status, "reason": journal.status_reason,
            "best_iteration": best.index if best else None, "metric": metric,
            "selection": ("cross-validation" if best and best.cv_metrics else "validation"),
            "validation": journal.primary(best) if best else None,
            "validation_sd": journal.spread(best) if best else None,
            "cross_validation": best.cv_metrics.get(metric) if best and best.cv_metrics else None,
            "validation_split": best.validation_metrics.get(metric) if best else None,
            "validation_ci": ci.validation.get(metric) if ci else None,
            "test": journal.test_metrics, "test_ci": ci.test.get(metric) if ci else None,
            "refit": refit.model_dump() if refit else None,
            "elapsed_s": round(journal.elapsed_s, 1)}
    if as_json:
        typer.echo(json.dumps({"event": "summary", **info}, default=str))
        return
    out = Console(stderr=True, highlight=False, soft_wrap=True)  # paths and commands stay whole
    if journal.status == "interrupted":
        out.print(f"[yellow]interrupted[/]: {escape(str(journal.status_reason))}")
    if best is None:
        out.print(f"[bold red]No iteration succeeded[/] ({escape(str(journal.status_reason))}); "
                  f"see {escape(str(run_dir / 'journal.json'))}.")
        return
    if journal.status == "finished":
        out.print(f"stopped: {journal.status_reason}", markup=False)
    split = best.validation_metrics.get(metric)
    split_text = "" if split is None else f"{split:.4f}" + (
        f" (95% CI {ci.validation[metric][0]:.4f}-{ci.validation[metric][1]:.4f})"
        if ci and metric in ci.validation else "")
    if best.cv_metrics:
        out.print(f"best: iteration {best.index} ({best.summary}), {len(best.cv_metrics[metric])}-fold "
                  f"cross-validation {metric} {journal.primary(best):.4f} ± {journal.spread(best) or 0:.4f}"
                  + (f", validation split {split_text}" if split_text else ""), markup=False)
    else:
        out.print(f"best: iteration {best.index} ({best.summary}), validation {metric} {split_text}",
                  markup=False)
    if refit is not None:
        out.print(f"refit on all {refit.n_rows} labelled rows before the test: " + (
            "done" if refit.status == "done" else f"failed ({refit.reason}), the split's model kept"),
            markup=False)
    if journal.test_metrics:
        test_ci = (f", 95% CI {ci.test[metric][0]:.4f}-{ci.test[metric][1]:.4f}"
                   if ci and metric in ci.test else "")
        out.print(
            f"hidden test {metric} {journal.test_metrics.get(metric, float('nan')):.4f}{test_ci} "
            f"(scored once, with the best model)",
            markup=False,
        )
    out.print(f"model and scripts: {run_dir / 'best'}/   report: {run_dir / 'report.html'}   "
              f"log: {run_dir / 'omicsagent.log'}", markup=False)
    predict = command("omicsagent", "predict", run_dir, "--input", "new.csv", "--output", "predictions.csv")
    out.print(f"predict: {predict}", markup=False)


BrainOpt = typer.Option("expert", "--brain", help="expert (offline, default) or llm.")
ModelOpt = typer.Option(
    None,
    "--model",
    help="LLM as PROVIDER:MODEL, e.g. openai:gpt-4.1, anthropic:claude-sonnet-4-5, ollama:llama3.1.",
)
BaseUrlOpt = typer.Option(None, "--base-url", help="OpenAI-compatible server URL (Ollama, vLLM, llama.cpp).")
EnvFileOpt = typer.Option(None, "--env-file", help="A .env file with API keys (never copied into the run).")
ConfigOpt = typer.Option(None, "--config", help="TOML config file (models per role, limits).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress output.")
JsonOpt = typer.Option(False, "--json", help="Progress and summary as JSON lines on stdout.")
SandboxOpt = typer.Option(
    "bwrap", "--sandbox", help="bwrap (default) or none (NO isolation: prints a warning)."
)

SearchOpt = typer.Option(
    None, "--search", help="The expert brain's search: tree (default: drafts, improves the best, branches "
    "from a runner-up on a plateau) or linear (the recipe plan in order, then improvements).",
)


def _exit_for(journal) -> None:
    """Exit code of a run that ended: 130 after Ctrl-C, 1 when no iteration succeeded, else 0."""
    if journal.status == "interrupted":
        raise typer.Exit(130)
    if journal.best_iteration is None:
        raise typer.Exit(1)


@app.command()
@handle_errors
def run(
    dataset: Optional[Path] = typer.Argument(
        None, help="Dataset folder (train.csv, optional validation.csv, test.csv, description.md, task.toml)."
    ),
    train: Optional[Path] = TrainOpt,
    validation: Optional[Path] = ValidOpt,
    test: Optional[Path] = TestOpt,
    target: Optional[list[str]] = TargetOpt,
    task_type: Optional[str] = TaskTypeOpt,
    metric: Optional[str] = MetricOpt,
    ignore: Optional[list[str]] = IgnoreOpt,
    group: Optional[str] = GroupOpt,
    drop_missing_target: bool = DropOpt,
    layer: Optional[str] = LayerOpt,
    split_column: Optional[str] = SplitColumnOpt,
    brain: str = BrainOpt,
    model: Optional[str] = ModelOpt,
    base_url: Optional[str] = BaseUrlOpt,
    env_file: Optional[Path] = EnvFileOpt,
    config: Optional[Path] = ConfigOpt,
    iterations: int = typer.Option(
        30,
        "--iterations",
        "-n",
        min=1,
        max=100,
        help="Maximum number of iterations (the time budget or the plateau rule usually ends the run first).",
    ),
    time_budget: str = typer.Option("15m", "--time-budget", help="Wall-time budget, e.g. 15m, 1h, 900s."),
    seed: int = typer.Option(0, "--seed", help="Random seed (splits, models)."),
    out: Optional[Path] = typer.Option(
        None, "--out", help="Run folder to create (default: runs/<dataset>-<time>)."
    ),
    sandbox: str = SandboxOpt,
    max_cost: Optional[float] = typer.Option(
        None, "--max-cost", help="Stop an LLM run once it has cost this many USD."
    ),
    cv_below: int = typer.Option(
        3000, "--cv-below", min=0,
        help="Below this many labelled rows, select by 5-fold cross-validation and refit the best model on "
        "every labelled row (0: always a single validation split).",
    ),
    embeddings: Optional[list[str]] = typer.Option(
        None,
        "--embeddings",
        help="A pretrained model on disk for a modality, as MODALITY=FOLDER (protein, dna, rna, "
        "smiles; Hugging Face format; repeatable), e.g. protein=/models/esm2_t12_35M_UR50D. "
        "Needs omicsagent[fm].",
    ),
    search: Optional[str] = SearchOpt,
    reproducible: bool = typer.Option(
        False, "--reproducible",
        help="The expert brain's decisions and model fits never depend on the clock: the same data, seed and "
        "--iterations give the same models whatever the machine's load (the time budget is only a safety "
        "stop; fits end by early stopping and round caps, so a run may take longer).",
    ),
    quiet: bool = QuietOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Run the experimentation loop and keep the best model, its scripts and a report.

    Example: omicsagent run ../shared/datasets/ml/gue_tf0 --time-budget 10m --out runs/tf0
    """
    import time as _time

    from omicsagent.agent.journal import RunSettings
    from omicsagent.agent.layout import RunLayout
    from omicsagent.agent.runner import start_run
    from omicsagent.ml.embeddings import configure as configure_embeddings

    budget = parse_budget(time_budget)
    check_seed(seed)
    policy = _search(search, brain)
    if reproducible and brain != "expert":
        raise InputError("--reproducible applies to the expert brain (an LLM's answers vary from call to "
                         "call); drop --reproducible or use --brain expert.")
    check_out_dir(out or Path("runs"))
    task = build_task(
        dataset, train, validation, test, target, task_type, metric, ignore, group, drop_missing_target,
        layer, split_column,
    )
    the_brain = _make_brain(
        brain, model=model, base_url=base_url, env_file=env_file, config=config, max_cost=max_cost
    )
    pretrained = configure_embeddings(embeddings, config)
    _preflight(the_brain)
    layout = RunLayout.at(out or Path("runs") / f"{task.name}-{_time.strftime('%Y%m%d-%H%M%S')}")
    settings = RunSettings(brain=brain, model=model, iterations=iterations, time_budget_s=budget, seed=seed,
                           sandbox=sandbox, max_cost_usd=max_cost, cv_below_rows=cv_below,
                           reproducible=reproducible,
                           extra={**policy, **({"embeddings": pretrained} if pretrained else {})})
    journal = start_run(
        task, out_dir=layout, settings=settings, brain=the_brain, progress=_progress(quiet, as_json)
    )
    _summary(journal, layout, as_json)
    _exit_for(journal)


@app.command()
@handle_errors
def resume(
    run_dir: Path = typer.Argument(..., help="The --out folder of a run that was killed or interrupted."),
    iterations: int = typer.Option(
        0, "--iterations", "-n", min=0, help="Add this many iterations (also to a finished run)."
    ),
    time_budget: Optional[str] = typer.Option(
        None,
        "--time-budget",
        help="Time for this session, e.g. 10m (default: what is left of the run's budget).",
    ),
    brain: Optional[str] = typer.Option(
        None, "--brain", help="Continue with another brain: expert or llm (default: the run's)."
    ),
    model: Optional[str] = ModelOpt,
    base_url: Optional[str] = BaseUrlOpt,
    env_file: Optional[Path] = EnvFileOpt,
    config: Optional[Path] = ConfigOpt,
    quiet: bool = QuietOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Continue a run without redoing its finished iterations.

    Example: omicsagent resume runs/tf0 --iterations 2 --time-budget 10m
    """
    from omicsagent.agent.journal import RunJournal
    from omicsagent.agent.layout import RunLayout

    layout = RunLayout.at(run_dir)
    budget = parse_budget(time_budget) if time_budget is not None else None
    journal = RunJournal.load(layout)
    s = journal.settings
    brain_name = brain or s.brain
    model = model or (s.model if brain_name == s.brain else None)
    _continue_run(layout, brain_name=brain_name, model=model, max_cost=s.max_cost_usd, base_url=base_url,
                  env_file=env_file, config=config, quiet=quiet, as_json=as_json, iterations=iterations,
                  budget=budget, record_brain=True)


def _continue_run(layout, *, brain_name: str, model: str | None, max_cost: float | None, base_url, env_file,
                  config, quiet: bool, as_json: bool, iterations: int, budget: float | None,
                  record_brain: bool, before=None) -> None:
    """Build and check the brain, then continue the run at ``layout`` (resume and fork); ``before`` runs
    once the brain is known to work, before the loop."""
    from omicsagent.agent.runner import resume_run

    the_brain = _make_brain(brain_name, model=model, base_url=base_url, env_file=env_file, config=config,
                            max_cost=max_cost)
    _preflight(the_brain)
    if before is not None:
        before()
    named = {"brain_name": brain_name, "model": model} if record_brain else {}
    journal = resume_run(layout, brain=the_brain, progress=_progress(quiet, as_json),
                         extra_iterations=iterations, time_budget_s=budget, **named)
    _summary(journal, layout, as_json)
    _exit_for(journal)


@app.command()
@handle_errors
def fork(
    run_dir: Path = typer.Argument(..., help="The --out folder of the run to fork (it is only read)."),
    from_iteration: str = typer.Option(
        ..., "--from-iteration", help="The iteration to start from (one that succeeded), e.g. 3."
    ),
    out: Path = typer.Option(..., "--out", help="The new run folder to create (absent or empty)."),
    time_budget: str = typer.Option(
        "15m", "--time-budget", help="Time for the new run's own iterations, e.g. 10m, 1h, 900s."
    ),
    iterations: int = typer.Option(
        30, "--iterations", "-n", min=1, max=100, help="Maximum number of new iterations."
    ),
    base_url: Optional[str] = BaseUrlOpt,
    env_file: Optional[Path] = EnvFileOpt,
    config: Optional[Path] = ConfigOpt,
    quiet: bool = QuietOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Start a new run from a past iteration of a run (its split, representation and model), with the same
    brain and a new time budget; the old run is left as it was.

    Example: omicsagent fork runs/tf0 --from-iteration 2 --out runs/tf0-from2 --time-budget 10m
    """
    from omicsagent.agent.fork import check_fork, fork_run
    from omicsagent.agent.journal import RunJournal
    from omicsagent.agent.layout import RunLayout

    try:
        index = int(from_iteration.strip())
    except ValueError:
        raise InputError(f"--from-iteration {from_iteration} is not a whole number; give an iteration "
                         "index, for example --from-iteration 2.") from None
    budget = parse_budget(time_budget)
    source = RunLayout.at(run_dir)
    journal = RunJournal.load(source)
    check_out_dir(out)
    layout = RunLayout.at(out)
    check_fork(source, journal, index, layout)  # before a brain is built or anything is written
    s = journal.settings
    _continue_run(layout, brain_name=s.brain, model=s.model, max_cost=s.max_cost_usd, base_url=base_url,
                  env_file=env_file, config=config, quiet=quiet, as_json=as_json, iterations=iterations,
                  budget=budget, record_brain=False,
                  before=lambda: fork_run(source, iteration=index, out_dir=layout))


@app.command()
@handle_errors
def predict(
    run_dir: Path = typer.Argument(..., help="A finished run folder (with best/)."),
    input: Path = typer.Option(
        ..., "--input", "-i", help="Table of new inputs (same columns as train.csv, no target needed), or an "
        "AnnData .h5ad file of cells for a single-cell run."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="CSV file to write."),
    sandbox: str = SandboxOpt,
) -> None:
    """Predict on new data with a run's best model (runs in the sandbox).

    Example: omicsagent predict runs/tf0 --input new.csv --output predictions.csv
    """
    from omicsagent.agent.harness import run_inference
    from omicsagent.agent.journal import RunJournal
    from omicsagent.agent.layout import RunLayout
    from omicsagent.errors import InputError, RunStateError
    from omicsagent.sandbox import make_sandbox
    from omicsagent.tasks.io import read_table

    layout = RunLayout.at(run_dir)
    journal = RunJournal.load(layout)
    if not (layout.best / "inference.py").exists():
        raise RunStateError(
            f"{run_dir} has no best model yet (no iteration succeeded); run or resume it first."
        )
    table = read_table(input, layer=journal.task.layer)
    missing = [c.name for c in journal.task.feature_columns if c.name not in table.columns]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InputError(
            f"{input} lacks the input column(s) {', '.join(map(repr, missing[:5]))}{more} "
            "the model was trained on; add them."
        )
    if output.exists() and output.is_dir():
        raise InputError(f"{output} is a folder; give a file name such as predictions.csv.")
    if not output.parent.exists():
        raise InputError(f"the folder {output.parent} does not exist; create it or choose another --output.")
    run_inference(
        layout,
        make_sandbox(sandbox),
        model_dir=layout.best,
        input_path=input.expanduser().resolve(),
        output_path=output.expanduser().resolve(),
        journal=journal,
    )
    Console(stderr=True).print(f"wrote {len(table)} predictions to {output}", markup=False, highlight=False)


@app.command()
@handle_errors
def demo(
    out: Optional[Path] = typer.Option(None, "--out", help="Run folder (default: runs/demo-<time>)."),
    time_budget: str = typer.Option("4m", "--time-budget", help="Wall-time budget."),
    iterations: int = typer.Option(3, "--iterations", "-n", min=1),
    sandbox: str = SandboxOpt,
) -> None:
    """Generate a small DNA task with a planted motif and run the offline expert brain on it.

    Example: omicsagent demo --out runs/demo
    """
    import time as _time

    from omicsagent.agent.journal import RunSettings
    from omicsagent.agent.layout import RunLayout
    from omicsagent.agent.runner import check_new_run_folder, start_run
    from omicsagent.brains.expert import ExpertBrain
    from omicsagent.tasks import load_task
    from omicsagent.testing import make_motif_task

    layout = RunLayout.at(out or Path("runs") / f"demo-{_time.strftime('%Y%m%d-%H%M%S')}")
    budget = parse_budget(time_budget)
    check_out_dir(out or Path("runs"))
    check_new_run_folder(layout)  # before the demo data is written beside it
    data = make_motif_task(layout.root.parent / f"{layout.root.name}-data", n=1200, n_test=400, length=80)
    Console(stderr=True).print(f"demo dataset: {data} (1200 training sequences with a planted TATAAT motif)",
                               markup=False)
    task = load_task(data)
    from omicsagent.tasks.card import task_card

    Console(stderr=True).print(task_card(task))
    settings = RunSettings(iterations=iterations, time_budget_s=budget, sandbox=sandbox)
    journal = start_run(
        task, out_dir=layout, settings=settings, brain=ExpertBrain(), progress=_progress(False, False)
    )
    _summary(journal, layout, False)
    _exit_for(journal)


@app.command()
@handle_errors
def report(
    run_dir: Path = typer.Argument(..., help="A run folder."),
    format: Optional[list[str]] = typer.Option(None, "--format", "-f", help="html and/or md (default both)."),
) -> None:
    """Write the run's self-contained HTML report and Markdown summary.

    Example: omicsagent report runs/tf0 --format html
    """
    from omicsagent.report import write_report

    written = write_report(run_dir, formats=format or ("html", "md"))
    for kind, path in written.items():
        typer.echo(f"{kind}: {path}")


@app.command()
@handle_errors
def runs(
    root: Path = typer.Argument(Path("runs"), help="Folder holding run folders."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
) -> None:
    """List runs with dataset, brain, status, best validation/test metric, time and cost.

    Example: omicsagent runs runs/
    """
    from omicsagent.report import list_runs, runs_table

    if not root.exists():
        raise InputError(f"{root} does not exist; give the folder your runs were written to.")
    summaries = list_runs(root)
    if as_json:
        typer.echo(
            json.dumps(
                [getattr(s, "model_dump", lambda: s.__dict__)() for s in summaries], indent=1, default=str
            )
        )
        return
    if not summaries:
        typer.echo(f"no runs under {root}")
        return
    console = Console()
    console.print(runs_table(summaries, root=root, width=console.width))


@app.command()
@handle_errors
def models(env_file: Optional[Path] = EnvFileOpt) -> None:
    """List LLM providers and whether an API key is configured (keys are never printed).

    Example: omicsagent models --env-file .env
    """
    from rich.table import Table
    from rich.text import Text

    from omicsagent.brains.llm import list_models

    table = Table("provider", "key variable", "key present", "notes")
    for row in list_models(env_file=env_file):  # notes hold URLs from the environment: shown as typed
        table.add_row(*(Text(str(row.get(k, ""))) for k in ("provider", "variable", "present", "notes")))
    Console().print(table)


def _mount_expression() -> None:
    try:
        from omicsagent.expression.cli import expr_app
    except ImportError:
        return
    app.add_typer(
        expr_app, name="expr", help="Gene-expression analysis: GEO/TCGA cohorts to trait-associated genes."
    )


_mount_expression()


def _mount_bench() -> None:
    from omicsagent.bench.cli import bench_app

    app.add_typer(
        bench_app,
        name="bench",
        help="Benchmark arena: hidden-label tasks, graders, agents x tasks x seeds, leaderboards.",
    )


_mount_bench()


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt  # a kill (SIGTERM: kill, a scheduler, a closing session) stops like Ctrl-C


def main() -> None:
    import signal

    # Ctrl-C and SIGTERM end a command the same way: a run keeps its best model and writes its report, a
    # sweep kills the job it was running (its own process group) before it exits, so nothing keeps running.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    app()


if __name__ == "__main__":
    main()
