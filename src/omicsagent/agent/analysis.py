"""Where an iteration's validation predictions go wrong, computed by the harness with its private labels.

Brains never see validation labels; they get this summary (per-class recall, residuals by target range,
errors by GC content, overconfident mistakes) in the prediction-exploration and reflection steps.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from omicsagent.tasks.task import Task


def gc_content(seq: pd.Series) -> pd.Series:
    s = seq.astype(str).str.upper()
    return (s.str.count("G") + s.str.count("C")) / s.str.len().clip(lower=1)


def _label_errors(task: Task, valid: pd.DataFrame, pred: pd.DataFrame) -> dict:
    """Multi-label: AUROC per label on its measured rows, weakest first."""
    from omicsagent.ml.metrics import per_label_scores

    truth = valid[task.labels].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    proba = pred[[f"probability_{c}" for c in task.labels]].to_numpy(dtype=float)
    rows = sorted(zip(task.labels, per_label_scores(truth, proba)),
                  key=lambda lr: (np.isnan(lr[1]["auroc"]), lr[1]["auroc"]))
    findings = ["validation AUROC per label (weakest first): " + ", ".join(
        f"{name} {r['auroc']:.3f} ({r['positives']}/{r['n']} positive)" for name, r in rows)]
    return {"summary": f"validation predictions of {len(valid)} rows for {len(task.labels)} labels",
            "findings": findings}


def validation_errors(task: Task, valid: pd.DataFrame, pred: pd.DataFrame) -> dict:
    """``{"summary": str, "findings": [str, ...]}`` for predictions ``pred`` of the labelled rows
    ``valid``."""
    findings: list[str] = []
    if task.labels:
        return _label_errors(task, valid, pred)
    y = valid[task.target]
    if task.task_type == "regression":
        if len(y) < 3:
            return {"summary": f"validation residuals of {len(y)} rows (too few to analyse)", "findings": []}
        resid = pred["prediction"].to_numpy(dtype=float) - y.to_numpy(dtype=float)
        q = pd.qcut(y.rank(method="first"), 3, labels=["low", "middle", "high"])
        by = pd.Series(np.abs(resid)).groupby(q.to_numpy(), observed=True).mean()
        findings.append(
            "mean absolute error by target tertile: " + ", ".join(f"{k} {v:.3g}" for k, v in by.items())
        )
        bias = float(np.mean(resid))
        findings.append(
            f"mean residual {bias:+.3g} (systematic {'over' if bias > 0 else 'under'}-prediction if large)"
        )
        if by.get("high", 0) > 1.5 * by.get("middle", 1) or by.get("low", 0) > 1.5 * by.get("middle", 1):
            findings.append("errors concentrate at the extremes: predictions shrink towards the mean")
        return {"summary": f"validation residuals of {len(y)} rows", "findings": findings}
    truth = y.astype(str).to_numpy()
    guess = pred["prediction"].astype(str).to_numpy()
    wrong = truth != guess
    for cls in task.classes or []:
        mask = truth == str(cls)
        if mask.any():
            findings.append(f"class {cls}: recall {1 - wrong[mask].mean():.2f} ({int(mask.sum())} rows)")
    seqs = [c for c in task.feature_columns if c.role in ("dna", "rna")]
    if seqs and wrong.any() and len(y) >= 3:
        gc = gc_content(valid[seqs[0].name])
        bins = pd.qcut(gc.rank(method="first"), 3, labels=["low GC", "mid GC", "high GC"])
        err = pd.Series(wrong).groupby(bins.to_numpy(), observed=True).mean()
        findings.append("error rate by GC content of " + seqs[0].name + ": "
                        + ", ".join(f"{k} {v:.2f}" for k, v in err.items()))
    if len(task.classes or []) == 2:
        p = pred[f"probability_{task.classes[1]}"].to_numpy(dtype=float)
        confident_wrong = int(((p > 0.9) | (p < 0.1))[wrong].sum())
        findings.append(
            f"{int(wrong.sum())} errors, {confident_wrong} of them with probability beyond 0.1/0.9 "
            "(overconfident)"
        )
    return {"summary": f"{int(wrong.sum())} of {len(y)} validation rows misclassified", "findings": findings}
