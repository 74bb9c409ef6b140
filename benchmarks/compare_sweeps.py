"""Do two `omicsagent bench run` result folders give the same leaderboard? (serial against Ray, issue 11)

    python benchmarks/compare_sweeps.py RESULTS_A RESULTS_B

Compares every job both folders hold (success, raw and normalised score, and for omicsagent agents the
iterations' candidates and validation scores from the run journals) and the two leaderboards without their
time columns (wall and CPU time depend on the executor and the load). Prints a Markdown table of the jobs and
exits 1 when anything but time differs.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


TIME_COLUMNS = ("wall_s", "cpu_s")


def jobs(folder: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((folder / "results").glob("*.json"))}


def iterations(folder: Path, rec: dict) -> list[tuple] | None:
    paths = (rec.get("artifacts") or {}).get("journal") or []
    if not paths:
        return None
    j = json.loads((folder / paths[0]).read_text())
    return [(it["representation"], it["model"], it.get("parent"), it.get("validation_metrics"))
            for it in j["iterations"]]


def leaderboard_csv(folder: Path) -> list[dict]:
    import csv
    import io
    import subprocess

    out = subprocess.run([sys.executable, "-m", "omicsagent", "bench", "leaderboard", str(folder), "--format",
                          "csv"], capture_output=True, text=True, check=True).stdout
    rows = csv.DictReader(io.StringIO(out))
    return [{k: v for k, v in row.items() if k not in TIME_COLUMNS} for row in rows]


def main(argv: list[str]) -> int:
    a, b = Path(argv[0]), Path(argv[1])
    ja, jb = jobs(a), jobs(b)
    common = sorted(set(ja) & set(jb))
    differ = 0
    print(f"| job | {a.name} raw | {b.name} raw | same | {a.name} wall | {b.name} wall | iterations |")
    print("|---|---|---|---|---|---|---|")
    for key in common:
        ra, rb = ja[key], jb[key]
        same = (ra["success"], ra["raw_score"], ra["score"]) == (rb["success"], rb["raw_score"], rb["score"])
        ia, ib = iterations(a, ra), iterations(b, rb)
        same = same and ia == ib
        differ += not same
        raw = [f"{r['raw_score']:.4f}" if r["raw_score"] is not None else "-" for r in (ra, rb)]
        its = "-" if ia is None else f"{len(ia)} / {len(ib or [])}"
        print(f"| {key} | {raw[0]} | {raw[1]} | {'same' if same else 'DIFFERENT'} | {ra['wall_s']:.0f} s | "
              f"{rb['wall_s']:.0f} s | {its} |")
    only = sorted(set(ja) ^ set(jb))
    same_board = leaderboard_csv(a) == leaderboard_csv(b)
    listed = f": {', '.join(only)}" if only else ""
    print(f"\n{len(common)} jobs in both, {len(common) - differ} identical, {differ} different; "
          f"{len(only)} in one folder only{listed}; leaderboards without time columns: "
          f"{'identical' if same_board else 'DIFFERENT'}")
    return 0 if differ == 0 and same_board and not only else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
