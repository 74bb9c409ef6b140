"""Run reports (``report.html``, ``report.md``) and the runs listing.

Public API::

    write_report(run_dir, *, formats=("html", "md")) -> {"html": RUN/report.html, "md": RUN/report.md}
    list_runs(root) -> list[RunSummary]
    runs_table(summaries, *, root=None, width=None) -> rich.table.Table
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from omicsagent.agent.layout import RunLayout
from omicsagent.errors import InputError
from omicsagent.report.runs import RunSummary, list_runs, runs_table, summarize

__all__ = ["FORMATS", "RunSummary", "list_runs", "runs_table", "summarize", "write_report"]

FORMATS = ("html", "md")


def write_report(run_dir: Path | RunLayout, *, formats: Iterable[str] = FORMATS) -> dict[str, Path]:
    """Write the run's reports into ``run_dir`` and return their paths by format.

    Partial runs are fine: the report says what is missing. A folder without a readable journal raises
    ``RunStateError``; an unknown format raises ``InputError``.
    """
    from omicsagent.report.data import gather
    from omicsagent.report.html import render_html
    from omicsagent.report.markdown import render_markdown
    from omicsagent.report.plots import all_plots

    wanted = list(
        dict.fromkeys(f.lower().lstrip(".") for f in ([formats] if isinstance(formats, str) else formats))
    )
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise InputError(f"unknown report format {', '.join(unknown) or '(none)'}; choose html or md.")
    layout = RunLayout.at(run_dir)
    data = gather(layout)
    written: dict[str, Path] = {}
    if "html" in wanted:
        written["html"] = _write(layout.report_html, render_html(data, all_plots(data)))
    if "md" in wanted:
        written["md"] = _write(layout.report_md,
                               render_markdown(data, figures_in=layout.report_html.name if "html" in wanted or
                                               layout.report_html.exists() else None))
    return written


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
