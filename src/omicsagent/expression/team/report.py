"""Self-contained HTML reports of a team run (inline CSS, figures as base64 PNG, no script), like the ML
report: ``OUT/team/report.html`` (every problem and cohort) and one page per problem,
``OUT/team/report/<Trait>__<Cond>.html``: the cohorts with usability and reason, the chosen cohort(s)
and why, the genes with coefficients and a plot, cross-validation with its spread, and per cohort the
trace of action units (decisions, backtracks with reasons, review rounds and verdicts, code reuse),
time and LLM cost. Everything is read from the journals and the GenoTEX files.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from omicsagent.agent.journal import Usage
from omicsagent.expression.team.journal import (
    CohortEntry,
    DecisionRecord,
    ProblemEntry,
    TaskJournal,
    TeamJournal,
    UnitRecord,
)
from omicsagent.expression.team.layout import RunPaths
from omicsagent.expression.team.problems import Problem, ProblemSet
from omicsagent.report.html import CSS, _facts, _figure, _table
from omicsagent.report.plots import Plot, _png

TEAM_CSS = CSS + """
tr.back td{background:#fff3e0}tr.rejected td{color:#8a1c1c}tr.skip td{color:#777}
a{color:#1f5fa8}
"""


def _page(title: str, body: list[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{TEAM_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _cost(u: Usage | dict) -> str:
    u = Usage.model_validate(u) if isinstance(u, dict) else u
    if u.requests == 0:
        return "-"
    money = "cost unknown" if u.cost_usd is None else f"${u.cost_usd:.4f}"
    return f"{u.requests} req, {u.input_tokens + u.output_tokens} tok, {money}"


def _reuse(r: dict[str, int]) -> str:
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in r.items() if v) or "-"


def _load_task(paths: RunPaths, rel: str) -> TaskJournal | None:
    path = paths.out / rel
    try:
        return TaskJournal.load(path) if rel and path.is_file() else None
    except ValueError:
        return None


def _html_table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    """Like the ML report's table, but cells are HTML (the caller escapes)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        (f'<tr class="{classes[i]}">' if classes and classes[i] else "<tr>")
        + "".join(f"<td>{c}</td>" for c in r)
        + "</tr>"
        for i, r in enumerate(rows)
    )
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


# ----- figures -----------------------------------------------------------------------------------------


def gene_plot(genes: list[str], coefs: list[float], *, top: int = 30) -> Plot | None:
    if not genes:
        return None
    g, c = genes[:top][::-1], coefs[:top][::-1]
    fig = Figure(figsize=(6.4, 1.2 + 0.24 * len(g)))
    ax = fig.add_subplot()
    ax.barh(range(len(g)), c, color=["#1f77b4" if v >= 0 else "#d62728" for v in c])
    ax.set_yticks(range(len(g)), g, fontsize=8)
    ax.axvline(0, color="#555", lw=0.8)
    ax.set_xlabel("coefficient (genes z-scored)")
    ax.grid(alpha=0.3, axis="x")
    more = f" (the {top} largest of {len(genes)})" if len(genes) > top else ""
    return Plot(
        "genes",
        "Significant genes",
        f"Non-zero coefficients of the final fit{more}; blue: higher in cases, red: lower.",
        _png(fig),
    )


def cv_plot(grid: list[dict[str, Any]], chosen: float | None) -> Plot | None:
    rows = [r for r in grid if r.get("fold_prediction")]
    if not rows:
        return None
    metric = "f1" if "f1" in rows[0]["fold_prediction"][0] else "r_squared"
    fig = Figure(figsize=(8.5, 3.6))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    rows = sorted(rows, key=lambda r: r["penalty"])
    x = np.arange(len(rows))
    for ax, key, label in ((ax1, "fold_prediction", f"prediction {metric}"),
                           (ax2, "fold_selection", "selection precision")):
        field = metric if key == "fold_prediction" else "precision"
        vals = [[f.get(field) if f.get(field) is not None else np.nan for f in r[key]] for r in rows]
        for i, v in enumerate(vals):
            ax.scatter([i] * len(v), v, s=12, color="#999", zorder=2)
        ax.errorbar(x, [np.nanmean(v) for v in vals], yerr=[np.nanstd(v) for v in vals], fmt="o-",
                    color="#1f77b4", capsize=4, zorder=3, label="mean +- SD over folds")
        if chosen is not None:
            for i, r in enumerate(rows):
                if np.isclose(r["penalty"], chosen):
                    ax.axvline(i, color="#ff7f0e", alpha=0.5, lw=6, label="chosen penalty")
        ax.set_xticks(x, [f"{r['penalty']:g}" for r in rows], rotation=45)
        ax.set(xlabel="penalty", ylabel=label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return Plot(
        "cv",
        "Cross-validation",
        "5-fold cross-validation per penalty: grey dots are folds, blue the mean "
        "and standard deviation; the orange band marks the chosen penalty.",
        _png(fig),
    )


# ----- pieces ------------------------------------------------------------------------------------------


def _records(paths: RunPaths, trait: str) -> dict[str, dict]:
    path = paths.preprocess / trait / "cohort_info.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def cohort_table(paths: RunPaths, journal: TeamJournal, trait: str) -> str:
    entries = [e for e in journal.cohorts.values() if e.trait == trait]
    records = _records(paths, trait)
    rows, classes = [], []
    for e in sorted(entries, key=lambda e: e.folder):
        rec = records.get(e.cohort_id or "", e.record) or {}
        usable = "yes" if rec.get("is_usable") else ("no" if rec else "no record")
        rows.append(
            [
                escape(e.folder),
                escape(e.cohort_id or "-"),
                escape(e.kind),
                usable,
                escape(str(rec.get("sample_size") or "-")),
                escape(
                    (
                        f"{'Age ' if rec.get('has_age') else ''}"
                        f"{'Gender' if rec.get('has_gender') else ''}"
                    ).strip()
                    or "-"
                ),
                escape(str(rec.get("note") or e.note))[:600],
                escape(_reuse(e.reuse)),
                str(e.backtracks),
                f"{e.duration_s:.0f} s",
                escape(_cost(e.usage)),
            ]
        )
        classes.append("" if rec.get("is_usable") else "rejected" if e.status == "failed" else "")
    if not rows:
        return f'<p class="note">No cohort of {escape(trait)} was found in the cohort root.</p>'
    return _html_table(["folder", "cohort", "kind", "usable", "samples", "covariates", "reason / note",
                        "code reuse", "backtracks", "time", "LLM"], rows, classes)


def trace_html(task: TaskJournal | None, title: str) -> str:
    if task is None:
        return f'<p class="muted">{escape(title)}: no trace recorded.</p>'
    rows, classes = [], []
    for ev in task.events:
        if isinstance(ev, DecisionRecord):
            if ev.action == "advance" and ev.valid:
                continue  # the unit row below says it
            what = f"<b>{escape(ev.action)}</b> {escape(ev.unit or '')}"
            note = escape(ev.reason) + (f' <span class="muted">({escape(ev.note)})</span>' if ev.note else "")
            if ev.directive:
                note += f"<br><code>{escape(json.dumps(ev.directive))}</code>"
            rows.append([escape(ev.role), what, note, "", "", escape(_cost(ev.usage))])
            classes.append(
                "back" if ev.action == "back" else "skip" if ev.action in ("skip", "finish") else ""
            )
            continue
        assert isinstance(ev, UnitRecord)
        if ev.status == "skipped":
            rows.append(
                [
                    escape(task.role),
                    f"{escape(ev.unit)} (visit {ev.visit})",
                    "skipped: " + escape(ev.reason),
                    "",
                    "",
                    "",
                ]
            )
            classes.append("skip")
            continue
        lines = []
        usage = Usage()
        for r in ev.rounds:
            verdict = "approved" if r.approved else "rejected"
            src = f"{r.reuse.replace('_', ' ')}" + (f" from {r.based_on}" if r.based_on else "")
            tips = "".join(f"<li>{escape(s[:400])}</li>" for s in r.suggestions[:4])
            lines.append(
                f"round {r.round}: {escape(r.author)}, code {escape(src)}, run {escape(r.run or '-')}; "
                f"<b>{verdict}</b>{' by ' + escape(r.reviewer) if r.reviewer else ''}"
                + (f"<ul>{tips}</ul>" if tips else "")
                + f' <span class="muted">{escape(r.script)}</span>'
            )
            usage = usage.add(r.usage)
        out = {
            k: v
            for k, v in ev.output.items()
            if k
            not in (
                "rows",
                "background",
                "samples",
                "notes",
                "candidates",
                "cv_grid",
                "genes",
                "coefficients",
            )
        }
        rows.append([escape(task.role), f"{escape(ev.unit)} (visit {ev.visit})", "<br>".join(lines),
                     f"<code>{escape(json.dumps(out, default=str)[:500])}</code>", f"{ev.duration_s:.1f} s",
                     escape(_cost(usage))])
        classes.append("" if ev.status == "approved" else "rejected")
    head = (f"<h3>{escape(title)}</h3><p>{escape(task.role)}: {escape(task.status)}"
            + (f" - {escape(task.note)}" if task.note else "")
            + f"; {task.backtracks} backtrack(s); code reuse {escape(_reuse(task.reuse_counts()))}; "
            f"{task.duration_s:.0f} s; LLM {escape(_cost(task.total_usage()))}</p>")
    return head + _html_table(
        ["role", "step", "rounds, verdicts, suggestions", "output", "time", "LLM"], rows, classes
    )


def _selection_html(task: TaskJournal | None, entry: ProblemEntry) -> str:
    sel = (task.result.get("select_cohorts") if task else None) or {}
    parts = [
        f"<p><b>{escape(entry.cohort or 'no cohort')}</b>"
        + (
            f" with condition cohort <b>{escape(entry.condition_cohort)}</b>"
            if entry.condition_cohort
            else ""
        )
        + f": {escape(str(sel.get('reason', entry.note)))}</p>"
    ]
    cands = sel.get("candidates") or []
    if cands and isinstance(cands[0], dict):
        keys = [k for k in cands[0] if isinstance(k, str)]
        parts.append(_table(keys, [[str(c.get(k)) for k in keys] for c in cands[:20]]))
    return "".join(parts)


def _genes_html(paths: RunPaths, entry: ProblemEntry) -> tuple[str, list[Plot]]:
    if not entry.output or not (paths.out / entry.output).is_file():
        return f'<p class="note">No gene list: {escape(entry.note)}</p>', []
    data = json.loads((paths.out / entry.output).read_text())
    sig = data["significant_genes"]
    prov = data.get("provenance", {})
    genes, coefs = sig["Variable"], sig["Coefficient"]
    plots = [p for p in (gene_plot(genes, coefs), cv_plot(prov.get("cv_grid", []), prov.get("penalty"))) if p]
    facts = [("model", f"{prov.get('model')} with penalty {prov.get('penalty')}"),
             ("data", f"{prov.get('n_samples')} samples x {prov.get('n_genes')} genes"),
             ("genes", str(len(genes)))]
    if prov.get("condition_coefficient") is not None:
        facts.append(("condition coefficient", f"{prov['condition_coefficient']:.4g}"))
    html = [_facts(facts)]
    cv = data.get("cv_performance", {})
    chosen = next(
        (r for r in prov.get("cv_grid", []) if np.isclose(r["penalty"], prov.get("penalty", -1))), None
    )
    rows = []
    for group in ("prediction", "selection"):
        for k, v in (cv.get(group) or {}).items():
            folds = [f.get(k) for f in (chosen or {}).get(f"fold_{group}", []) if f.get(k) is not None]
            spread = f"{np.std(folds):.3g} ({', '.join(f'{x:.3g}' for x in folds)})" if folds else "-"
            rows.append([group, k, "-" if v is None else f"{v:.4g}", spread])
    html.append(
        "<h3>Cross-validation (chosen penalty)</h3>" + _table(["kind", "metric", "mean", "SD (folds)"], rows)
    )
    html += [_figure(p) for p in plots]
    gene_rows = [[str(i), g, f"{c:+.4g}"] for i, (g, c) in enumerate(zip(genes[:200], coefs[:200]), 1)]
    html.append("<h3>Genes</h3>" + (_table(["rank", "gene", "coefficient"], gene_rows) if gene_rows
                                     else '<p class="muted">The fit selected no gene.</p>'))
    if prov.get("notes"):
        html.append(
            "<details><summary>notes</summary><ul>"
            + "".join(f"<li>{escape(str(n))}</li>" for n in prov["notes"])
            + "</ul></details>"
        )
    return "".join(html), plots


def problem_page(paths: RunPaths, journal: TeamJournal, problem: Problem, entry: ProblemEntry) -> str:
    task = _load_task(paths, entry.journal)
    cond = problem.condition
    body = [f"<h1>{escape(problem.trait)} | condition {escape(str(cond))}</h1>",
            (f'<p class="muted">{escape(problem.kind.replace("_", " "))} problem &middot; '
            f'<a href="../report.html">all problems</a></p>'),
            _facts([("outcome", entry.note), ("time (statistician)", f"{entry.duration_s:.0f} s"),
                    ("LLM (statistician)", _cost(entry.usage))])]
    traits = [problem.trait] + ([cond] if problem.kind == "two_step" else [])
    for t in traits:
        body += [f"<h2>Cohorts of {escape(t)}</h2>", cohort_table(paths, journal, t)]
    body += ["<h2>Chosen cohort(s) and why</h2>", _selection_html(task, entry)]
    genes_html, _ = _genes_html(paths, entry)
    body += ["<h2>Gene list</h2>", genes_html]
    body.append("<h2>Traces</h2>")
    body.append(trace_html(task, f"statistician: {problem.trait} | {cond}"))
    for t in traits:
        for e in sorted((e for e in journal.cohorts.values() if e.trait == t), key=lambda e: e.folder):
            body.append(trace_html(_load_task(paths, e.journal), f"{t} / {e.folder}"))
    return _page(f"omicsagent expression team: {problem.trait} | {cond}", body)


def index_page(
    paths: RunPaths, journal: TeamJournal, problems: ProblemSet, links: dict[Problem, Path]
) -> str:
    s = journal.settings
    total = Usage()
    for e in [*journal.cohorts.values(), *journal.problems.values()]:
        total = total.add(e.usage)
    reuse: dict[str, int] = {}
    for e in journal.cohorts.values():
        for k, v in e.reuse.items():
            reuse[k] = reuse.get(k, 0) + v
    body = ["<h1>omicsagent expression team</h1>",
            f'<p class="muted">{escape(str(paths.out))}</p>',
            _facts([("problems file", str(s.get("problems"))), ("cohort root", str(s.get("cohorts"))),
                    ("brains", ", ".join(f"{r}: {b.get('model', b.get('brain'))}" for r, b in
                                         (s.get("brains") or {}).items())),
                    ("guidelines", ", ".join(f"{r} {g['digest']} ({g['source']})" for r, g in
                                             (s.get("guidelines") or {}).items())),
                    ("time", f"{journal.elapsed_s:.0f} s (this session)"), ("LLM", _cost(total)),
                    ("code reuse (cohort units)", _reuse(reuse)), ("sandbox", str(s.get("sandbox")))])]
    if journal.notes:
        body.append("<h2>PI</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in journal.notes) + "</ul>")
    body.append("<h2>Problems</h2>")
    rows = []
    for p in problems.problems:
        e = journal.problems.get(f"{p.trait}/{p.condition}")
        if e is None:
            continue
        link = links.get(p)
        name = (
            f'<a href="{escape(str(link.relative_to(paths.team)))}">{escape(p.trait)}</a>'
            if link
            else escape(p.trait)
        )
        cohorts = escape((e.cohort or "-") + (f" + {e.condition_cohort}" if e.condition_cohort else ""))
        rows.append([name, escape(str(p.condition)), escape(p.kind.replace("_", " ")), cohorts,
                     "-" if e.n_genes is None else str(e.n_genes), escape(e.note)[:300]])
    body.append(_html_table(["trait", "condition", "kind", "cohort(s)", "genes", "outcome"], rows))
    body.append("<h2>Cohorts</h2>")
    for t in problems.preprocess_traits:
        body += [f"<h3>{escape(t)}</h3>", cohort_table(paths, journal, t)]
    return _page("omicsagent expression team", body)


def write_reports(paths: RunPaths, journal: TeamJournal, problems: ProblemSet) -> list[Path]:
    links: dict[Problem, Path] = {}
    written = []
    for p in problems.problems:
        entry = journal.problems.get(f"{p.trait}/{p.condition}")
        if entry is None:
            continue
        path = paths.problem_report(p.trait, p.condition)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(problem_page(paths, journal, p, entry))
        links[p] = path
        written.append(path)
    paths.report.parent.mkdir(parents=True, exist_ok=True)
    paths.report.write_text(index_page(paths, journal, problems, links))
    return [paths.report, *written]


def cohort_entries(journal: TeamJournal, trait: str) -> list[CohortEntry]:
    return [e for e in journal.cohorts.values() if e.trait == trait]
