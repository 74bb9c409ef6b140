"""Leaderboards from a results folder: per task, per domain and overall, per agent.

* per (agent, task): the mean of the normalised score over seeds (a failed job scores 0) and its standard
  error (sample standard deviation / sqrt(seeds)); success rate; mean wall time, CPU time; total cost.
* per (agent, domain): the mean of the agent's task means in the domain (every task weighs the same);
  standard error sqrt(sum of the tasks' squared standard errors) / number of tasks.
* overall: the same over every task; agents ranked by it.

Formats: Markdown and CSV (text), and a self-contained HTML page (inline CSS, PNG plots embedded as base64:
score per domain per agent, score versus time; no script, nothing loaded from elsewhere).
"""
from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from omicsagent.bench.jobs import load_results
from omicsagent.errors import InputError


@dataclass
class Row:
    agent: str
    level: str  # task | domain | overall
    name: str  # task id, domain name or "all"
    domain: str = ""
    metric: str = ""
    n_tasks: int = 0
    n_jobs: int = 0
    mean: float = 0.0
    se: float | None = None
    raw_mean: float | None = None
    success_rate: float = 0.0
    wall_s: float = 0.0  # mean per job
    cpu_s: float = 0.0
    cost_usd: float | None = None  # total
    rank: int | None = None
    seeds: list[int] = field(default_factory=list)


def _se(values: list[float]) -> float | None:
    return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) >= 2 else None


def _combine_se(ses: list[float | None]) -> float | None:
    if not ses or any(s is None for s in ses):
        return None
    return math.sqrt(sum(s * s for s in ses)) / len(ses)


def _cost(records: list[dict]) -> float | None:
    costs = [r.get("cost_usd") for r in records if r.get("cost_usd") is not None]
    return float(sum(costs)) if costs else None


def _summary(agent: str, level: str, name: str, records: list[dict], task_rows: list[Row]) -> Row:
    return Row(
        agent=agent,
        level=level,
        name=name,
        n_tasks=len(task_rows),
        n_jobs=len(records),
        mean=float(np.mean([t.mean for t in task_rows])),
        se=_combine_se([t.se for t in task_rows]),
        success_rate=float(np.mean([bool(r["success"]) for r in records])),
        wall_s=float(np.mean([r["wall_s"] for r in records])),
        cpu_s=float(np.mean([r["cpu_s"] for r in records])),
        cost_usd=_cost(records),
    )


def aggregate(records: list[dict]) -> list[Row]:
    """Task, domain and overall rows for every agent (overall rows ranked, best first)."""
    by_task: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        by_task.setdefault((r["agent"], r["task"]), []).append(r)
    rows: list[Row] = []
    task_rows: dict[str, list[Row]] = {}
    for (agent, task), recs in sorted(by_task.items()):
        recs = sorted(recs, key=lambda r: r["seed"])
        scores = [float(r["score"]) if r["success"] else 0.0 for r in recs]
        raws = [r["raw_score"] for r in recs if r["success"] and r["raw_score"] is not None]
        row = Row(
            agent=agent,
            level="task",
            name=task,
            domain=recs[0].get("domain") or "",
            metric=recs[0]["metric"],
            n_tasks=1,
            n_jobs=len(recs),
            mean=float(np.mean(scores)),
            se=_se(scores),
            raw_mean=float(np.mean(raws)) if raws else None,
            success_rate=float(np.mean([bool(r["success"]) for r in recs])),
            wall_s=float(np.mean([r["wall_s"] for r in recs])),
            cpu_s=float(np.mean([r["cpu_s"] for r in recs])),
            cost_usd=_cost(recs),
            seeds=[r["seed"] for r in recs],
        )
        rows.append(row)
        task_rows.setdefault(agent, []).append(row)
    for agent, trows in task_rows.items():
        recs = [r for r in records if r["agent"] == agent]
        for domain in sorted({t.domain for t in trows}):
            d_rows = [t for t in trows if t.domain == domain]
            d_recs = [r for r in recs if (r.get("domain") or "") == domain]
            row = _summary(agent, "domain", domain or "(none)", d_recs, d_rows)
            row.domain = domain
            rows.append(row)
        rows.append(_summary(agent, "overall", "all", recs, trows))
    overall = sorted([r for r in rows if r.level == "overall"], key=lambda r: (-r.mean, r.wall_s))
    for i, r in enumerate(overall, 1):
        r.rank = i
    return rows


