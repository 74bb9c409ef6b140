"""The expert brain's two search policies at the same budget: per shared dataset, the validation score of
the best iteration and the hidden test score for ``--search tree`` and ``--search linear``.

    nice -n 5 .venv/bin/python benchmarks/tree_vs_linear.py --budget 2m
    nice -n 5 .venv/bin/python benchmarks/tree_vs_linear.py esol bbbp --budget 5m --markdown out.md

Each cell is one real run through the CLI (``omicsagent run DATASET --search S --time-budget B
--iterations 100 --quiet``, default expert brain, seed 0, real sandbox, relative paths from a scratch folder),
made by `budget_use.py`'s runner, so the tree rows are also cells of the budget-use table
(``budget_use.py --table tree_vs_linear.json``); the figures come from the run's own journal. The test split
is scored once by each run with its best model (chosen on validation), never used to choose anything. Results
are written after every run (``--json``), so a cut benchmark keeps what it measured.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from budget_use import DATASETS, one_run  # noqa: E402  (one runner: a tree row here is a budget_use cell)

POLICIES = ["tree", "linear"]


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
    ap.add_argument("--policies", nargs="+", default=POLICIES, choices=POLICIES,
                    help="the policies to run (default both; one when the other's run is already measured)")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/tree_vs_linear.json"))
    ap.add_argument("--markdown", type=Path, default=Path("benchmarks/results/tree_vs_linear.md"))
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folders here (default: a temp dir)")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    machine = f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores)"
    header = (f"`--time-budget {args.budget}`, seed 0, on {machine}, commit {commit}, "
              f"{time.strftime('%Y-%m-%d %H:%M')}, load average at start {os.getloadavg()[0]:.1f}; command "
              f"(at nice {os.nice(0)}): `python benchmarks/tree_vs_linear.py "
              f"{' '.join(sys.argv[1:] if argv is None else argv)}`.")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tree-vs-linear-") as tmp:
        scratch = (args.keep or Path(tmp)).resolve()
        scratch.mkdir(parents=True, exist_ok=True)
        for dataset in args.datasets:
            for search in args.policies:
                row = one_run(dataset, args.budget, scratch=scratch, search=search)
                rows.append(row)
                print(json.dumps(row), flush=True)
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps({"header": header, "rows": rows}, indent=1))
                args.markdown.write_text(markdown(rows, header))
    print(markdown(rows, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
