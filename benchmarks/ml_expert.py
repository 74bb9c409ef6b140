"""Run the offline expert brain with default settings on every shared ML dataset; record the figures.

    .venv/bin/python benchmarks/ml_expert.py                 # all datasets, default budget (15 min each)
    .venv/bin/python benchmarks/ml_expert.py gue_tf0 esol    # some datasets
    .venv/bin/python benchmarks/ml_expert.py --budget 5m     # a shorter budget

Each dataset runs as its own `omicsagent run` process (so peak memory is that run's, measured by the OS),
into benchmarks/runs/<dataset>/. Results go to benchmarks/results/ml_expert.json and the table between the
markers in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets" / "ml"
SKIP = {"pbmc68k_reduced"}  # no hidden test file: benchmarks/singlecell.py makes its own hold-out
EXTRA = {"sirbench": ["pearson", "spearman"], "ago2_clash_hejret": ["auprc", "auroc"]}
DEFAULT_METRIC = {"ago2_clash_hejret": "auprc", "breast_cancer": "accuracy"}  # the figures the targets name
BEGIN, END = "<!-- ml_expert:begin -->", "<!-- ml_expert:end -->"


def run_one(name: str, budget: str, out_root: Path) -> dict:
    out = out_root / name
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(ROOT / ".venv" / "bin" / "omicsagent"), "run", str(DATASETS / name), "--out", str(out),
           "--time-budget", budget, "--json"]
    t0 = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    peak_mb = (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    )  # the largest child so far (KB -> MB)
    row = {
        "dataset": name,
        "wall_s": round(wall, 1),
        "exit_code": proc.returncode,
        "command": " ".join(cmd[1:]),
    }
    journal_path = out / "journal.json"
    if not journal_path.exists():
        row.update(success=False, error=proc.stderr.strip().splitlines()[-1:] or ["no journal"])
        return row
    j = json.loads(journal_path.read_text())
    metric = j["task"]["metric"]
    its = [it for it in j["iterations"] if it["status"] == "succeeded"]
    sign = -1 if metric in ("rmse", "mae", "log_loss") else 1
    best = (
        max(its, key=lambda it: sign * it["validation_metrics"].get(metric, float("-inf"))) if its else None
    )
    test = j.get("test_metrics") or {}
    iter_peaks = [it.get("peak_memory_mb") or 0 for it in j["iterations"]]
    row.update(
        success=bool(test),
        metric=metric,
        validation=best["validation_metrics"].get(metric) if best else None,
        test=test,
        best_iteration=best["index"] if best else None,
        best_summary=best["summary"] if best else None,
        iterations=[
            (
                it["index"],
                it["status"],
                it["summary"],
                it["validation_metrics"].get(metric),
                round(it["duration_s"]),
            )
            for it in j["iterations"]
        ],
        peak_memory_mb=round(max([*iter_peaks, peak_mb if peak_mb > before / 1024 else 0])),
    )
    return row


def fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def table(rows: list[dict], budget: str) -> str:
    lines = [f"Expert brain, default settings (`--time-budget {budget}`), on {platform.node()} "
             f"({platform.processor() or platform.machine()}, 2 cores), {time.strftime('%Y-%m-%d')}; "
             "command: `.venv/bin/python benchmarks/ml_expert.py`.", "",
             "| dataset | test metric | validation | best iteration | wall time | peak memory | success |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        metric = DEFAULT_METRIC.get(r["dataset"], r.get("metric"))
        names = [metric] + [m for m in EXTRA.get(r["dataset"], []) if m != metric]
        test = ", ".join(f"{m} {fmt(r.get('test', {}).get(m))}" for m in names) if r.get("test") else "-"
        lines.append(
            f"| {r['dataset']} | {test} | {r.get('metric', '')} {fmt(r.get('validation'))} | "
            f"{r.get('best_summary') or '-'} | {r['wall_s'] / 60:.1f} min | "
            f"{r.get('peak_memory_mb', '-')} MB | "
            f"{'yes' if r.get('success') else 'NO'} |"
        )
    return "\n".join(lines)


def write_benchmarks_md(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    doc = path.read_text() if path.exists() else f"# Benchmarks\n\n## ML: expert brain\n\n{BEGIN}\n{END}\n"
    if BEGIN not in doc:
        doc += f"\n## ML: expert brain\n\n{BEGIN}\n{END}\n"
    head, rest = doc.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*")
    parser.add_argument("--budget", default="15m")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    if not DATASETS.exists():
        sys.exit(f"{DATASETS} not found: put the shared datasets beside this clone")
    names = args.datasets or sorted(p.name for p in DATASETS.iterdir() if p.is_dir() and p.name not in SKIP)
    out_root = ROOT / "benchmarks" / "runs"
    results_path = ROOT / "benchmarks" / "results" / "ml_expert.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    previous = (
        {r["dataset"]: r for r in json.loads(results_path.read_text())} if results_path.exists() else {}
    )
    for name in names:
        print(f"== {name}", flush=True)
        row = run_one(name, args.budget, out_root)
        previous[name] = row
        print(
            json.dumps(
                {k: row.get(k) for k in ("dataset", "success", "metric", "validation", "test", "wall_s")}
            ),
            flush=True,
        )
        results_path.write_text(json.dumps(list(previous.values()), indent=1))
    rows = [previous[n] for n in sorted(previous)]
    if not args.no_write:
        write_benchmarks_md(table(rows, args.budget))


if __name__ == "__main__":
    main()
