"""``omicsagent runs``: every run under a folder, one line each. A broken journal is a row, never a crash."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from omicsagent.agent.journal import JOURNAL_FILE, RunJournal
from omicsagent.agent.layout import RunLayout
from omicsagent.agent.lock import run_status
from omicsagent.errors import InputError
from omicsagent.report.data import fmt_metric

MAX_DEPTH = 3  # root/run, root/group/run, root/group/sub/run
STATUS_STYLE = {
    "finished": "green",
    "running": "cyan",
    "interrupted": "yellow",
    "failed": "red",
    "stale": "magenta",
    "unreadable": "bold red",
}


@dataclass(frozen=True)
class RunSummary:
    path: Path
    status: str  # the journal's status, "stale" (running, but its process died) or "unreadable"
    run_id: str = ""
    dataset: str = ""
    brain: str = ""
    metric: str = ""  # label, e.g. "AUROC"
    best_validation: float | None = None
    best_iteration: int | None = None
    test: float | None = None
    n_iterations: int = 0
    elapsed_s: float | None = None
    requests: int = 0
    cost_usd: float | None = None  # None: unknown price
    created_at: float | None = None
    error: str = ""  # why the journal is unreadable

    @property
    def cost_text(self) -> str:
        if self.status == "unreadable":
            return ""
        if self.requests == 0:
            return "-"
        return "unknown" if self.cost_usd is None else f"${self.cost_usd:.4f}"


def _run_dirs(root: Path, depth: int) -> list[Path]:
    if (root / JOURNAL_FILE).is_file():
        return [root]  # a run does not contain other runs
    if depth == 0:
        return []
    found: list[Path] = []
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    for child in children:
        found += _run_dirs(child, depth - 1)
    return found


def summarize(run_dir: Path) -> RunSummary:
    run_dir = Path(run_dir)
    try:
        j = RunJournal.load(run_dir)
    except Exception as err:  # noqa: BLE001 - RunStateError or a pydantic ValidationError: list it as unreadable
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        try:
            mtime = os.path.getmtime(RunLayout.at(run_dir).journal)
        except OSError:
            mtime = None
        return RunSummary(path=run_dir, status="unreadable", error=reason, created_at=mtime)
    best = j.best_iteration
    total = j.total_usage()
    brain = j.settings.brain + (f" ({j.settings.model})" if j.settings.model else "")
    return RunSummary(
        path=run_dir,
        status=run_status(RunLayout.at(run_dir), j.status),
        run_id=j.run_id,
        dataset=j.task.name,
        brain=brain,
        metric=j.metric.label,
        best_validation=None if best is None else j.primary(best),
        best_iteration=None if best is None else best.index,
        test=(j.test_metrics or {}).get(j.task.metric),
        n_iterations=len(j.iterations),
        elapsed_s=j.elapsed_s,
        requests=total.requests,
        cost_usd=total.cost_usd,
        created_at=j.created_at,
    )


def list_runs(root: Path, *, max_depth: int = MAX_DEPTH) -> list[RunSummary]:
    """Every run directory (a folder with journal.json) under ``root``, newest first."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; give the folder that holds your runs (for example runs/).")
    summaries = [summarize(d) for d in _run_dirs(root, max_depth)]
    return sorted(summaries, key=lambda s: (-(s.created_at or 0.0), str(s.path)))


# Columns after the run name, in the order shown; OPTIONAL ones are dropped (first listed first) when the
# table would not fit the terminal with every run name on one line.
COLUMNS = (
    ("brain", "left"),
    ("status", "left"),
    ("metric", "left"),
    ("valid. (it)", "right"),
    ("test", "right"),
    ("time", "right"),
    ("cost", "right"),
)
OPTIONAL = ("cost", "brain", "time", "metric")


def runs_table(summaries: list[RunSummary], *, root: Path | None = None, width: int | None = None) -> Table:
    """A rich table of runs; paths are shown relative to ``root`` when given.

    With ``width`` (the terminal's), the run name is never wrapped: the cost, brain, time and metric columns
    are left out, in that order, until the table fits, and the caption says so. Only a name too long for
    the terminal even then is folded.
    """
    names: list[Text] = []
    cells: list[dict[str, Text | str]] = []
    unreadable: list[str] = []
    for s in summaries:
        shown = str(s.path)
        if root is not None:
            try:
                shown = str(s.path.relative_to(root))
            except ValueError:
                pass
        status = Text(s.status, style=STATUS_STYLE.get(s.status, ""))
        name = Text(shown)
        if s.status == "unreadable":
            names.append(name)
            cells.append({"status": status})
            unreadable.append(f"{shown}: {s.error}")
            continue
        if s.dataset and s.dataset not in s.path.name:  # run folders are usually named after their dataset
            name.append(f"\n({s.dataset})", style="dim")
        best = "-" if s.best_validation is None else fmt_metric(s.best_validation)
        best += (
            f" ({s.best_iteration}/{s.n_iterations})"
            if s.best_iteration is not None
            else f" (-/{s.n_iterations})"
        )
        names.append(name)
        cells.append({"brain": s.brain, "status": status, "metric": s.metric, "valid. (it)": best,
                      "test": fmt_metric(s.test), "time": short_duration(s.elapsed_s), "cost": s.cost_text})
    shown_columns = [c for c, _ in COLUMNS]
    hidden: list[str] = []
    table = _table(summaries, root, names, cells, shown_columns, fold=False)
    if width is not None:
        for column in OPTIONAL:
            if _natural_width(table) <= width:
                break
            shown_columns.remove(column)
            hidden.append(column)
            table = _table(summaries, root, names, cells, shown_columns, fold=False)
        if _natural_width(table) > width:
            table = _table(summaries, root, names, cells, shown_columns, fold=True)
    caption = []
    if hidden:
        caption.append(
            f"{', '.join(hidden)} left out to fit {width} columns (widen the terminal or use --json)"
        )
    if unreadable:
        caption.append("unreadable journals:\n" + "\n".join(unreadable))
    if caption:
        table.caption = "\n".join(caption)
        table.caption_justify = "left"
    return table


def _table(
    summaries: list[RunSummary],
    root: Path | None,
    names: list[Text],
    cells: list[dict],
    columns: list[str],
    *,
    fold: bool,
) -> Table:
    table = Table(title=f"{len(summaries)} run(s)" + (f" under {root}" if root else ""), header_style="bold",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("run (dataset)", no_wrap=not fold, overflow="fold" if fold else "ellipsis", min_width=12)
    for column, justify in COLUMNS:
        if column in columns:
            table.add_column(column, justify=justify, no_wrap=True)
    for name, row in zip(names, cells):
        table.add_row(name, *(row.get(c, "") for c in columns))
    return table


def _natural_width(table: Table) -> int:
    """The width ``table`` takes when nothing is wrapped."""
    console = Console(width=10_000, color_system=None)
    return Measurement.get(console, console.options, table).maximum


def short_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
