"""Progress of a run, for people (rich lines), scripts (JSON lines) or nobody (quiet)."""
from __future__ import annotations

import json
import sys
import time
from typing import Any, Protocol

from rich.console import Console
from rich.markup import escape


class Progress(Protocol):
    def event(self, kind: str, **data: Any) -> None: ...


class NullProgress:
    def event(self, kind: str, **data: Any) -> None:
        pass


class JsonProgress:
    """One JSON object per line on stdout: {"event": kind, ...}."""

    def event(self, kind: str, **data: Any) -> None:
        sys.stdout.write(
            json.dumps({"event": kind, "time": round(time.time(), 3), **data}, default=str) + "\n"
        )
        sys.stdout.flush()


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return (
        f"{seconds // 60:02d}:{seconds % 60:02d}"
        if seconds < 3600
        else f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    )


class ConsoleProgress:
    """Readable lines: elapsed / budget, iteration, step, best validation metric so far."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.best = "-"

    def _prefix(self, data: dict[str, Any]) -> str:
        el, budget = data.get("elapsed_s"), data.get("budget_s")
        if el is None:
            return ""
        left = f" {_clock(budget - el)} left" if budget else ""
        return f"[dim][{_clock(el)}{left}][/] "

    def event(self, kind: str, **d: Any) -> None:
        p = self._prefix(d)
        # Names, paths, plans and errors are user or brain text: printed as typed, never read as markup.
        d = {k: escape(v) if isinstance(v, str) else v for k, v in d.items()}
        if kind == "run_start":
            self.console.print(
                f"{p}[bold]run {d['run_id']}[/]: {d['task']} with the {d['brain']} brain, "
                f"{d['iterations']} iterations, budget {_clock(d['budget_s'])}, sandbox {d['sandbox']}"
            )
        elif kind == "iteration_start":
            self.console.print(f"{p}[bold cyan]iteration {d['iteration']}[/] {d.get('plan', '')}")
        elif kind == "step_start":
            self.console.print(
                f"{p}  {d['step']}{' (attempt ' + str(d['attempt']) + ')' if d.get('attempt', 1) > 1 else ''}"
            )
        elif kind == "step_failed":
            self.console.print(f"{p}  [yellow]{d['step']} failed:[/] {d['error'][:300]}")
        elif kind == "log":
            self.console.print(f"{p}    [dim]{d['message']}[/]")
        elif kind == "iteration_end":
            if d.get("best"):
                self.best = f"{d['metric']} {d['validation']:.4f}"
            status = (
                "[green]ok[/]"
                if d["status"] == "succeeded"
                else f"[red]failed[/] ({d.get('failure', '')[:200]})"
            )
            val = (
                f" validation {d['metric']} {d['validation']:.4f}" if d.get("validation") is not None else ""
            )
            if d.get("cv_sd") is not None:  # small data: the mean over cross-validation folds
                val = (f" {d.get('cv_folds')}-fold cross-validation {d['metric']} {d['validation']:.4f} ± "
                       f"{d['cv_sd']:.4f}")
            trn = f", train {d['train']:.4f}" if d.get("train") is not None else ""
            star = " [bold green]* new best[/]" if d.get("best") else ""
            self.console.print(
                f"{p}iteration {d['iteration']} {status}{val}{trn} in {d['duration_s']:.0f}s{star} "
                f"(best: {self.best})"
            )
        elif kind == "warning":
            self.console.print(f"{p}[bold yellow]warning:[/] {d['message']}")
        elif kind == "run_end":
            self.console.print(
                f"{p}[bold]run {d['status']}[/]{': ' + d['reason'] if d.get('reason') else ''}"
            )
        elif kind == "test":
            shown = ", ".join(f"{k} {v:.4f}" for k, v in d["metrics"].items())
            self.console.print(f"{p}[bold]hidden test set[/] (scored by the harness): {shown}")
