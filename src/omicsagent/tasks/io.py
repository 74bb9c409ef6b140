"""Tables on the host: the one reader (``omicsagent.ml.io.read_table``, shared with the sandboxed scripts),
finding a dataset's files by stem, and writing CSVs atomically.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from omicsagent.ml.io import read_table, write_table

__all__ = ["TABLE_SUFFIXES", "find_table", "read_table", "write_csv_atomic"]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".csv.gz", ".tsv.gz", ".txt.gz", ".h5ad")


def find_table(folder: Path, stem: str) -> Path | None:
    """The file in ``folder`` named ``stem`` with any supported table suffix, if there is one."""
    for suffix in TABLE_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return None


def write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write a table (``write_table``: CSV, or AnnData for sparse genes) so a crash never leaves a
    half-written file behind."""
    write_table(df, path)
