"""Reading tables (csv/tsv/parquet, compressed or not)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from omicsagent.errors import InputError

_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a csv/tsv/parquet table (gzip-compressed text is fine); text columns stay strings."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"Table {str(p)!r} does not exist; pass the path of an existing csv/tsv/parquet file.")
    name = p.name.lower()
    if name.endswith(".gz") or name.endswith(".bz2") or name.endswith(".zip") or name.endswith(".xz"):
        name = name.rsplit(".", 1)[0]
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(p)
        if name.endswith((".tsv", ".tab")):
            return pd.read_csv(p, sep="\t", low_memory=False)
        if name.endswith(".csv"):
            return pd.read_csv(p, low_memory=False)
        # unknown suffix: let pandas sniff the separator
        return pd.read_csv(p, sep=None, engine="python")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"Could not read table {str(p)!r} ({exc.__class__.__name__}); "
                         f"give a well-formed file ending in one of {', '.join(_SUFFIXES)}.") from exc

