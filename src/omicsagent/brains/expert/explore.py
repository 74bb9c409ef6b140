"""The expert's look at the training data (plain pandas, no generated code). Its validation errors come
from the harness (``omicsagent.agent.analysis``), which alone holds the validation labels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.agent.analysis import gc_content
from omicsagent.ml.io import read_table
from omicsagent.tasks.task import Task


def explore_data(task: Task, train_path: Path) -> tuple[str, list[str]]:
    df = read_table(train_path)
    findings: list[str] = []
    if task.labels:
        y = pd.Series(dtype=float)
        parts = [f"{c}: {int((df[c] == 1).sum())}/{int(df[c].notna().sum())}" for c in task.labels]
        findings.append("positives / measured rows per label: " + ", ".join(parts))
    else:
        y = df[task.target]
    if task.labels:
        pass
    elif task.task_type == "regression":
        findings.append(
            f"target {task.target}: mean {y.mean():.3g}, sd {y.std():.3g}, "
            f"range {y.min():.3g} to {y.max():.3g}"
        )
    else:
        counts = y.value_counts()
        shares = ", ".join(f"{k}: {v} ({v / len(y):.0%})" for k, v in counts.items())
        findings.append(f"class balance: {shares}")
        if counts.min() / counts.max() < 0.3:
            findings.append(
                "classes are imbalanced: ranking metrics (AUROC/AUPRC) are more informative than accuracy"
            )
    for c in task.feature_columns:
        col = df[c.name]
        if c.role in ("dna", "rna", "protein"):
            lens = col.astype(str).str.len()
            note = (
                f"{c.name}: {c.role.upper()}, length {lens.min()}-{lens.max()} (median {int(lens.median())})"
            )
            if c.role in ("dna", "rna") and task.task_type != "regression" and len(task.classes or []) == 2:
                gc = gc_content(col).groupby(y).mean()
                note += "; GC content by class " + ", ".join(f"{k}: {v:.2f}" for k, v in gc.items())
            findings.append(note)
        elif c.role == "smiles":
            findings.append(f"{c.name}: SMILES, median length {int(col.astype(str).str.len().median())}")
        elif c.role == "mutation":
            findings.append(_mutation_note(c.name, col))
    genes = task.gene_columns
    if genes:
        findings.append(_expression_note(df, genes, task.layer))
    numeric = [c.name for c in task.feature_columns if c.role == "numeric"]
    if numeric:
        miss = df[numeric].apply(pd.to_numeric, errors="coerce").isna().mean()
        findings.append(
            f"{len(numeric)} numeric columns; {int((miss > 0).sum())} with missing values "
            f"(max {miss.max():.0%})"
        )
    cats = [c.name for c in task.feature_columns if c.role == "categorical"]
    if cats:
        findings.append(f"{len(cats)} categorical columns: {', '.join(cats[:8])}")
    excluded = task.excluded_columns
    if excluded:
        findings.append("excluded from features: " + "; ".join(f"{c.name} ({c.role})" for c in excluded[:12]))
    summary = (f"{len(df)} training rows, {len(task.feature_columns)} feature columns, "
               f"{task.task_type} target '{task.target}', metric {task.metric}.")
    return summary, findings


def _expression_note(df: pd.DataFrame, genes: list[str], layer: str | None) -> str:
    """What the expression matrix holds: raw counts (normalised and log-transformed in the features) or
    values already transformed (used as they are), how sparse it is, how deep the cells are. A sparse matrix
    is read as one (never densified)."""
    from scipy import sparse

    from omicsagent.ml.io import gene_matrix
    from omicsagent.ml.singlecell import cell_totals, looks_like_counts

    x = gene_matrix(df, genes)
    source = f"layer '{layer}'" if layer else "X"
    nonzero = x.count_nonzero() if sparse.issparse(x) else np.count_nonzero(x)
    zeros = 1.0 - nonzero / max(x.shape[0] * x.shape[1], 1)
    if looks_like_counts(x):
        depth = float(np.median(cell_totals(x)))
        kind = (f"raw counts (median {depth:.0f} per cell): the features normalise each cell to the median "
                "total and log1p-transform")
    else:
        kind = (f"already transformed values (range {x.min():.3g} to {x.max():.3g}): used as they are, "
                "no normalisation")
    how = ", stored sparse" if sparse.issparse(x) else ""
    return f"{len(genes)} genes from {source}{how}, {zeros:.0%} zeros; {kind}"


def _mutation_note(name: str, col: pd.Series) -> str:
    """How many variants, how many mutations each, which positions: what a variant-effect model shares."""
    from omicsagent.ml.protein import parse_mutant

    parsed = [parse_mutant(v) for v in col.tolist()]
    muts = [m for ms in parsed if ms for m in ms]
    if not muts:
        return f"{name}: mutant notation, nothing readable"
    per_row = pd.Series([len(ms) for ms in parsed if ms is not None])
    positions = pd.Series([m.position for m in muts])
    return (
        f"{name}: {len(per_row)} variants, {per_row.mean():.2g} mutations per variant (max {per_row.max()}), "
        f"{positions.nunique()} positions from {positions.min()} to {positions.max()}, "
        f"{len(muts) / positions.nunique():.1f} mutations per position: per-position effects can be "
        f"estimated and should be shrunk"
    )

