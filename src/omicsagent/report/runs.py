"""``omicsagent runs``: every run under a folder, one line each. A broken journal is a row, never a crash."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.table import Table
from rich.text import Text

from omicsagent.agent.journal import JOURNAL_FILE, RunJournal
from omicsagent.agent.layout import RunLayout
from omicsagent.agent.lock import run_status
from omicsagent.errors import InputError
from omicsagent.report.data import fmt_metric

MAX_DEPTH = 3  # root/run, root/group/run, root/group/sub/run
STATUS_STYLE = {"finished": "green", "running": "cyan", "interrupted": "yellow", "failed": "red", "stale": "magenta",
                "unreadable": "bold red"}


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
        path=run_dir, status=run_status(RunLayout.at(run_dir), j.status), run_id=j.run_id, dataset=j.task.name, brain=brain, metric=j.metric.label,
        best_validation=None if best is None else j.primary(best), best_iteration=None if best is None else best.index,
        test=(j.test_metrics or {}).get(j.task.metric), n_iterations=len(j.iterations), elapsed_s=j.elapsed_s,
        requests=total.requests, cost_usd=total.cost_usd, created_at=j.created_at,
    )


def list_runs(root: Path, *, max_depth: int = MAX_DEPTH) -> list[RunSummary]:
    """Every run directory (a folder with journal.json) under ``root``, newest first."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; give the folder that holds your runs (for example runs/).")
    summaries = [summarize(d) for d in _run_dirs(root, max_depth)]
    return sorted(summaries, key=lambda s: (-(s.created_at or 0.0), str(s.path)))


def runs_table(summaries: list[RunSummary], *, root: Path | None = None) -> Table:
    """A rich table of runs; paths are shown relative to ``root`` when given."""
    table = Table(title=f"{len(summaries)} run(s)" + (f" under {root}" if root else ""), header_style="bold",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("run (dataset)", overflow="fold", min_width=12)
    table.add_column("brain", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("valid. (it)", justify="right", no_wrap=True)
    table.add_column("test", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    unreadable: list[str] = []
    for s in summaries:
        shown = str(s.path)
        if root is not None:
            try:
                shown = str(s.path.relative_to(root))
            except ValueError:
                pass
        status = Text(s.status, style=STATUS_STYLE.get(s.status, ""))
        if s.status == "unreadable":
            table.add_row(shown, "", status, "", "", "", "", "")
            unreadable.append(f"{shown}: {s.error}")
            continue
        name = Text(shown)
        if s.dataset and s.dataset not in s.path.name:  # run folders are usually named after their dataset
            name.append(f"\n({s.dataset})", style="dim")
        best = "-" if s.best_validation is None else fmt_metric(s.best_validation)
        best += f" ({s.best_iteration}/{s.n_iterations})" if s.best_iteration is not None else f" (-/{s.n_iterations})"
        table.add_row(name, s.brain, status, s.metric, best, fmt_metric(s.test), short_duration(s.elapsed_s), s.cost_text)
    if unreadable:
        table.caption = "unreadable journals:\n" + "\n".join(unreadable)
        table.caption_justify = "left"
    return table


def short_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
