"""The report's figures, drawn with matplotlib's object API (Agg, no pyplot state) into PNG bytes.

Each function takes plain data and returns a ``Plot`` or ``None`` when the data cannot make that figure
(for example a validation set holding a single class).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from omicsagent.agent.journal import RunJournal
from omicsagent.report.data import BestPredictions, RunData

DPI = 100
MAX_CURVES = 10  # one-vs-rest curves drawn for multiclass tasks; more would be unreadable
MAX_ANNOTATED_CLASSES = 15


@dataclass(frozen=True)
class Plot:
    key: str  # stable identifier, also the PNG's file stem
    title: str
    caption: str
    png: bytes


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def all_plots(data: RunData) -> list[Plot]:
    """Every figure the run's data allows, in report order."""
    plots = [metric_history(data.journal)]
    pred = data.predictions
    if pred is not None and pred.classes is not None:
        plots += [roc_pr(pred), confusion(pred), calibration(pred)]
    elif pred is not None:
        plots.append(regression(pred))
    if data.importances:
        plots.append(importance(data.importances))
    return [p for p in plots if p is not None]


def metric_history(journal: RunJournal) -> Plot | None:
    name = journal.task.metric
    metric = journal.metric
    its = journal.iterations
    if not any(name in it.validation_metrics or name in it.train_metrics for it in its):
        return None
    x = [it.index for it in its]
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    for which, style, color, label in (("train_metrics", "o--", "#8c8c8c", "train"),
                                       ("validation_metrics", "o-", "#1f77b4", "validation")):
        pts = [(it.index, getattr(it, which)[name]) for it in its
               if name in getattr(it, which) and np.isfinite(getattr(it, which)[name])]
        if pts:  # failed iterations have no value: connect the ones that do
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=color, label=label)
    for it in its:
        if it.status == "failed":
            ax.axvline(it.index, color="#d62728", alpha=0.25, lw=6)
    best = journal.best_iteration
    if best is not None and name in best.validation_metrics:
        ax.plot([best.index], [best.validation_metrics[name]], marker="*", ms=18, color="#ff7f0e",
                ls="none", label=f"best (iteration {best.index})")
    ax.set_xticks(x)
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"{metric.label} ({metric.direction})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    caption = (
        f"{metric.label} on the training split and on validation for each iteration; the star marks the best."
    )
    if any(it.status == "failed" for it in its):
        caption += " Red bands mark failed iterations."
    return Plot("metric_history", "Metric per iteration", caption, _png(fig))


