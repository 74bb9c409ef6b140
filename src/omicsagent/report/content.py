"""The report's words and numbers as plain data, shared by the HTML and Markdown writers."""
from __future__ import annotations

import shlex

from omicsagent.errors import command
from omicsagent.ml.metrics import get_metric, resolve_metric_name
from omicsagent.report.data import RunData, fmt_cost, fmt_duration, fmt_metric

TRAIN_DATA_FLAGS = ("--train", "--data", "--train-file")
MODEL_DIR_FLAGS = ("--out", "--model-dir", "--model_dir", "--output-dir", "--model")


def headline(data: RunData) -> list[tuple[str, str]]:
    """(label, value) facts for the top of the report."""
    j = data.journal
    total = j.total_usage()
    brain = j.settings.brain + (f" ({j.settings.model})" if j.settings.model else "")
    n_ok = sum(it.status == "succeeded" for it in j.iterations)
    rows = [
        ("run", j.run_id),
        ("dataset", j.task.name),
        ("status", data.status + (f": {j.status_reason}" if j.status_reason else "")),
        ("brain", brain),
        ("iterations", f"{len(j.iterations)} run, {n_ok} succeeded (of {j.settings.iterations} planned)"),
        ("elapsed", fmt_duration(j.elapsed_s)),
        ("cost", cost_text(data)),
    ]
    if total.requests:
        rows.append(
            (
                "model requests",
                f"{total.requests} ({total.input_tokens} input + {total.output_tokens} output tokens)",
            )
        )
    best = data.best
    if best is not None:
        rows.append(("best iteration", f"{best.index}: {best.model or '?'} on {best.representation or '?'}; "
                                       f"{selection_text(data)}"))
    else:
        rows.append(("best iteration", "none (no iteration succeeded)"))
    if j.test_metrics:
        value = fmt_metric(j.test_metrics.get(j.task.metric))
        ci = interval_text(data, "test")
        rows.append(("test", f"{data.metric.label} {value}{ci} (hidden test set, scored by the harness"
                             f"{', with the refit model' if refit_done(data) else ''})"))
    return rows


def selection_text(data: RunData) -> str:
    """How the best iteration was chosen and its score: the k-fold mean ± sd, or the validation score."""
    j, best = data.journal, data.best
    if best is None:
        return ""
    name = j.task.metric
    folds = best.cv_metrics.get(name)
    split = best.validation_metrics.get(name)
    split_text = f"validation split {fmt_metric(split)}{interval_text(data, 'validation')}"
    if folds:
        return (f"{len(folds)}-fold cross-validation {data.metric.label} {fmt_metric(j.primary(best))} ± "
                f"{fmt_metric(j.spread(best) or 0.0)} (mean ± sd over folds; {split_text})")
    return f"{split_text.replace('validation split', 'validation ' + data.metric.label)}"


def interval_text(data: RunData, which: str) -> str:
    """`` (95% CI low-high)`` of the run's metric on ``which`` (validation, test), or nothing."""
    ci, best = data.journal.intervals, data.best
    if ci is None or best is None or ci.iteration != best.index:
        return ""
    pair = getattr(ci, which).get(data.journal.task.metric)
    if not pair:
        return ""
    return f" ({ci.level:.0%} CI {fmt_metric(pair[0])}-{fmt_metric(pair[1])})"


def refit_done(data: RunData) -> bool:
    r, best = data.journal.refit, data.best
    return bool(r and best and r.iteration == best.index and r.status == "done")


def honesty_notes(data: RunData) -> list[str]:
    """Sentences on how the numbers were obtained: selection, refit, bootstrap intervals."""
    j, best = data.journal, data.best
    if best is None:
        return []
    out = []
    if best.cv_metrics:
        out.append(f"Small data ({j.n_labelled} labelled rows, below {j.settings.cv_below_rows}): "
                   f"iterations were compared by {j.settings.cv_folds}-fold cross-validation on every "
                   "labelled row, each fold fitted and scored by the harness in a throwaway sandbox; the "
                   "score is the mean over folds ± their standard deviation.")
    r = j.refit
    if r is not None and r.iteration == best.index:
        out.append(f"The final model was refit on all {r.n_rows} labelled rows (training + validation) "
                   "before the test was scored; best/train.py reproduces that refit." if r.status == "done"
                   else f"The refit on all {r.n_rows} labelled rows failed ({r.reason}); best/ holds the "
                   "model fitted on the training split.")
    ci = j.intervals
    if ci is not None and ci.iteration == best.index and (ci.validation or ci.test):
        out.append(f"Confidence intervals: percentile bootstrap of the {data.metric.label}, {ci.resamples} "
                   f"resamples of the rows (seed {ci.seed}), {ci.level:.0%}.")
    return out


def cost_text(data: RunData) -> str:
    total = data.journal.total_usage()
    if total.requests == 0:
        return "none (offline brain, no model requests)"
    return fmt_cost(total) if total.cost_usd is not None else "unknown (the model's price is not known)"


def metric_rows(metrics: dict[str, float], *, primary: str) -> list[tuple[str, str]]:
    """(label, value) per metric, the run's metric first, labels with their direction."""
    keys = sorted(metrics, key=lambda k: (k != primary, k))
    out = []
    for k in keys:
        name = resolve_metric_name(k)
        label = f"{get_metric(name).label} ({get_metric(name).direction})" if name else k
        out.append((label + (" *" if k == primary else ""), fmt_metric(metrics[k])))
    return out


def rerun_commands(data: RunData) -> list[tuple[str, str]]:
    """(what, shell command) to reuse or rebuild the best model; paths relative to the run folder."""
    run = command(data.run_dir)
    return [
        (
            "Predict new data with the best model",
            f"omicsagent predict {run} --input new.csv --output preds.csv",
        ),
        (
            "Recreate the environment",
            f"cd {run} && python -m venv .venv && .venv/bin/pip install -r best/requirements.txt",
        ),
        (
            ("Retrain the best model as it was refit, on every labelled row"
             + (" (the training file's rows, then the validation file's)" if data.journal.task.validation_path
                else "") + "; "
             if refit_done(data) else "Retrain the best model (")
            + "other options of best/train.py keep their defaults; --help lists them"
            + ("" if refit_done(data) else ")"),
            f"cd {run} && python best/train.py {train_arguments(data)}".rstrip(),
        ),
        (
            "Run the inference script directly",
            f"cd {run} && python best/inference.py --input new.csv --output preds.csv",
        ),
    ]


def train_arguments(data: RunData) -> str:
    """Arguments for best/train.py that reproduce the best model: its training data, model folder and seed."""
    j = data.journal
    train = (
        j.split.train_path
        if j.split is not None and data.layout.run_path(j.split.train_path).exists()
        else j.task.train_path
    )
    if refit_done(data):  # refit on every labelled row: the training file (then a given validation file)
        train = "train_and_validation.csv" if j.task.validation_path else j.task.train_path
    args = []
    for flag in data.train_flags:
        if flag in TRAIN_DATA_FLAGS:
            args.append(f"{flag} {shlex.quote(train)}")
        elif flag in MODEL_DIR_FLAGS:
            args.append(f"{flag} best/model")
        elif flag == "--seed":
            args.append(f"--seed {j.settings.seed}")
    return " ".join(args)


def best_files(data: RunData) -> list[tuple[str, bool]]:
    """(path relative to the run, exists) for the files that make the best model rerunnable."""
    names = ["best/train.py", "best/inference.py", "best/model", "best/requirements.txt", "best/metrics.json"]
    return [(n, data.layout.run_path(n).exists()) for n in names]
