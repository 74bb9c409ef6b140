"""How the expert brain uses its time budget: per shared dataset and budget, the validation score of the
best iteration, the hidden test score, the fraction of the budget used and why the run stopped.

    nice -n 5 .venv/bin/python benchmarks/budget_use.py --budgets 2m --json budget-2m.json   # every dataset
    .venv/bin/python benchmarks/budget_use.py bbbp esol --budgets 2m 5m 15m --json budget.json
    .venv/bin/python benchmarks/budget_use.py --table budget-2m.json budget-5m.json          # table only

Each cell is one real run through the CLI (``omicsagent run DATASET --time-budget B --iterations 100``,
default expert brain, real sandbox, run from the scratch folder with a relative dataset path) in a scratch
folder; the run's own journal gives the figures. The test split is scored once by the run with its best
model, never used to choose anything. ``--table`` merges earlier ``--json`` files into the markdown table
(one row per dataset; a (dataset, budget) cell nobody ran says "not measured").
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / ".." / "shared" / "datasets" / "ml"
DATASETS = ["breast_cancer", "heart_disease", "esol", "bbbp", "gue_prom_core_notata", "gue_tf0", "sirbench",
            "ago2_clash_hejret", "tox21", "proteingym_blat_firnberg"]
NOT_MEASURED = "not measured"


def seconds(budget: str) -> float:
    unit = {"s": 1, "m": 60, "h": 3600}[budget[-1]]
    return float(budget[:-1]) * unit


def one_run(dataset: str, budget: str, *, scratch: Path, search: str | None = None) -> dict:
    """One run through the CLI and the figures its journal gives; ``search``: the policy (default: the
    run's default, the tree search). `tree_vs_linear.py` runs its cells with this function too, so its
    tree rows are cells of this table."""
    name = f"{dataset}-{budget}" + (f"-{search}" if search else "")
    out = scratch / name
    data = os.path.relpath(ROOT.resolve() / dataset, scratch)
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "omicsagent", "run", data, "--out", name,
                          "--time-budget", budget, "--iterations", "100", "--quiet"]
                         + (["--search", search] if search else []),
                         capture_output=True, text=True, check=False, cwd=scratch)
    wall = time.monotonic() - t0
    row = {"dataset": dataset, "budget": budget, "search": search or "tree", "wall_s": round(wall, 1),
           "exit": res.returncode, "load": round(os.getloadavg()[0], 1)}
    journal_path = out / "journal.json"
    if not journal_path.exists():
        row["error"] = (res.stderr.strip().splitlines() or ["no journal"])[-1]
        return row
    j = json.loads(journal_path.read_text())
    metric = j["task"]["metric"]
    ok = [it for it in j["iterations"] if it["status"] == "succeeded" and metric in it["validation_metrics"]]
    best = next((it for it in ok if it["index"] == j.get("test_iteration")), None)
    row.update(metric=metric, iterations=len(j["iterations"]), succeeded=len(ok),
               roots=sum(1 for it in j["iterations"] if it.get("parent") is None),
               best=best["summary"] if best else None,
               validation=best["validation_metrics"][metric] if best else None,
               test=(j.get("test_metrics") or {}).get(metric),
               used=round(j["elapsed_s"] / seconds(budget), 3), stopped=j["status_reason"])
    return row


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def table(rows: list[dict], budgets: list[str]) -> str:
    """One row per dataset: validation / test / budget used per budget, then the reasons runs stopped."""
    by = {(r["dataset"], r["budget"]): r for r in rows}
    names = [d for d in DATASETS if any(k[0] == d for k in by)]
    names += sorted({r["dataset"] for r in rows} - set(names))
    head = ["dataset", "metric"] + [f"{b}: validation / test / budget used" for b in budgets]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    reasons = []
    for d in names:
        metric = next((r.get("metric") for r in rows if r["dataset"] == d and r.get("metric")), "-")
        cells = [d, metric]
        for b in budgets:
            r = by.get((d, b))
            if r is None:
                cells.append(NOT_MEASURED)
                continue
            if "error" in r:
                cells.append("failed")
                reasons.append(f"- {d}, {b}: failed (exit {r['exit']}): {r['error']}")
                continue
            used = "-" if r.get("used") is None else f"{100 * r['used']:.0f}%"
            cells.append(f"{fmt(r.get('validation'))} / {fmt(r.get('test'))} / {used}")
            reasons.append(f"- {d}, {b}: {r.get('iterations')} iterations ({r.get('succeeded')} succeeded), "
                           f"best {r.get('best')}, wall {r['wall_s']:.0f} s; stopped: {r.get('stopped')}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + "\n".join(reasons)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", default=DATASETS)
    ap.add_argument("--budgets", nargs="+", default=["2m", "5m", "15m"])
    ap.add_argument("--json", type=Path, default=None, help="write the rows here after every run")
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folders here (default: a temp dir)")
    ap.add_argument("--table", type=Path, nargs="+", default=None,
                    help="only print the table from these --json files (columns: --budgets)")
    args = ap.parse_args(argv)
    if args.table:
        rows = []
        for f in args.table:  # this script's rows, or tree_vs_linear.py's ({"header", "rows"}): its tree rows
            data = json.loads(f.read_text())
            rows += [r for r in (data["rows"] if isinstance(data, dict) else data)
                     if r.get("search", "tree") == "tree"]
        print(table(rows, args.budgets))
        return 0
    if not ROOT.is_dir():
        print(f"datasets not found at {ROOT}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = (args.keep or Path(tmp)).resolve()
        scratch.mkdir(parents=True, exist_ok=True)
        for budget in args.budgets:
            for name in args.datasets:
                row = one_run(name, budget, scratch=scratch)
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.json:
                    args.json.write_text(json.dumps(rows, indent=1))
    print()
    print(table(rows, args.budgets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