def _curve_targets(pred: BestPredictions) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, 0/1 truth, score) per curve: the positive class for binary, one-vs-rest otherwise."""
    assert pred.classes is not None and pred.proba is not None
    if len(pred.classes) == 2:
        pos = pred.classes[1]
        return [(f"positive class {pos}", (pred.y_true == pos).astype(int), pred.proba[:, 1])]
    out = []
    for i, c in enumerate(pred.classes[:MAX_CURVES]):
        y = (pred.y_true == c).astype(int)
        if 0 < y.sum() < len(y):
            out.append((f"{c} vs rest", y, pred.proba[:, i]))
    return out


def roc_pr(pred: BestPredictions) -> Plot | None:
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    if pred.proba is None:
        return None
    targets = [t for t in _curve_targets(pred) if 0 < t[1].sum() < len(t[1])]
    if not targets:
        return None
    fig = Figure(figsize=(10, 4))
    ax_roc, ax_pr = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for label, y, score in targets:
        fpr, tpr, _ = roc_curve(y, score)
        ax_roc.plot(fpr, tpr, label=f"{label} (AUC {auc(fpr, tpr):.3f})")
        precision, recall, _ = precision_recall_curve(y, score)
        ax_pr.step(recall, precision, where="post", label=f"{label} (prevalence {y.mean():.2f})")
    ax_roc.plot([0, 1], [0, 1], ":", color="grey")
    ax_roc.set(
        xlabel="false positive rate", ylabel="true positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.02)
    )
    ax_pr.set(xlabel="recall", ylabel="precision", title="precision-recall", xlim=(0, 1), ylim=(0, 1.02))
    for ax in (ax_roc, ax_pr):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right" if ax is ax_roc else "lower left")
    kind = "binary" if len(pred.classes or []) == 2 else "one-vs-rest"
    caption = f"ROC and precision-recall curves ({kind}) of the best model on the validation set."
    if len(pred.classes or []) > MAX_CURVES:
        caption += f" Only the first {MAX_CURVES} classes are drawn."
    return Plot("roc_pr", "ROC and precision-recall", caption, _png(fig))


def confusion(pred: BestPredictions) -> Plot | None:
    classes = pred.classes or sorted(set(pred.y_true) | set(pred.y_pred))
    if not classes:
        return None
    index = {c: i for i, c in enumerate(classes)}
    mat = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(pred.y_true, pred.y_pred):
        if t in index and p in index:
            mat[index[t], index[p]] += 1
    side = min(3.5 + 0.4 * len(classes), 10)
    fig = Figure(figsize=(side + 1, side))
    ax = fig.add_subplot()
    im = ax.imshow(mat, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_xticks(
        range(len(classes)),
        classes,
        rotation=45 if len(classes) > 4 else 0,
        ha="right" if len(classes) > 4 else "center",
    )
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix")
    if len(classes) <= MAX_ANNOTATED_CLASSES:
        top = mat.max() if mat.size else 0
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, str(mat[i, j]), ha="center", va="center", fontsize=9,
                        color="white" if top and mat[i, j] > top / 2 else "black")
    return Plot(
        "confusion",
        "Confusion matrix",
        "Counts of true (rows) against predicted (columns) classes on the validation set.",
        _png(fig),
    )


def calibration(pred: BestPredictions, *, bins: int = 10) -> Plot | None:
    """Reliability diagram for binary tasks: mean predicted probability vs observed frequency per bin."""
    if pred.proba is None or len(pred.classes or []) != 2:
        return None
    y = (pred.y_true == pred.classes[1]).astype(float)
    p = np.clip(pred.proba[:, 1], 0, 1)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    mean_p, freq, count = [], [], []
    for b in range(bins):
        sel = which == b
        if sel.any():
            mean_p.append(p[sel].mean())
            freq.append(y[sel].mean())
            count.append(int(sel.sum()))
    fig = Figure(figsize=(5, 4.2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    ax.plot(mean_p, freq, "o-", label="best model")
    for x, f, n in zip(mean_p, freq, count):
        ax.annotate(str(n), (x, f), textcoords="offset points", xytext=(4, -10), fontsize=7, color="#555")
    ax.set(xlabel=f"mean predicted probability of {pred.classes[1]}", ylabel="observed frequency",
           title="calibration", xlim=(0, 1), ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return Plot(
        "calibration",
        "Calibration",
        f"Predicted probability against observed frequency in {bins} bins (numbers: rows per bin).",
        _png(fig),
    )


def regression(pred: BestPredictions) -> Plot | None:
    if len(pred.y_true) == 0:
        return None
    t, p = pred.y_true, pred.y_pred
    resid = p - t
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    ax1.scatter(t, p, s=10, alpha=0.6)
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    ax1.plot([lo, hi], [lo, hi], ":", color="grey")
    ax1.set(xlabel="true", ylabel="predicted", title="predicted vs true")
    ax2.scatter(p, resid, s=10, alpha=0.6, color="#ff7f0e")
    ax2.axhline(0, color="grey", ls=":")
    ax2.set(xlabel="predicted", ylabel="residual (predicted - true)", title="residuals")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    caption = (f"Best model on the validation set ({len(t)} rows); mean residual {resid.mean():.4g}, "
               f"residual SD {resid.std():.4g}.")
    return Plot("regression", "Predicted vs true", caption, _png(fig))


def importance(items: list[tuple[str, float]]) -> Plot | None:
    if not items:
        return None
    names = [n if len(n) <= 40 else n[:37] + "..." for n, _ in items][::-1]
    values = [v for _, v in items][::-1]
    fig = Figure(figsize=(6.4, 1.2 + 0.28 * len(items)))
    ax = fig.add_subplot()
    ax.barh(range(len(items)), values, color=["#1f77b4" if v >= 0 else "#d62728" for v in values])
    ax.set_yticks(range(len(items)), names, fontsize=8)
    ax.set_xlabel("importance")
    ax.grid(alpha=0.3, axis="x")
    return Plot(
        "importance",
        "Feature importance",
        f"The {len(items)} most important features (or k-mers) of the best model, as the model reports them.",
        _png(fig),
    )
