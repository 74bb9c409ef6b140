"""Run the expert's recipe-book candidates in-process on the real datasets and print a table.

    .venv/bin/python benchmarks/ml_recipes.py                          # every dataset, every candidate
    .venv/bin/python benchmarks/ml_recipes.py ago2_clash_hejret gue_tf0 --only cnn --json out.json
    .venv/bin/python benchmarks/ml_recipes.py bbbp esol --floor    # the floor vs the plan's first candidate

Direct API (no sandbox, no agent loop): task loading and the validation split are the loop's own
(``omicsagent.tasks``, ``omicsagent.agent.split``); the test split is scored only here, for the table.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from omicsagent.brains.expert import recipes
from omicsagent.ml.metrics import evaluate
from omicsagent.ml.models.base import quiet
from omicsagent.ml.pipeline import TrainedModel, build_featurizer, build_model

ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "ml"
DATASETS = ["ago2_clash_hejret", "gue_prom_core_notata", "gue_tf0", "breast_cancer", "heart_disease", "esol",
            "bbbp", "sirbench", "proteingym_blat_firnberg"]
# metric(s) reported per dataset (the brief's targets), first one is the headline
REPORT = {
    "ago2_clash_hejret": ["auprc", "auroc"],
    "gue_prom_core_notata": ["auroc"],
    "gue_tf0": ["auroc"],
    "breast_cancer": ["accuracy", "auroc"],
    "heart_disease": ["macro_f1", "accuracy"],
    "esol": ["rmse", "r2"],
    "bbbp": ["auroc"],
    "sirbench": ["pearson", "spearman"],
    "proteingym_blat_firnberg": ["spearman", "rmse"],
    "tox21": ["mean_auroc", "mean_auprc"],
}


def load(name: str, *, seed: int) -> tuple:
    from omicsagent.agent.split import split_frame
    from omicsagent.tasks.task import load_task

    task = load_task(ROOT / name)
    train = task.table("train")
    if task.validation_path:
        valid = task.table("validation")
    else:
        train, valid, _ = split_frame(train, target=task.target, task_type=task.task_type,
                                      group=task.group_column, seed=seed)
    return task, train, valid, task.table("test")


def score(trained: TrainedModel, df: pd.DataFrame) -> dict[str, float]:
    pred = trained.predict_frame(df)
    if trained.task_type == "multilabel":  # target: the label columns; blanks are left out per label
        truth = df[trained.target].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        return evaluate(
            "multilabel", truth, None, pred[[f"probability_{c}" for c in trained.target]].to_numpy()
        )
    proba = None
    if trained.task_type != "regression":
        proba = pred[[f"probability_{c}" for c in trained.classes]].to_numpy()
    return evaluate(trained.task_type, df[trained.target].to_numpy(), pred["prediction"].to_numpy(), proba,
                    trained.classes or None)


def run_candidate(c: recipes.Candidate, task, train, valid, test, *, seed: int, verbose: bool) -> dict:
    """Fit on train, score train/validation (and test unless ``test`` is None: tuning never looks at it)."""
    t0 = time.monotonic()
    featurizer = build_featurizer(c.representation)
    X = featurizer.fit_transform(train)
    model = build_model(c.model, task_type=task.task_type, seed=seed)
    model.fit(
        X,
        train[task.target_columns if task.labels else task.target].to_numpy(),
        time_limit_s=c.time_limit_s,
        log=(lambda s: print("    " + s, flush=True)) if verbose else quiet,
    )
    trained = TrainedModel(
        featurizer=featurizer,
        model=model,
        task_type=task.task_type,
        target=task.labels or task.target,
        representation=c.representation,
        model_spec=c.model,
    )
    fit_s = time.monotonic() - t0
    return {"candidate": c.name, "family": c.family, "est_s": round(c.est_seconds), "fit_s": round(fit_s, 1),
            "train": score(trained, train), "val": score(trained, valid),
            "test": score(trained, test) if test is not None else {}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", default=DATASETS)
    ap.add_argument("--only", default="", help="run candidates whose name contains this text")
    ap.add_argument("--floor", action="store_true",
                    help="run only the character n-gram floor and the plan's first other candidate")
    ap.add_argument("--refine", action="store_true", help="also run regularize/add_capacity of the best")
    ap.add_argument("--budget", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--no-test", action="store_true", help="do not score the test split (while tuning)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if not ROOT.is_dir():
        print(f"datasets not found at {ROOT}", file=sys.stderr)
        return 2
    rows = []
    for name in args.datasets:
        task, train, valid, test = load(name, seed=args.seed)
        test = None if args.no_test else test
        profile = recipes.profile_of(
            task, train, time_budget_s=args.budget
        )  # what the expert brain plans from
        cands = [c for c in recipes.plan(profile) if args.only in c.name]
        if args.floor:
            first = next(c for c in cands if c.name != recipes.FLOOR)
            cands = [first] + [c for c in cands if c.name == recipes.FLOOR]
        print(
            f"== {name}: {len(train)} train / {len(valid)} val / "
            f"{len(test) if test is not None else '-'} test rows, pair={profile.pair}",
            flush=True,
        )
        done = []
        for c in cands:
            done.append(_report(name, run_candidate(c, task, train, valid, test, seed=args.seed,
                                                    verbose=args.verbose), rows))
        if args.refine and done:
            key = REPORT[name][0]
            sign = -1 if key in ("rmse", "mae", "log_loss") else 1
            best = max(zip(cands, done), key=lambda cd: sign * cd[1]["val"][key])[0]
            for fn in (recipes.regularize, recipes.add_capacity):
                r = fn(best)
                if r is not None:
                    _report(name, run_candidate(r, task, train, valid, test, seed=args.seed,
                                                verbose=args.verbose), rows)
    print("\n| dataset | candidate | metric | train | validation | test | fit s (est) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        m = REPORT[r["dataset"]]
        train, val, test = (" / ".join(f"{r[part].get(k, float('nan')):.3f}" for k in m)
                            for part in ("train", "val", "test"))
        print(f"| {r['dataset']} | {r['candidate']} | {' / '.join(m)} | {train} | {val} | "
              f"{test} | {r['fit_s']:.0f} ({r['est_s']}) |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def _report(name: str, res: dict, rows: list) -> dict:
    res["dataset"] = name
    rows.append(res)
    m = REPORT[name]
    print(f"  {res['candidate']:<32} val " + " ".join(f"{k} {res['val'].get(k, float('nan')):.4f}" for k in m)
          + "  test " + " ".join(f"{k} {res['test'].get(k, float('nan')):.4f}" for k in m)
          + f"  {res['fit_s']:.0f}s (est {res['est_s']}s)", flush=True)
    return res


if __name__ == "__main__":
    sys.exit(main())
