"""Single-cell benchmark: `omicsagent run` on 80% of pbmc68k_reduced, scored on a held-out 20% it never saw.

    .venv/bin/python benchmarks/singlecell.py                    # default budget (15 min)
    .venv/bin/python benchmarks/singlecell.py --time-budget 2m   # a quick check

A fixed, seeded (seed 0), stratified 80/20 split of the cells (by obs['bulk_labels']) is written into a
temporary folder, never into the repository: the 80% as the dataset folder the real CLI runs on, the 20%
without its labels as the cells `omicsagent predict` gets. Macro-F1 on the 20% is compared with a logistic
regression on the same log-normalised PCA (counts would be normalised + log1p first; this file's X is
already log-normalised and scaled, so it is used as given; standardised genes -> 50 principal components,
fitted on the 80%). Results go to benchmarks/results/singlecell.json and between the markers in
BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "ml" / "pbmc68k_reduced"
LABEL = "bulk_labels"
BEGIN, END = "<!-- singlecell:begin -->", "<!-- singlecell:end -->"


def holdout(adata, seed: int):
    """(train cells, test cells): a stratified 80/20 split of the cells, fixed by the seed; the split of
    `omicsagent bench prepare --holdout 0.2` (omics-mini's pbmc68k_reduced task holds out these cells)."""
    from omicsagent.agent.split import held_out_rows

    held, _ = held_out_rows(adata.obs.reset_index(drop=True), target=LABEL, task_type="multiclass",
                            fraction=0.2, seed=seed)
    return adata[~held].copy(), adata[held].copy()


def baseline_macro_f1(train, test, seed: int) -> float:
    """Logistic regression on log-normalised expression -> standardised genes -> 50 PCs (fit on train)."""
    from scipy import sparse
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from omicsagent.ml.singlecell import log_normalize, looks_like_counts

    def dense(m):
        return np.asarray(m.toarray() if sparse.issparse(m) else m, dtype=np.float64)

    xtr, xte = dense(train.X), dense(test.X)
    if looks_like_counts(xtr):
        target = float(np.median(xtr.sum(axis=1)))
        xtr, xte = log_normalize(xtr, target), log_normalize(xte, target)
    model = make_pipeline(StandardScaler(), PCA(n_components=50, random_state=seed),
                          LogisticRegression(max_iter=5000))
    model.fit(xtr, train.obs[LABEL].astype(str))
    return float(f1_score(test.obs[LABEL].astype(str), model.predict(xte), average="macro"))


def git_commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return head.stdout.strip() + (" + uncommitted src changes" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", default="15m", help="the run's budget (default: the CLI default)")
    parser.add_argument("--data", type=Path, default=DATA, help="the pbmc68k_reduced dataset folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the 80/20 hold-out")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()

    import anndata
    from sklearn.metrics import f1_score

    source = next(args.data.glob("*.h5ad"), None)
    if source is None:
        sys.exit(f"no .h5ad file in {args.data}; pass --data FOLDER")
    adata = anndata.read_h5ad(source)
    train, test = holdout(adata, args.seed)
    exe = str(ROOT / ".venv" / "bin" / "omicsagent")
    commit = git_commit()  # the code the run starts with
    with tempfile.TemporaryDirectory(prefix="omicsagent-singlecell-") as tmp:
        tmp = Path(tmp)
        folder = tmp / args.data.name  # the 80%: what the run sees
        folder.mkdir()
        train.write_h5ad(folder / source.name)
        if (args.data / "description.md").exists():
            shutil.copy(args.data / "description.md", folder / "description.md")
        cells = test.copy()
        del cells.obs[LABEL]  # predict gets the held-out cells without their labels
        cells.write_h5ad(tmp / "heldout.h5ad")
        run_cmd = [exe, "run", str(folder), "--out", str(tmp / "run"), "--time-budget", args.time_budget,
                   "--quiet"]
        t0 = time.time()
        proc = subprocess.run(run_cmd, capture_output=True, text=True)
        wall = time.time() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0:
            sys.exit(f"omicsagent run failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
        journal = json.loads((tmp / "run" / "journal.json").read_text())
        pred_cmd = [exe, "predict", str(tmp / "run"), "--input", str(tmp / "heldout.h5ad"), "--output",
                    str(tmp / "pred.csv")]
        proc = subprocess.run(pred_cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"omicsagent predict failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
        pred = pd.read_csv(tmp / "pred.csv")["prediction"].astype(str)
    truth = test.obs[LABEL].astype(str).to_numpy()
    its = [it for it in journal["iterations"] if it["status"] == "succeeded"]
    # the iteration the run itself chose (by k-fold mean on small data), whose model predicted the hold-out
    best = next(it for it in its if it["index"] == journal["test_iteration"])
    row = {
        "dataset": args.data.name,
        "cells": {"train": train.n_obs, "test": test.n_obs},
        "test_macro_f1": round(float(f1_score(truth, pred, average="macro")), 4),
        "test_accuracy": round(float((pred.to_numpy() == truth).mean()), 4),
        "baseline_macro_f1": round(baseline_macro_f1(train, test, args.seed), 4),
        "validation_macro_f1": round(best["validation_metrics"]["macro_f1"], 4),
        "best_iteration": f"{best['index']}: {best['summary']}",
        "iterations": len(journal["iterations"]),
        "stopped": journal["status_reason"],
        "wall_min": round(wall / 60, 1),
        "peak_memory_mb": round(max([peak_mb] + [it.get("peak_memory_mb") or 0 for it in its])),
        "time_budget": args.time_budget,
        "command": f".venv/bin/python benchmarks/singlecell.py --time-budget {args.time_budget}",
        "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores)",
        "load_average": round(os.getloadavg()[0], 1),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(row, indent=1))
    results = ROOT / "benchmarks" / "results" / "singlecell.json"
    rows = json.loads(results.read_text()) if results.exists() else []
    rows = [r for r in rows if r.get("time_budget") != row["time_budget"]] + [row]
    results.write_text(json.dumps(rows, indent=1) + "\n")
    if not args.no_write:
        write_table(rows)


def write_table(rows: list[dict]) -> None:
    lines = ["| budget | test macro-F1 (20% hold-out) | baseline: PCA + logistic regression | test accuracy "
             "| validation macro-F1 | best iteration | wall time | peak memory | machine (load) | commit "
             "| date |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['time_budget']} | {r['test_macro_f1']:.3f} | {r['baseline_macro_f1']:.3f} | "
                     f"{r['test_accuracy']:.3f} | {r['validation_macro_f1']:.3f} | "
                     f"{r['best_iteration'].replace('|', '/')} | "
                     f"{r['wall_min']} min | {r['peak_memory_mb']} MB | {r['machine']} (load "
                     f"{r['load_average']}) | {r['commit']} | {r['date']} |")
    md = ROOT / "BENCHMARKS.md"
    text = md.read_text()
    if BEGIN not in text:
        return
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    md.write_text(f"{head}{BEGIN}\n" + "\n".join(lines) + f"\n{END}{tail}")


if __name__ == "__main__":
    main()
