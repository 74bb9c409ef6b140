"""The task card: a readable summary of what omicsagent detected, for the terminal and for reports."""
from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from omicsagent.ml.metrics import get_metric
from omicsagent.tasks.task import Task

ROLE_STYLE = {"target": "bold green", "leak": "bold red", "identifier": "dim", "group": "yellow",
              "metadata": "dim", "constant": "dim", "empty": "dim"}


def task_card(task: Task, *, max_columns: int = 40) -> Panel:
    """Every cell is a ``Text``: column names, reasons and the task name print as typed, never as markup."""
    metric = get_metric(task.metric)
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()

    def row(label: str, value: str) -> None:
        head.add_row(label, Text(value))

    sizes = f"train {task.n_train}"
    sizes += (
        f", validation {task.n_validation}"
        if task.n_validation
        else ", validation: split from train by the loop"
    )
    sizes += f", test {task.n_test} (hidden from the agent)" if task.n_test else ""
    row("rows", sizes)
    row("target", f"{task.target}  ({task.target_reason})")
    kind = task.task_type + (f", classes {', '.join(map(str, task.classes[:10]))}" if task.classes else "")
    row("task type", f"{kind}  ({task.task_type_reason})")
    row("metric", f"{metric.label} ({metric.direction})")
    if task.group_column:
        row("groups", f"{task.group_column}: validation split keeps groups apart")
    if task.n_dropped_missing_target:
        row("dropped", f"{task.n_dropped_missing_target} rows with a missing target")

    cols = Table(show_edge=False, header_style="bold", pad_edge=False)
    cols.add_column("column")
    cols.add_column("role")
    cols.add_column("why")
    genes = task.gene_columns
    shown = sorted(
        (c for c in task.columns if c.role != "gene"),
        key=lambda c: (c.role != "target", c.role not in ("leak",), not c.is_feature),
    )
    if genes:
        source = f"layer '{task.layer}'" if task.layer else "X"
        cols.add_row(Text(f"{len(genes)} genes ({', '.join(genes[:3])}, ...)"), Text("gene", style="cyan"),
                     Text(f"expression from {source}: the features"))
    for c in shown[:max_columns]:
        cols.add_row(Text(c.name), Text(c.role, style=ROLE_STYLE.get(c.role, "cyan")), Text(c.reason))
    if len(shown) > max_columns:
        rest = shown[max_columns:]
        roles = sorted({c.role for c in rest})
        cols.add_row(Text(f"... {len(rest)} more"), Text(", ".join(roles)), "")
    parts = [head, Text(""), cols]
    leaks = [c.name for c in task.columns if c.role == "leak"]
    if leaks:
        parts += [
            Text(""),
            Text(f"Leakage suspects excluded from features: {', '.join(leaks)}", style="bold red"),
        ]
    for w in task.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    return Panel(Group(*parts), title=Text(f"task: {task.name}"), expand=False)


def task_card_markdown(task: Task) -> str:
    metric = get_metric(task.metric)
    lines = [f"- **target**: `{task.target}` ({task.target_reason})",
             f"- **task type**: {task.task_type} ({task.task_type_reason})",
             f"- **metric**: {metric.label} ({metric.direction})",
             f"- **rows**: train {task.n_train}, validation {task.n_validation or 'split from train'}, "
             f"test {task.n_test or 'none'}"]
    feats = [f"`{c.name}` ({c.role})" for c in task.feature_columns if c.role != "gene"]
    if task.gene_columns:
        feats.insert(0, f"{len(task.gene_columns)} genes ({'layer ' + task.layer if task.layer else 'X'})")
    lines.append(
        f"- **features** ({len(feats)}): " + ", ".join(feats[:30]) + (" ..." if len(feats) > 30 else "")
    )
    excl = task.excluded_columns
    if excl:
        lines.append("- **excluded columns**:")
        lines += [f"  - `{c.name}`: {c.role}, {c.reason}" for c in excl]
    return "\n".join(lines)