def load_leaderboard(results: Path) -> tuple[list[Row], list[dict]]:
    results = Path(results)
    if not results.is_dir():
        raise InputError(f"{results} does not exist; give the --out folder of `omicsagent bench run`.")
    records = load_results(results)
    if not records:
        raise InputError(
            f"{results} holds no job results yet; run `omicsagent bench run ... --out {results}` first."
        )
    return aggregate(records), records


# ----------------------------------------------------------------------------------------------------
# text formats
# ----------------------------------------------------------------------------------------------------

def _pm(row: Row) -> str:
    return f"{row.mean:.3f}" + (f" ± {row.se:.3f}" if row.se is not None else "")


def _time(s: float) -> str:
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def _money(c: float | None) -> str:
    return "-" if c is None else f"${c:.2f}"


def to_markdown(rows: list[Row], title: str = "Leaderboard") -> str:
    overall = sorted([r for r in rows if r.level == "overall"], key=lambda r: r.rank or 0)
    out = [
        f"# {title}",
        "",
        (
            "Normalised scores (0..1; a failed job scores 0): mean ± standard error over seeds. "
            "Time is the mean wall time per job; cost is the total LLM cost."
        ),
        "",
        "## Overall",
        "",
        "| rank | agent | score | success | tasks | jobs | time per job | CPU per job | cost |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    out += [
        f"| {r.rank} | {r.agent} | {_pm(r)} | {r.success_rate:.0%} | {r.n_tasks} | {r.n_jobs} | "
        f"{_time(r.wall_s)} | {_time(r.cpu_s)} | {_money(r.cost_usd)} |"
        for r in overall
    ]
    out += ["", "## Per domain", "", "| domain | agent | score | success | tasks | time per job | cost |",
            "|---|---|---|---|---|---|---|"]
    out += [
        f"| {r.name} | {r.agent} | {_pm(r)} | {r.success_rate:.0%} | {r.n_tasks} | {_time(r.wall_s)} | "
        f"{_money(r.cost_usd)} |"
        for r in sorted((r for r in rows if r.level == "domain"), key=lambda r: (r.name, -r.mean))
    ]
    out += [
        "",
        "## Per task",
        "",
        (
            "| task | domain | metric | agent | score | raw metric (mean) | success | seeds | "
            "time per job | cost |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    out += [
        f"| {r.name} | {r.domain} | {r.metric} | {r.agent} | {_pm(r)} | "
        f"{'-' if r.raw_mean is None else f'{r.raw_mean:.4g}'} | {r.success_rate:.0%} | {r.n_jobs} | "
        f"{_time(r.wall_s)} | {_money(r.cost_usd)} |"
        for r in sorted((r for r in rows if r.level == "task"), key=lambda r: (r.name, -r.mean))
    ]
    return "\n".join(out) + "\n"


CSV_COLUMNS = (
    "level",
    "name",
    "domain",
    "agent",
    "rank",
    "metric",
    "n_tasks",
    "n_jobs",
    "mean",
    "se",
    "raw_mean",
    "success_rate",
    "wall_s",
    "cpu_s",
    "cost_usd",
)


def to_csv(rows: list[Row]) -> str:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    order = {"overall": 0, "domain": 1, "task": 2}
    for r in sorted(rows, key=lambda r: (order[r.level], r.name, r.rank or 0, r.agent)):
        w.writerow(["" if getattr(r, c) is None else getattr(r, c) for c in CSV_COLUMNS])
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------------

def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _agents(rows: list[Row]) -> list[str]:
    return [r.agent for r in sorted((r for r in rows if r.level == "overall"), key=lambda r: r.rank or 0)]


def plot_domains(rows: list[Row]) -> str:
    """Grouped bars: score per domain per agent, with standard-error bars; base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drows = [r for r in rows if r.level == "domain"]
    domains = sorted({r.name for r in drows})
    agents = _agents(rows)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(domains) * max(1, len(agents)) / 2 + 2), 3.6))
    width = 0.8 / max(1, len(agents))
    for i, agent in enumerate(agents):
        got = {r.name: r for r in drows if r.agent == agent}
        xs = [d + (i - (len(agents) - 1) / 2) * width for d in range(len(domains))]
        means = [got[d].mean if d in got else 0.0 for d in domains]
        errs = [(got[d].se or 0.0) if d in got else 0.0 for d in domains]
        ax.bar(xs, means, width, yerr=errs, capsize=3, label=agent)
    ax.set_xticks(range(len(domains)), domains)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("normalised score")
    ax.set_title("Score per domain")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def plot_score_time(rows: list[Row]) -> str:
    """Each (agent, task): mean score versus mean wall time per job (log scale); base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trows = [r for r in rows if r.level == "task"]
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for agent in _agents(rows):  # the bar chart's order, so each agent keeps its colour
        pts = [r for r in trows if r.agent == agent]
        ax.scatter([max(r.wall_s, 0.1) for r in pts], [r.mean for r in pts], label=agent, alpha=0.8)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("wall time per job (s, log scale)")
    ax.set_ylabel("normalised score")
    ax.set_title("Score versus time (one point per agent and task)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;\
max-width:1100px;color:#222;
padding:0 1em}h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #ddd;padding:.3em .6em;
text-align:left}th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even){background:#fafafa}img{max-width:100%;height:auto;display:block;margin:.8em 0}
p.note{color:#555;font-size:.92em}"""


def _table(head: list[str], body: list[list[str]], numeric: set[int]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td{' class=num' if i in numeric else ''}>{html.escape(c)}</td>"
                                   for i, c in enumerate(row)) + "</tr>" for row in body)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def to_html(rows: list[Row], title: str = "Leaderboard") -> str:
    overall = sorted([r for r in rows if r.level == "overall"], key=lambda r: r.rank or 0)
    t_overall = _table(
        ["rank", "agent", "score", "success", "tasks", "jobs", "time per job", "CPU per job", "cost"],
        [
            [
                str(r.rank),
                r.agent,
                _pm(r),
                f"{r.success_rate:.0%}",
                str(r.n_tasks),
                str(r.n_jobs),
                _time(r.wall_s),
                _time(r.cpu_s),
                _money(r.cost_usd),
            ]
            for r in overall
        ],
        {0, 2, 3, 4, 5, 6, 7, 8},
    )
    t_domain = _table(
        ["domain", "agent", "score", "success", "tasks", "time per job", "cost"],
        [
            [
                r.name,
                r.agent,
                _pm(r),
                f"{r.success_rate:.0%}",
                str(r.n_tasks),
                _time(r.wall_s),
                _money(r.cost_usd),
            ]
            for r in sorted((r for r in rows if r.level == "domain"), key=lambda r: (r.name, -r.mean))
        ],
        {2, 3, 4, 5, 6},
    )
    t_task = _table(
        [
            "task",
            "domain",
            "metric",
            "agent",
            "score",
            "raw metric",
            "success",
            "seeds",
            "time per job",
            "cost",
        ],
        [
            [
                r.name,
                r.domain,
                r.metric,
                r.agent,
                _pm(r),
                "-" if r.raw_mean is None else f"{r.raw_mean:.4g}",
                f"{r.success_rate:.0%}",
                str(r.n_jobs),
                _time(r.wall_s),
                _money(r.cost_usd),
            ]
            for r in sorted((r for r in rows if r.level == "task"), key=lambda r: (r.name, -r.mean))
        ],
        {4, 5, 6, 7, 8, 9},
    )

    def img(b64, alt):
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">\
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head>
<body><h1>{html.escape(title)}</h1>
<p class="note">Normalised scores (0..1; a failed or invalid job scores 0), mean ± standard error \
over seeds. Domain and
overall scores average the task means (every task weighs the same). Time is the mean wall time per job; \
cost the total
LLM cost. See docs/bench.md for the normalisation of each metric.</p>
<h2>Overall</h2>{t_overall}
<h2>Per domain</h2>{img(plot_domains(rows), "score per domain per agent")}{t_domain}
<h2>Score versus time</h2>{img(plot_score_time(rows), "score versus wall time")}
<h2>Per task</h2>{t_task}
</body></html>
"""


def write_leaderboard(results: Path, fmt: str, out: Path | None = None) -> tuple[str, Path | None]:
    """Render ``fmt`` (md, csv, html); write it to ``out`` (html: default RESULTS/leaderboard.html)."""
    if fmt not in ("md", "csv", "html"):
        raise InputError(f"--format {fmt!r} is not known; use md, csv or html.")
    rows, records = load_leaderboard(results)
    suites = sorted({r.get("suite") or "" for r in records} - {""})
    title = f"Leaderboard: {', '.join(suites)}" if suites else "Leaderboard"
    text = {"md": to_markdown, "csv": to_csv, "html": to_html}[fmt](
        rows, **({} if fmt == "csv" else {"title": title})
    )
    if fmt == "html" and out is None:
        out = Path(results) / "leaderboard.html"
    if out is not None:
        if out.is_dir():
            raise InputError(f"{out} is a folder; give a file name such as leaderboard.{fmt}.")
        if not out.parent.exists():
            raise InputError(f"the folder {out.parent} does not exist; create it or choose another --out.")
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text)
        tmp.replace(out)
    return text, out
