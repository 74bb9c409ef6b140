"""Reading tables with errors a user can act on.

Supports CSV, TSV (by extension or sniffed), Parquet, and gzip-compressed text. Every failure is an
``InputError`` naming the file and the fix.
"""
from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pandas as pd

from omicsagent.errors import InputError, command

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".csv.gz", ".tsv.gz", ".txt.gz")


def _open_text_head(path: Path, n: int = 65536) -> str:
    raw = path.read_bytes()[:n] if not path.name.endswith(".gz") else _gunzip_head(path, n)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # A multi-byte character cut at the end of the sample is fine; a bad byte before it is not.
        if err.start >= len(raw) - 4:
            return raw[: err.start].decode("utf-8-sig")
        raise InputError(
            f"{path} is not UTF-8 text (bad byte at position {err.start}); re-save it as UTF-8, for example "
            f"with `{command('iconv', '-f', 'latin1', '-t', 'utf-8', path.name)} > fixed.csv`."
        ) from None


def _gunzip_head(path: Path, n: int) -> bytes:
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(n)
    except (OSError, EOFError) as err:
        raise InputError(f"{path} is not a readable gzip file ({err}); re-compress it or give the plain file.") from None


def _header_fields(text: str, sep: str) -> list[str]:
    first = text.splitlines()[0] if text.splitlines() else ""
    return next(csv.reader([first], delimiter=sep), [])


def read_table(path: str | Path, *, nrows: int | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet table (optionally gzip-compressed) with user-facing errors."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist; check the path or the dataset folder.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a table; give a .csv, .tsv or .parquet file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty; give a table with a header row and at least one data row.")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        try:
            df = pd.read_parquet(path)
        except Exception as err:  # pyarrow raises many types for corrupt files
            raise InputError(f"{path} is not a readable Parquet file ({type(err).__name__}); re-export it.") from None
        columns = [str(c) for c in df.columns]
    else:
        head = _open_text_head(path)
        if not head.strip():
            raise InputError(f"{path} has no content; give a table with a header row and at least one data row.")
        sep = "\t" if (".tsv" in name or head.splitlines()[0].count("\t") > head.splitlines()[0].count(",")) else ","
        columns = _header_fields(head, sep)
        try:
            df = pd.read_csv(path, sep=sep, nrows=nrows, encoding="utf-8-sig", low_memory=False,
                             compression="gzip" if name.endswith(".gz") else None)
        except UnicodeDecodeError as err:
            raise InputError(
                f"{path} is not UTF-8 text (bad byte at position {err.start}); re-save it as UTF-8."
            ) from None
        except pd.errors.EmptyDataError:
            raise InputError(f"{path} has no columns; give a table with a header row.") from None
        except (pd.errors.ParserError, EOFError, OSError) as err:
            msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise InputError(f"{path} could not be parsed as a table ({msg}); check its delimiters and quoting.") from None
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(f"{path} has duplicate column names ({', '.join(map(repr, dupes))}); rename them so each is unique.")
    if len(df) == 0:
        raise InputError(f"{path} has a header but no data rows; add rows or give another file.")
    df.columns = [str(c) for c in df.columns]
    return df


def find_table(folder: Path, stem: str) -> Path | None:
    """The file in ``folder`` named ``stem`` with any supported table suffix, if there is one."""
    for suffix in TABLE_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return None


def write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write a CSV so a crash never leaves a half-written file behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    tmp.write_text(buf.getvalue())
    tmp.replace(path)
