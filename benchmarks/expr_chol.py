"""Time TCGA CHOL preprocess + analyze end to end and print a Markdown row for BENCHMARKS.md.

Each mode runs in a fresh child process, so peak memory (ru_maxrss) is that run's own. The alias
table is built from NCBI gene_info into an empty cache first (the cold-start case) and timed
separately. Usage:

    .venv/bin/python benchmarks/expr_chol.py            # default and --reference-compatible
    .venv/bin/python benchmarks/expr_chol.py --mode default
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "expression"
CHOL = DATA / "tcga" / "TCGA_Bile_Duct_Cancer_(CHOL)"
GENE_INFO = DATA / "gene_info" / "Homo_sapiens.gene_info.gz"
TRAIT = "Bile_Duct_Cancer"


def child(mode: str) -> dict:
    from omicsagent.expression.pipeline import AnalyzeOptions, PreprocessOptions, analyze, preprocess_cohort
    from omicsagent.expression.pp.symbols import load_alias_table

    ref = mode == "reference-compatible"
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        aliases = load_alias_table(GENE_INFO, cache_dir=Path(tmp) / "cache", reference_compatible=ref)
        t1 = time.perf_counter()
        pre = preprocess_cohort(
            CHOL,
            trait=TRAIT,
            out_dir=Path(tmp) / "preprocess",
            aliases=aliases,
            options=PreprocessOptions(reference_compatible=ref),
        )
        t2 = time.perf_counter()
        res = analyze(
            Path(tmp) / "preprocess",
            trait=TRAIT,
            out_dir=Path(tmp) / "regress",
            options=AnalyzeOptions(reference_compatible=ref),
        )
        t3 = time.perf_counter()
    return {
        "mode": mode,
        "alias_s": t1 - t0,
        "preprocess_s": t2 - t1,
        "analyze_s": t3 - t2,
        "total_s": t3 - t0,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "samples": pre.record.sample_size,
        "genes": pre.shapes["genes"][0],
        "selected": len(res.genes),
        "penalty": res.penalty,
        "cv_f1": res.cv_performance["prediction"].get("f1"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["default", "reference-compatible", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    if not CHOL.is_dir() or not GENE_INFO.is_file():
        print(f"../shared/datasets not found: need {CHOL} and {GENE_INFO}", file=sys.stderr)
        return 2
    modes = ["default", "reference-compatible"] if args.mode == "both" else [args.mode]
    rows = []
    for mode in modes:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", mode],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{os.cpu_count()} CPU cores; times in seconds (alias = cold build of the NCBI alias table).\n")
    head = [
        "benchmark",
        "mode",
        "samples x genes",
        "selected genes",
        "alias",
        "preprocess",
        "analyze",
        "total",
    ]
    print("| " + " | ".join([*head, "peak RSS"]) + " |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| expr: TCGA CHOL preprocess + analyze | {r['mode']} | {r['samples']} x {r['genes']} | "
            f"{r['selected']} (penalty {r['penalty']:g}, CV F1 {r['cv_f1']:.1f}) | {r['alias_s']:.1f} | "
            f"{r['preprocess_s']:.1f} | {r['analyze_s']:.1f} | {r['total_s']:.1f} | {r['peak_mb']:.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
