"""Peak memory of `omicsagent run` on a synthetic sparse single-cell file of realistic shape.

    nice -n 5 .venv/bin/python benchmarks/singlecell_sparse.py                      # 10,000 x 10,000, 5%
    nice -n 5 .venv/bin/python benchmarks/singlecell_sparse.py --cells 20000 --genes 20000

Writes a seeded AnnData file of raw counts (CSR, the given density, five cell types each marked by its own
genes) into a temporary folder (never the repository), runs the real CLI on it with a short budget and
prints the largest resident set of any process of the run (`ru_maxrss` of the waited-for process tree:
the CLI or one of its sandboxed scripts), the wall time, the iterations and their validation macro-F1.
A benchmark, not a test: the figures go into BENCHMARKS.md by hand, with the machine's load.
"""
from __future__ import annotations

import argparse
import json
import os
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


def write_cells(path: Path, n_cells: int, n_genes: int, density: float, seed: int = 0) -> int:
    """A counts AnnData of ``n_cells`` x ``n_genes`` stored as CSR with about ``density`` non-zeros;
    returns the number of stored values."""
    import anndata
    from scipy import sparse

    rng = np.random.default_rng(seed)
    types = rng.integers(0, 5, n_cells)
    per_cell = rng.binomial(n_genes, density, n_cells)
    indptr = np.concatenate([[0], np.cumsum(per_cell)])
    indices = np.empty(indptr[-1], dtype=np.int32)
    for i in range(n_cells):  # distinct genes per cell; a type's 40 marker genes are picked more often
        genes = rng.choice(n_genes, per_cell[i], replace=False)
        markers = 40 * types[i] + rng.integers(0, 40, max(1, per_cell[i] // 20))
        indices[indptr[i]:indptr[i + 1]] = np.sort(np.unique(np.concatenate([genes, markers]))[:per_cell[i]])
    data = rng.integers(1, 8, indptr[-1]).astype(np.float32)
    x = sparse.csr_matrix((data, indices, indptr), shape=(n_cells, n_genes))
    x.sort_indices()
    obs = pd.DataFrame({"cell_type": pd.Categorical([f"type_{t}" for t in types])},
                       index=[f"cell{i}" for i in range(n_cells)])
    anndata.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[f"G{j}" for j in range(n_genes)])).write_h5ad(path)
    return int(x.nnz)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--genes", type=int, default=10_000)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--time-budget", default="2m")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sc-sparse-bench-"))
    try:
        data = tmp / "cells"
        data.mkdir()
        t = time.time()
        nnz = write_cells(data / "cells.h5ad", args.cells, args.genes, args.density)
        size = (data / "cells.h5ad").stat().st_size / 2**20
        dense = args.cells * args.genes * 8 / 2**30
        print(f"wrote {args.cells} cells x {args.genes} genes, {nnz} stored counts "
              f"({nnz / args.cells / args.genes:.1%}), {size:.0f} MiB in {time.time() - t:.0f} s; "
              f"dense float64 would be {dense:.1f} GiB", flush=True)
        exe = Path(sys.executable).parent / "omicsagent"
        cmd = [str(exe), "run", "cells", "--time-budget", args.time_budget, "--quiet", "--out", "run"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.time()
        res = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, env={**os.environ})
        wall = time.time() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"`omicsagent run` exit {res.returncode} in {wall:.0f} s; peak RSS of one process "
              f"{peak / 2**20:.2f} GiB" + (" (no larger than this script's earlier children)"
                                            if peak == before else ""))
        journal = tmp / "run" / "journal.json"
        if journal.exists():
            j = json.loads(journal.read_text())
            for it in j["iterations"]:
                score = (it.get("validation_metrics") or {}).get("macro_f1")
                print(f"  iteration {it['index']}: {it.get('summary')}: validation macro_f1 {score}")
            print(f"  status: {j.get('status')} ({(j.get('status_reason') or '')[:120]})")
        if res.returncode:
            print(res.stderr[-2000:])
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
