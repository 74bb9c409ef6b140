"""The expert brain's two search policies at the same budget: per shared dataset, the validation score of
the best iteration and the hidden test score for ``--search tree`` and ``--search linear``.

    nice -n 5 .venv/bin/python benchmarks/tree_vs_linear.py --budget 2m
    nice -n 5 .venv/bin/python benchmarks/tree_vs_linear.py esol bbbp --budget 5m --markdown out.md

Each cell is one real run through the CLI (``omicsagent run DATASET --search S --time-budget B
--iterations 100 --quiet``, default expert brain, seed 0, real sandbox) in a scratch folder; the figures come
from the run's own journal. The test split is scored once by each run with its best model (chosen on
validation), never used to choose anything. Results are written after every run (``--json``), so a cut
benchmark keeps what it measured.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "ml"
# small and fast first, so a short session measures as many datasets as possible
DATASETS = ["breast_cancer", "heart_disease", "esol", "bbbp", "gue_prom_core_notata", "gue_tf0", "sirbench",
            "ago2_clash_hejret"]
POLICIES = ["tree", "linear"]


def one_run(dataset: str, search: str, budget: str, *, scratch: Path) -> dict:
    out = scratch / f"{dataset}-{search}"
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "omicsagent", "run", str(ROOT / dataset), "--out", str(out),
                          "--search", search, "--time-budget", budget, "--iterations", "100", "--quiet"],
                         capture_output=True, text=True, check=False)
    row: dict = {"dataset": dataset, "search": search, "budget": budget,
                 "wall_s": round(time.monotonic() - t0, 1), "exit": res.returncode}
    journal_path = out / "journal.json"
    if not journal_path.exists():
        row["error"] = (res.stderr.strip().splitlines() or ["no journal"])[-1]
        return row
    j = json.loads(journal_path.read_text())
    metric = j["task"]["metric"]
    its = j["iterations"]
    ok = [it for it in its if it["status"] == "succeeded" and metric in it["validation_metrics"]]
    best = next((it for it in ok if it["index"] == j.get("test_iteration")), None)
    children = [it for it in its if it.get("parent") is not None]
    row.update(metric=metric, iterations=len(its), succeeded=len(ok),
               roots=len(its) - len(children),
               best=best["summary"] if best else None,
               validation=best["validation_metrics"][metric] if best else None,
               test=(j.get("test_metrics") or {}).get(metric), stopped=j["status_reason"])
    return row


def fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def markdown(rows: list[dict], header: str) -> str:
    lines = [header, "",
             "| dataset | metric | search | validation | test | iterations (drafts) | wall time | stopped |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | - | {r['search']} | - | - | - | {r['wall_s'] / 60:.1f} min | "
                         f"error: {r['error'][:80]} |")
            continue
        lines.append(f"| {r['dataset']} | {r['metric']} | {r['search']} | {fmt(r['validation'])} | "
                     f"{fmt(r['test'])} | {r['iterations']} ({r['roots']}) | {r['wall_s'] / 60:.1f} min | "
                     f"{r['stopped'][:60]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", default=DATASETS)
    ap.add_argument("--budget", default="2m")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/tree_vs_linear.json"))
    ap.add_argument("--markdown", type=Path, default=Path("benchmarks/results/tree_vs_linear.md"))
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folders here (default: a temp dir)")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    machine = f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores)"
    header = (f"`--time-budget {args.budget}`, seed 0, on {machine}, commit {commit}, "
              f"{time.strftime('%Y-%m-%d %H:%M')}, load average at start {os.getloadavg()[0]:.1f}; command: "
              f"`nice -n 5 .venv/bin/python benchmarks/tree_vs_linear.py --budget {args.budget}`.")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tree-vs-linear-") as tmp:
        scratch = args.keep or Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        for dataset in args.datasets:
            for search in POLICIES:
                row = one_run(dataset, search, args.budget, scratch=scratch)
                row["load"] = round(os.getloadavg()[0], 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps({"header": header, "rows": rows}, indent=1))
                args.markdown.write_text(markdown(rows, header))
    print(markdown(rows, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
