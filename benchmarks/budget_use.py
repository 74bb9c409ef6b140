"""How the expert brain uses its time budget: per shared dataset and budget, the validation score of the
best iteration, the hidden test score, the fraction of the budget used and why the run stopped.

    .venv/bin/python benchmarks/budget_use.py --budgets 2m 5m          # every dataset, 2 and 5 minutes
    .venv/bin/python benchmarks/budget_use.py bbbp esol --budgets 2m 5m 15m --json budget.json

Each cell is one real run through the CLI (``omicsagent run DATASET --time-budget B --iterations 100``,
default expert brain, real sandbox) in a scratch folder; the run's own journal gives the figures. The test
split is scored once by the run with its best model, never used to choose anything.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "ml"
DATASETS = ["ago2_clash_hejret", "gue_prom_core_notata", "gue_tf0", "breast_cancer", "heart_disease", "esol",
            "bbbp", "sirbench"]


def seconds(budget: str) -> float:
    unit = {"s": 1, "m": 60, "h": 3600}[budget[-1]]
    return float(budget[:-1]) * unit


def one_run(dataset: str, budget: str, *, scratch: Path) -> dict:
    out = scratch / f"{dataset}-{budget}"
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "omicsagent", "run", str(ROOT / dataset), "--out", str(out),
                          "--time-budget", budget, "--iterations", "100", "--quiet"],
                         capture_output=True, text=True, check=False)
    wall = time.monotonic() - t0
    row = {"dataset": dataset, "budget": budget, "wall_s": round(wall, 1), "exit": res.returncode}
    journal_path = out / "journal.json"
    if not journal_path.exists():
        row["error"] = res.stderr.strip().splitlines()[-1:] or ["no journal"]
        return row
    j = json.loads(journal_path.read_text())
    metric = j["task"]["metric"]
    ok = [it for it in j["iterations"] if it["status"] == "succeeded" and metric in it["validation_metrics"]]
    best = next((it for it in ok if it["index"] == j.get("test_iteration")), None)
    row.update(metric=metric, iterations=len(j["iterations"]), succeeded=len(ok),
               best=best["summary"] if best else None,
               validation=best["validation_metrics"][metric] if best else None,
               test=(j.get("test_metrics") or {}).get(metric),
               used=round(j["elapsed_s"] / seconds(budget), 3), stopped=j["status_reason"])
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", default=DATASETS)
    ap.add_argument("--budgets", nargs="+", default=["2m", "5m", "15m"])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folders here (default: a temp dir)")
    args = ap.parse_args(argv)
    if not ROOT.is_dir():
        print(f"datasets not found at {ROOT}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = args.keep or Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        for name in args.datasets:
            for budget in args.budgets:
                row = one_run(name, budget, scratch=scratch)
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.json:
                    args.json.write_text(json.dumps(rows, indent=1))
    print(
        "\n| dataset | budget | metric | validation | test | budget used | iterations | best "
        "| stopped because |"
    )
    print("|---|---|---|---|---|---|---|---|---|")

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    for r in rows:
        print(
            f"| {r['dataset']} | {r['budget']} | {r.get('metric', '-')} | {fmt(r.get('validation'))} | "
            f"{fmt(r.get('test'))} | {fmt(r.get('used'))} | {r.get('iterations', '-')} | "
            f"{r.get('best', '-')} | "
            f"{str(r.get('stopped', r.get('error', '')))[:90]} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
