"""Measure the expression team end to end (`omicsagent expr run`, expert brain, real sandbox).

Two workloads, each a fresh `omicsagent expr run` in a child process with its own cache (cold alias
table, empty code memory):

* synthetic: GEO cohorts in the real file formats (tests/expression/team/cohorts.py), several traits with
  conditions None/Age/Gender, run serially (--jobs 1) and with --jobs 2;
* shared: the CHOL and GSE4107 problems on ../shared/datasets/expression (traits Bile_Duct_Cancer and
  Colorectal_Cancer, conditions None/Age/Gender; the TCGA engineer chooses among CHOL and DLBC).

Reported: wall time, problems per minute, cohorts, code reuse, the peak RSS of the largest process
(ru_maxrss over the run's process tree, sandboxed unit scripts included). Usage (share the machine):

    nice -n 5 .venv/bin/python benchmarks/expr_team.py                 # both workloads
    nice -n 5 .venv/bin/python benchmarks/expr_team.py --only synthetic --cohorts 8
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

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "expression"
GENE_INFO = DATA / "gene_info" / "Homo_sapiens.gene_info.gz"
OMICSAGENT = ROOT / ".venv" / "bin" / "omicsagent"
RESULTS = ROOT / "benchmarks" / "results" / "expr_team.json"
SYNTHETIC_TRAITS = ("Colorectal_Cancer", "Asthma", "Obesity", "Psoriasis")


def _run(args: list[str], cwd: Path, cache: Path) -> dict:
    """One `omicsagent expr run` in a child; its own ru_maxrss and wall time."""
    code = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'rc': p.returncode, 'wall_s': wall, 'peak_mb': rss, 'stdout': p.stdout[-3000:],"
        " 'stderr': p.stderr[-3000:]}))\n"
    )
    env = {**os.environ, "OMICSAGENT_CACHE_DIR": str(cache), "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, "-c", code, str(OMICSAGENT), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"expr run failed:\n{result['stderr']}")
    return result


def _summary(out: Path) -> dict:
    journal = json.loads((out / "team" / "journal.json").read_text())
    reuse = {"as_is": 0, "adapted": 0, "new": 0}
    unit_peak = 0.0
    for e in journal["cohorts"].values():
        for k, v in e["reuse"].items():
            reuse[k] += v
        task = json.loads((out / e["journal"]).read_text())
        for ev in task["events"]:
            for r in ev.get("rounds", []):
                unit_peak = max(unit_peak, r.get("peak_memory_mb", 0.0))
    problems = journal["problems"].values()
    return {"cohorts": len(journal["cohorts"]), "usable": sum(bool(e["record"] and e["record"]["is_usable"])
                                                              for e in journal["cohorts"].values()),
            "problems": len(journal["problems"]), "answered": sum(bool(p["output"]) for p in problems),
            "genes": {f"{p['trait']}/{p['condition']}": p["n_genes"] for p in problems},
            "reuse": reuse, "unit_peak_mb": unit_peak}


def synthetic(n_cohorts: int, jobs: int) -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "expression" / "team"))
    import cohorts  # the tests' writers of GEO cohorts in the real file formats

    from omicsagent.expression import synthetic as syn

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        syn.write_gene_info(tmp / "gene_info.gz")
        traits = SYNTHETIC_TRAITS[: max(1, min(len(SYNTHETIC_TRAITS), n_cohorts // 2))]
        for i in range(n_cohorts):
            trait = traits[i % len(traits)]
            cohorts.geo_plain(tmp / "input" / "GEO" / trait / f"GSE9{i:02d}", f"GSE9{i:02d}",
                              trait_name=trait.replace("_", " ").lower(), seed=i)
        cohorts.task_info(tmp / "task_info.json", {t: {"related_genes": ["GENE1", "GENE2"],
                                                       "conditions": ["Age", "Gender"]} for t in traits})
        res = _run(["expr", "run", "--problems", "task_info.json", "--cohorts", "input", "--out", "out",
                    "--gene-info", "gene_info.gz", "--jobs", str(jobs), "--quiet"], tmp, tmp / "cache")
        summary = _summary(tmp / "out")
    return {
        "workload": f"synthetic: {n_cohorts} GEO cohorts, {len(traits)} traits",
        "jobs": jobs,
        **res,
        **summary,
    }


def shared(jobs: int) -> dict:
    if not GENE_INFO.is_file():
        raise SystemExit(f"../shared/datasets not found: {GENE_INFO}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tasks = {t: {"related_genes": [], "conditions": ["Age", "Gender"]}
                 for t in ("Bile_Duct_Cancer", "Colorectal_Cancer")}
        (tmp / "task_info.json").write_text(json.dumps(tasks))
        res = _run(["expr", "run", "--problems", "task_info.json", "--cohorts", str(DATA), "--out", "out",
                    "--gene-info", str(GENE_INFO), "--jobs", str(jobs), "--quiet"], tmp, tmp / "cache")
        summary = _summary(tmp / "out")
    return {"workload": "shared: TCGA CHOL (+DLBC considered) and GEO GSE4107, 6 problems", "jobs": jobs,
            **res, **summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["synthetic", "shared", "both"], default="both")
    parser.add_argument("--cohorts", type=int, default=8)
    args = parser.parse_args()
    rows = []
    if args.only in ("synthetic", "both"):
        for jobs in (1, 2):
            rows.append(synthetic(args.cohorts, jobs))
            print(
                json.dumps({k: v for k, v in rows[-1].items() if k not in ("stdout", "stderr")}), flush=True
            )
    if args.only in ("shared", "both"):
        rows.append(shared(2))
        print(json.dumps({k: v for k, v in rows[-1].items() if k not in ("stdout", "stderr")}), flush=True)
    load = os.getloadavg()
    meta = {"machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores)",
            "date": time.strftime("%Y-%m-%d"), "load_after": [round(x, 1) for x in load],
            "command": "nice -n 5 .venv/bin/python benchmarks/expr_team.py" + (
                f" --only {args.only}" if args.only != "both" else "")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "meta": meta,
                "rows": [{k: v for k, v in r.items() if k not in ("stdout", "stderr")} for r in rows],
            },
            indent=1,
        )
    )
    print(f"\n{meta['machine']}, {meta['date']}, load average after the run {meta['load_after']}\n")
    print(
        "| workload | jobs | cohorts (usable) | problems (answered) | wall time | problems / min | "
        "code reuse (as is / adapted / new) | peak RSS, largest process | peak, one sandboxed unit |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ppm = r["problems"] / (r["wall_s"] / 60)
        print(
            f"| {r['workload']} | {r['jobs']} | {r['cohorts']} ({r['usable']}) | "
            f"{r['problems']} ({r['answered']}) | "
            f"{r['wall_s']:.0f} s | {ppm:.1f} | {r['reuse']['as_is']} / {r['reuse']['adapted']} / "
            f"{r['reuse']['new']} | {r['peak_mb']:.0f} MB | {r['unit_peak_mb']:.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
