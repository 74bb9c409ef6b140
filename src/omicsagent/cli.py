"""The command line: thin. Parse options, call the library, turn errors into one sentence and an exit code."""
from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console

from omicsagent import __version__
from omicsagent.errors import OmicsAgentError

app = typer.Typer(
    name="omicsagent",
    help="An autonomous, sandboxed data-science agent for molecular biology.\n\n"
         "Example: omicsagent run ../shared/datasets/ml/gue_tf0 --time-budget 10m",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def handle_errors(fn: Callable) -> Callable:
    """User-facing errors become one red sentence and the error's exit code; Ctrl-C exits 130."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OmicsAgentError as err:
            _stderr().print(f"[bold red]error:[/] {err}")
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


def task_options(fn: Callable) -> Callable:
    return fn


TargetOpt = typer.Option(None, "--target", help="The column to predict (overrides detection).")
MetricOpt = typer.Option(None, "--metric", help="Primary metric: auroc, auprc, accuracy, macro_f1, mcc, log_loss, rmse, mae, r2, pearson, spearman.")
TaskTypeOpt = typer.Option(None, "--task-type", help="binary, multiclass or regression (overrides detection).")
TrainOpt = typer.Option(None, "--train", help="Training table (instead of, or overriding, DATASET/train.csv).")
ValidOpt = typer.Option(None, "--validation", help="Validation table.")
TestOpt = typer.Option(None, "--test", help="Hidden test table, read only by the harness.")
IgnoreOpt = typer.Option(None, "--ignore", help="A column to exclude from features (repeatable).")
GroupOpt = typer.Option(None, "--group", help="Column of groups to keep apart when splitting.")
DropOpt = typer.Option(False, "--drop-missing-target", help="Drop training rows whose target is missing.")


def build_task(dataset, train, validation, test, target, task_type, metric, ignore, group, drop_missing):
    from omicsagent.tasks import Overrides, load_task

    ov = Overrides(target=target, task_type=task_type, metric=metric, ignore_columns=list(ignore or []),
                   group_column=group, drop_missing_target=drop_missing)
    if task_type and task_type not in ("binary", "multiclass", "regression"):
        from omicsagent.errors import InputError
        raise InputError(f"--task-type {task_type!r} is not known; use binary, multiclass or regression.")
    return load_task(dataset, train=train, validation=validation, test=test, overrides=ov)


@app.command()
@handle_errors
def inspect(
    dataset: Optional[Path] = typer.Argument(None, help="Dataset folder with train.csv (and optional validation.csv, test.csv, description.md, task.toml)."),
    train: Optional[Path] = TrainOpt, validation: Optional[Path] = ValidOpt, test: Optional[Path] = TestOpt,
    target: Optional[str] = TargetOpt, task_type: Optional[str] = TaskTypeOpt, metric: Optional[str] = MetricOpt,
    ignore: Optional[list[str]] = IgnoreOpt, group: Optional[str] = GroupOpt, drop_missing_target: bool = DropOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the task as JSON."),
) -> None:
    """Show what omicsagent detects in a dataset: target, task type, metric, column roles, leakage suspects.

    Example: omicsagent inspect ../shared/datasets/ml/ago2_clash_hejret
    """
    task = build_task(dataset, train, validation, test, target, task_type, metric, ignore, group, drop_missing_target)
    if as_json:
        typer.echo(json.dumps(task.model_dump(), indent=2, default=str))
        return
    from omicsagent.tasks.card import task_card

    Console().print(task_card(task))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
