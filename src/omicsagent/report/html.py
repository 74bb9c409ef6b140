"""``report.html``: one self-contained file (inline CSS, figures as base64 PNG, no script, no network
load)."""
from __future__ import annotations

import base64
from html import escape

from omicsagent.ml.metrics import get_metric
from omicsagent.report import content
from omicsagent.report.data import PER_LABEL_HEADER, RunData, fmt_metric, iteration_rows
from omicsagent.report.plots import Plot
from omicsagent.report.tree import tree_svg

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1180px;
padding:1.5rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0}td{overflow-wrap:break-word}
.wide{overflow-x:auto;max-width:100%}
th,td{border:1px solid #ddd;padding:.25rem .5rem;vertical-align:top;text-align:left}
th{background:#f4f4f4}tr.best td{background:#fff6e0}tr.failed td{color:#8a1c1c}
table.facts th{width:11rem}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4rem .8rem;margin:.4rem 0}
.test{background:#eef6ff;border-left:4px solid #1f77b4;padding:.4rem .8rem}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}
pre{background:#f6f6f6;padding:.5rem;overflow-x:auto}code{font-family:ui-monospace,Menlo,Consolas,monospace}
.muted{color:#777}
"""


def _table(header: list[str], rows: list[list[str]], *, row_classes: list[str] | None = None,
           cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        rc = row_classes[i] if row_classes else ""
        cells = "".join(f"<td>{escape(str(c))}</td>" for c in row)
        body.append(f'<tr class="{rc}">{cells}</tr>' if rc else f"<tr>{cells}</tr>")
    cls_attr = f' class="{cls}"' if cls else ""
    return f"<table{cls_attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _facts(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts"><tbody>{body}</tbody></table>'


def _figure(plot: Plot) -> str:
    b64 = base64.b64encode(plot.png).decode("ascii")
    return (f'<figure id="fig-{plot.key}"><img alt="{escape(plot.title)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{escape(plot.caption)}</figcaption></figure>")


def _task_card(data: RunData) -> str:
    task = data.journal.task
    metric = get_metric(task.metric)
    sizes = f"train {task.n_train}, validation {task.n_validation or 'split from train by the loop'}"
    sizes += f", test {task.n_test} (hidden from the agent)" if task.n_test else ", no test file"
    kind = task.task_type + (f"; classes {', '.join(map(str, task.classes[:20]))}" if task.classes else "")
    facts = [("target", f"{task.target} ({task.target_reason})" if task.target_reason else task.target),
             ("task type", f"{kind} ({task.task_type_reason})" if task.task_type_reason else kind),
             ("metric", f"{metric.label} ({metric.direction})"), ("rows", sizes)]
    if task.group_column:
        facts.append(("groups", f"{task.group_column}: the validation split keeps groups apart"))
    split = data.journal.split
    if split is not None:
        facts.append(
            (
                "validation split",
                f"{split.method}: {split.n_train} train / {split.n_validation} validation rows"
                + (f", grouped by {split.grouped_by}" if split.grouped_by else "")
                + (", stratified" if split.stratified else ""),
            )
        )
    feats = task.feature_columns
    facts.append(("features", f"{len(feats)}: " + ", ".join(f"{c.name} ({c.role})" for c in feats[:30])
                  + (" ..." if len(feats) > 30 else "")))
    parts = [_facts(facts)]
    excluded = task.excluded_columns
    if excluded:
        parts.append("<h3>Excluded columns</h3>")
        parts.append(_table(["column", "role", "why"], [[c.name, c.role, c.reason] for c in excluded]))
    else:
        parts.append('<p class="muted">No column was excluded.</p>')
    parts += [f'<p class="note">warning: {escape(w)}</p>' for w in task.warnings]
    if task.description:
        parts.append(f"<details><summary>description.md</summary><pre>{escape(task.description)}</pre></details>")
    return "".join(parts)


def render_html(data: RunData, plots: list[Plot]) -> str:
    j = data.journal
    by_key = {p.key: p for p in plots}
    out = [f"<h1>omicsagent run report: {escape(j.task.name)}</h1>",
           f'<p class="muted">run {escape(j.run_id)} &middot; {escape(str(data.run_dir))}</p>',
           _facts(content.headline(data))]
    if data.missing:
        out.append("<h2>Missing pieces</h2>")
        out += [f'<p class="note">{escape(m)}</p>' for m in data.missing]

    out += ["<h2>Task</h2>", _task_card(data)]

    out.append("<h2>Iterations</h2>")
    rows = iteration_rows(j)
    if rows:
        header = list(rows[0])
        label = data.metric.label
        header = [
            f"train {label}" if h == "train" else f"validation {label}" if h == "validation" else h
            for h in header
        ]
        classes = [
            "best" if r["#"].endswith("(best)") else "failed" if r["status"] == "failed" else "" for r in rows
        ]
        out.append(
            '<div class="wide">'
            + _table(header, [list(r.values()) for r in rows], row_classes=classes)
            + "</div>"
        )
    else:
        out.append('<p class="note">No iteration has run yet.</p>')
    if "metric_history" in by_key:
        out.append(_figure(by_key["metric_history"]))
    svg = tree_svg(j)
    if svg:
        out.append("<h3>Search tree</h3>")
        out.append(f'<figure class="wide">{svg}<figcaption>Each node is an iteration, linked to the '
                   "iteration it builds on (dashed from start: a fresh draft); hover a node for its plan and "
                   "score.</figcaption></figure>")

    out.append("<h2>Best model</h2>")
    best = data.best
    if best is None:
        out.append('<p class="note">No iteration succeeded, so there is no best model.</p>')
    else:
        out.append(f"<p>Iteration {best.index}: <b>{escape(best.model or '?')}</b> on "
                   f"<b>{escape(best.representation or '?')}</b>. {escape(best.summary)}</p>")
        if best.hyperparameters:
            out.append(
                _table(["hyperparameter", "value"], [[k, str(v)] for k, v in best.hyperparameters.items()])
            )
        for note in content.honesty_notes(data):
            out.append(f'<p class="note">{escape(note)}</p>')
        out.append(f"<p>Selection: {escape(content.selection_text(data))}.</p>")
        out.append("<h3>Validation metrics</h3>")
        out.append(_metrics_table(best.validation_metrics, best.train_metrics, primary=j.task.metric))
        if data.per_label:
            out.append("<h3>Validation metrics per label</h3>")
            out.append(_table(PER_LABEL_HEADER, data.per_label))
        for key in ("roc_pr", "confusion", "calibration", "regression", "importance"):
            if key in by_key:
                out.append(f"<h3>{escape(by_key[key].title)}</h3>")
                out.append(_figure(by_key[key]))
        if data.importances:
            if "importance" not in by_key:
                out.append(f"<h3>Top {len(data.importances)} features</h3>")
            if data.importance_meaning:
                out.append(f'<p class="muted">Importance: {escape(data.importance_meaning)}.</p>')
            out.append(_table(["feature", "importance"], [[n, f"{v:.4g}"] for n, v in data.importances],
                              cls="importances"))

    out.append("<h2>Test set (held out)</h2>")
    if j.test_metrics:
        who = f" using iteration {j.test_iteration}'s model" if j.test_iteration is not None else ""
        out.append(
            f'<div class="test"><p>Scored by the harness on the hidden test set{escape(who)}; '
            "the agent never saw these labels. "
            "These numbers are separate from the validation numbers above. "
            f"The run's metric: {escape(data.metric.label)} "
            f"{escape(fmt_metric(j.test_metrics.get(j.task.metric)))}"
            f"{escape(content.interval_text(data, 'test'))}"
            f"{'; the model was refit on every labelled row' if content.refit_done(data) else ''}.</p>"
            + _table(
                ["metric", "test"],
                [list(r) for r in content.metric_rows(j.test_metrics, primary=j.task.metric)],
            )
            + "</div>"
        )
    else:
        out.append(
            '<p class="muted">No test metrics: the dataset had no test file, '
            "or the run has not been scored yet.</p>"
        )

    out.append("<h2>How to rerun</h2>")
    for what, cmd in content.rerun_commands(data):
        out.append(f"<p>{escape(what)}:</p><pre><code>{escape(cmd)}</code></pre>")
    out.append(
        "<p>Files:</p>"
        + _table(["file", "present"], [[p, "yes" if ok else "MISSING"] for p, ok in content.best_files(data)])
    )
    body = "\n".join(out)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>omicsagent report: {escape(j.task.name)}</title><style>{CSS}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def _metrics_table(valid: dict[str, float], train: dict[str, float], *, primary: str) -> str:
    if not valid:
        return '<p class="note">The best iteration recorded no validation metrics.</p>'
    rows = []
    for (label, value), key in zip(content.metric_rows(valid, primary=primary),
                                   sorted(valid, key=lambda k: (k != primary, k))):
        rows.append([label, value, fmt_metric(train.get(key))])
    return _table(["metric (* = the run's metric)", "validation", "train"], rows)
