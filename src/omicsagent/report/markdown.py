"""``report.md``: a Markdown summary of the run (numbers and tables; the figures are in report.html)."""
from __future__ import annotations

from omicsagent.report import content
from omicsagent.report.data import PER_LABEL_HEADER, RunData, fmt_metric, iteration_rows
from omicsagent.tasks.card import task_card_markdown
from omicsagent.report.tree import tree_outline


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: RunData, *, figures_in: str | None = "report.html") -> str:
    j = data.journal
    label = data.metric.label
    out = [f"# omicsagent run report: {j.task.name}", ""]
    out += [f"- **{k}**: {v}" for k, v in content.headline(data)]
    if figures_in:
        out += ["", f"The figures are in `{figures_in}`."]
    if data.missing:
        out += ["", "## Missing pieces", ""]
        out += [f"- {m}" for m in data.missing]

    out += ["", "## Task", "", task_card_markdown(j.task)]
    for w in j.task.warnings:
        out.append(f"- warning: {w}")

    out += ["", "## Iterations", ""]
    rows = iteration_rows(j)
    if rows:
        header = [f"train {label}" if h == "train" else f"validation {label}" if h == "validation" else h
                  for h in rows[0]]
        out.append(_table(header, [list(r.values()) for r in rows]))
        outline = tree_outline(j)
        if outline:
            out += ["", "Search tree (each iteration under the one it builds on):", "", *outline]
    else:
        out.append("No iteration has run yet.")

    out += ["", "## Best model", ""]
    best = data.best
    if best is None:
        out.append("No iteration succeeded, so there is no best model.")
    else:
        out.append(
            (
                f"Iteration {best.index}: **{best.model or '?'}** on **{best.representation or '?'}**. "
                f"{best.summary}"
            ).rstrip()
        )
        if best.hyperparameters:
            out += [
                "",
                "Hyperparameters: " + ", ".join(f"`{k}={v}`" for k, v in best.hyperparameters.items()),
            ]
        out += [""] + [f"{note}\n" for note in content.honesty_notes(data)]
        out += [f"Selection: {content.selection_text(data)}."]
        out += ["", "### Validation metrics", ""]
        if best.validation_metrics:
            keys = sorted(best.validation_metrics, key=lambda k: (k != j.task.metric, k))
            rows_m = [
                [lab, val, fmt_metric(best.train_metrics.get(k))]
                for (lab, val), k in zip(
                    content.metric_rows(best.validation_metrics, primary=j.task.metric), keys
                )
            ]
            out.append(_table(["metric (* = the run's metric)", "validation", "train"], rows_m))
        else:
            out.append("The best iteration recorded no validation metrics.")
        if data.per_label:
            out += ["", "### Validation metrics per label", ""]
            out.append(_table(PER_LABEL_HEADER, data.per_label))
        if data.importances:
            out += ["", f"### Top {len(data.importances)} features", ""]
            if data.importance_meaning:
                out += [f"Importance: {data.importance_meaning}.", ""]
            out.append(_table(["feature", "importance"], [[n, f"{v:.4g}"] for n, v in data.importances]))

    out += ["", "## Test set (held out)", ""]
    if j.test_metrics:
        who = f" using iteration {j.test_iteration}'s model" if j.test_iteration is not None else ""
        out.append(f"Scored by the harness on the hidden test set{who}; the agent never saw these labels. "
                   f"The run's metric: {data.metric.label} {fmt_metric(j.test_metrics.get(j.task.metric))}"
                   f"{content.interval_text(data, 'test')}"
                   f"{'; the model was refit on every labelled row' if content.refit_done(data) else ''}.")
        out += [
            "",
            _table(
                ["metric", "test"],
                [list(r) for r in content.metric_rows(j.test_metrics, primary=j.task.metric)],
            ),
        ]
    else:
        out.append("No test metrics: the dataset had no test file, or the run has not been scored yet.")

    out += ["", "## How to rerun", ""]
    for what, cmd in content.rerun_commands(data):
        out += [f"{what}:", "", "```sh", cmd, "```", ""]
    out.append(
        "Files: " + ", ".join(f"`{p}`" + ("" if ok else " (MISSING)") for p, ok in content.best_files(data))
    )
    return "\n".join(out) + "\n"
