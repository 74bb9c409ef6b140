"""Live progress of the team, per role and unit (the same ``Progress`` protocol as the ML loop:
``event(kind, **data)``; ``JsonProgress`` and ``NullProgress`` come from ``omicsagent.agent.progress``)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape


def _clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60:02d}:{s % 60:02d}" if s < 3600 else f"{s // 3600}h{s % 3600 // 60:02d}"


class TeamConsoleProgress:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.start = time.monotonic()

    def _p(self, text: str) -> None:
        self.console.print(f"[dim][{_clock(time.monotonic() - self.start)}][/] {text}")

    def event(self, kind: str, **d: Any) -> None:
        who = f"{escape(str(d.get('trait', '')))}/{escape(str(d.get('subject', '')))}"
        role = escape(str(d.get("role", "")))
        if kind == "team_start":
            self._p(
                f"[bold]expression team[/]: {d['traits']} trait(s), {d['cohorts']} cohort job(s) "
                f"({d['cohorts_done']} done before), {d['problems']} problem(s) ({d['problems_done']} done "
                f"before); brains {escape(d['brains'])}; {d['executor']}"
            )
        elif kind == "note":
            self._p(f"[cyan]PI[/] {escape(d['message'])}")
        elif kind == "task_start":
            self._p(f"[bold cyan]{who}[/] {role} starts")
        elif kind == "decision":
            action = d["action"]
            if action in ("back", "skip", "finish") or not d.get("valid", True):
                colour = "yellow" if action == "back" or not d.get("valid", True) else "dim"
                unit = f" {escape(str(d.get('unit') or ''))}" if action in ("back", "skip") else ""
                self._p(
                    f"  {who} {role}: [{colour}]{action}[/]{unit} - {escape(str(d.get('reason', ''))[:200])}"
                )
        elif kind == "round":
            verdict = "[green]approved[/]" if d["approved"] else "[red]rejected[/]"
            reuse = f" ({d['reuse'].replace('_', ' ')})" if d.get("reuse") else ""
            by = f" by {escape(str(d['reviewer']))}" if d.get("reviewer") else ""
            tip = ""
            if d.get("suggestions"):
                tip = f" - {escape(str(d['suggestions'][0])[:160])}"
            self._p(f"  {who} {role}.{escape(d['unit'])} round {d['round']}{reuse}: {verdict}{by}{tip}")
        elif kind == "task_end":
            colour = "green" if d.get("status") == "done" else "red"
            self._p(
                f"[{colour}]{who}[/] {role} {escape(str(d.get('status')))}: "
                f"{escape(str(d.get('summary', ''))[:240])}"
            )
        elif kind == "team_end":
            self._p(f"[bold]expression team {escape(d['status'])}[/]: {escape(d.get('summary', ''))}")
