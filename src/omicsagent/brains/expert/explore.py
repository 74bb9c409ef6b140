"""The expert's look at the data and at its own validation errors (plain pandas, no generated code)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.tasks.io import read_table
from omicsagent.tasks.task import Task


def _gc(seq: pd.Series) -> pd.Series:
    s = seq.astype(str).str.upper()
    return (s.str.count("G") + s.str.count("C")) / s.str.len().clip(lower=1)


def explore_data(task: Task, train_path: Path) -> tuple[str, list[str]]:
    df = read_table(train_path)
    y = df[task.target]
    findings: list[str] = []
    if task.task_type == "regression":
        findings.append(f"target {task.target}: mean {y.mean():.3g}, sd {y.std():.3g}, range {y.min():.3g} to {y.max():.3g}")
    else:
        counts = y.value_counts()
        shares = ", ".join(f"{k}: {v} ({v / len(y):.0%})" for k, v in counts.items())
        findings.append(f"class balance: {shares}")
        if counts.min() / counts.max() < 0.3:
            findings.append("classes are imbalanced: ranking metrics (AUROC/AUPRC) are more informative than accuracy")
    for c in task.feature_columns:
        col = df[c.name]
        if c.role in ("dna", "rna", "protein"):
            lens = col.astype(str).str.len()
            note = f"{c.name}: {c.role.upper()}, length {lens.min()}-{lens.max()} (median {int(lens.median())})"
            if c.role in ("dna", "rna") and task.task_type != "regression" and len(task.classes or []) == 2:
                gc = _gc(col).groupby(y).mean()
                note += "; GC content by class " + ", ".join(f"{k}: {v:.2f}" for k, v in gc.items())
            findings.append(note)
        elif c.role == "smiles":
            findings.append(f"{c.name}: SMILES, median length {int(col.astype(str).str.len().median())}")
        elif c.role == "mutation":
            findings.append(_mutation_note(c.name, col))
    numeric = [c.name for c in task.feature_columns if c.role == "numeric"]
    if numeric:
        miss = df[numeric].apply(pd.to_numeric, errors="coerce").isna().mean()
        findings.append(f"{len(numeric)} numeric columns; {int((miss > 0).sum())} with missing values (max {miss.max():.0%})")
    cats = [c.name for c in task.feature_columns if c.role == "categorical"]
    if cats:
        findings.append(f"{len(cats)} categorical columns: {', '.join(cats[:8])}")
    excluded = task.excluded_columns
    if excluded:
        findings.append("excluded from features: " + "; ".join(f"{c.name} ({c.role})" for c in excluded[:12]))
    summary = (f"{len(df)} training rows, {len(task.feature_columns)} feature columns, "
               f"{task.task_type} target '{task.target}', metric {task.metric}.")
    return summary, findings


def _mutation_note(name: str, col: pd.Series) -> str:
    """How many variants, how many mutations each, which positions: what a variant-effect model shares."""
    from omicsagent.ml.protein import parse_mutant

    parsed = [parse_mutant(v) for v in col.tolist()]
    muts = [m for ms in parsed if ms for m in ms]
    if not muts:
        return f"{name}: mutant notation, nothing readable"
    per_row = pd.Series([len(ms) for ms in parsed if ms is not None])
    positions = pd.Series([m.position for m in muts])
    return (f"{name}: {len(per_row)} variants, {per_row.mean():.2g} mutations per variant (max {per_row.max()}), "
            f"{positions.nunique()} positions from {positions.min()} to {positions.max()}, "
            f"{len(muts) / positions.nunique():.1f} mutations per position: per-position effects can be estimated "
            f"and should be shrunk")


def explore_predictions(task: Task, validation_path: Path, pred_path: Path) -> tuple[str, list[str]]:
    valid = read_table(validation_path)
    pred = pd.read_csv(pred_path)
    y = valid[task.target]
    findings: list[str] = []
    if task.task_type == "regression":
        resid = pred["prediction"].to_numpy(dtype=float) - y.to_numpy(dtype=float)
        q = pd.qcut(y.rank(method="first"), 3, labels=["low", "middle", "high"])
        by = pd.Series(np.abs(resid)).groupby(q.to_numpy(), observed=True).mean()
        findings.append("mean absolute error by target tertile: " + ", ".join(f"{k} {v:.3g}" for k, v in by.items()))
        bias = float(np.mean(resid))
        findings.append(f"mean residual {bias:+.3g} (systematic {'over' if bias > 0 else 'under'}-prediction if large)")
        if by.get("high", 0) > 1.5 * by.get("middle", 1) or by.get("low", 0) > 1.5 * by.get("middle", 1):
            findings.append("errors concentrate at the extremes: predictions shrink towards the mean")
        return f"validation residuals of {len(y)} rows", findings
    truth = y.astype(str).to_numpy()
    guess = pred["prediction"].astype(str).to_numpy()
    wrong = truth != guess
    for cls in task.classes:
        mask = truth == str(cls)
        if mask.any():
            findings.append(f"class {cls}: recall {1 - wrong[mask].mean():.2f} ({int(mask.sum())} rows)")
    seqs = [c for c in task.feature_columns if c.role in ("dna", "rna")]
    if seqs and wrong.any():
        gc = _gc(valid[seqs[0].name])
        bins = pd.qcut(gc.rank(method="first"), 3, labels=["low GC", "mid GC", "high GC"])
        err = pd.Series(wrong).groupby(bins.to_numpy(), observed=True).mean()
        findings.append("error rate by GC content of " + seqs[0].name + ": " + ", ".join(f"{k} {v:.2f}" for k, v in err.items()))
    if len(task.classes or []) == 2:
        p = pred[f"probability_{task.classes[1]}"].to_numpy(dtype=float)
        confident_wrong = int(((p > 0.9) | (p < 0.1))[wrong].sum())
        findings.append(f"{int(wrong.sum())} errors, {confident_wrong} of them with probability beyond 0.1/0.9 (overconfident)")
    return f"{int(wrong.sum())} of {len(y)} validation rows misclassified", findings
