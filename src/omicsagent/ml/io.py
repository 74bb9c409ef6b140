"""The one table reader: the host (task loading, the harness, the validators, reports) and the scripts that
run in the sandbox (``train.py``/``inference.py`` import it through ``omicsagent.ml.pipeline``) read every
table with ``read_table``, so a file gives the same columns and dtypes wherever it is read.

- The format is recognised from the bytes, not the name: Parquet (``PAR1``), gzip (``\\x1f\\x8b``) around
  text, or plain text.
- Text is UTF-8 (a BOM is fine). The delimiter is sniffed from the first lines: comma, tab or semicolon,
  whichever splits the header into several fields and the following lines into the same number of fields.
  A tab-separated file named ``train.csv`` is read as tab-separated.
- AnnData (``.h5ad``, HDF5 bytes) is read as a table too: the ``obs`` columns, then one column per gene
  (``var_names``) holding ``X`` or the chosen ``layer`` (``"raw"``: ``adata.raw.X`` when there is no layer
  of that name), one row per cell. The matrix may be stored sparse; the table holds it densely.
- Every failure is an ``InputError``: one sentence naming the file and the fix.
"""
from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pandas as pd

from omicsagent.errors import InputError, command

DELIMITERS = (",", "\t", ";")
_NAMES = {",": "comma", "\t": "tab", ";": "semicolon"}
_HINTS = {
    ";": "semicolon",
    "|": "pipe",
    "\t": "tab",
    ",": "comma",
}  # a one-column header holding one of these
_SNIFF_BYTES = 256 * 1024
_SNIFF_LINES = 200
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_HDF5_MAGIC = b"\x89HDF"
_OTHER_COMPRESSION = {b"BZh": "bzip2", b"\xfd7zX": "xz", b"PK\x03\x04": "zip", b"(\xb5/\xfd": "zstd"}


def read_table(path: str | Path, *, nrows: int | None = None, as_text: tuple[str, ...] = (),
               layer: str | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/semicolon-separated or Parquet table (text may be gzip-compressed), or an AnnData
    ``.h5ad`` file as a cells x (obs columns + genes) table.

    Column names become strings; values get pandas' default dtype inference (the same everywhere), except
    the text-file columns named in ``as_text``, which keep their raw strings. ``layer`` picks the AnnData
    matrix the gene columns hold (default ``X``); other formats have no layers and ignore it.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist; check the path or the dataset folder.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a table; give a .csv, .tsv or .parquet file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty; give a table with a header row and at least one data row.")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    other = next((name for sig, name in _OTHER_COMPRESSION.items() if magic.startswith(sig)), None)
    if other:
        raise InputError(f"{path} is {other}-compressed; decompress it, or compress it with gzip instead.")
    if magic == _PARQUET_MAGIC:
        df, columns = _read_parquet(path, nrows)
    elif magic == _HDF5_MAGIC:
        df, columns = _read_anndata(path, nrows, layer)
    else:
        df, columns = _read_text(path, nrows, gzipped=magic[:2] == _GZIP_MAGIC, as_text=as_text)
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(
            f"{path} has duplicate column names ({', '.join(map(repr, dupes))}); "
            "rename them so each is unique."
        )
    if len(df) == 0:
        raise InputError(f"{path} has a header but no data rows; add rows or give another file.")
    df.columns = [str(c) for c in df.columns]
    return df


def sniff_delimiter(text: str) -> str:
    """The delimiter (comma, tab or semicolon) of a text table from its first lines; comma if none splits it.

    A delimiter counts when it splits the header into at least two fields; among those, the one whose
    following lines have as many fields as the header most often wins, then the one giving more fields.
    Quoted fields are respected (``csv`` rules), so commas inside quotes do not count.
    """
    lines = text.splitlines()[:_SNIFF_LINES]
    if not lines:
        return ","
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        rows = [r for r in csv.reader(lines, delimiter=delim) if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        agree = sum(len(r) == width for r in body) / len(body)
        score = (agree, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_parquet(path: Path, nrows: int | None) -> tuple[pd.DataFrame, list[str]]:
    try:
        df = pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - pyarrow raises many types for corrupt files
        raise InputError(
            f"{path} is not a readable Parquet file ({type(err).__name__}); re-export it."
        ) from None
    if nrows is not None:
        df = df.head(nrows)
    return df, [str(c) for c in df.columns]


def is_anndata(path: str | Path) -> bool:
    """Whether ``path`` is an HDF5 file (how AnnData ``.h5ad`` files are stored), from its bytes."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == _HDF5_MAGIC
    except OSError:
        return False


def read_anndata(path: str | Path):
    """The AnnData object in ``path``, or an ``InputError`` saying the file cannot be read."""
    import anndata

    try:
        return anndata.read_h5ad(path)
    except Exception as err:  # noqa: BLE001 - h5py/anndata raise many types for foreign or corrupt files
        raise InputError(
            f"{path} is an HDF5 file but not a readable AnnData (.h5ad) file ({type(err).__name__}); "
            "write it with anndata's write_h5ad."
        ) from None


def expression_matrix(adata, layer: str | None, path: str | Path):
    """``(matrix, gene names)`` of an AnnData: ``X``, the layer named ``layer``, or ``adata.raw.X`` for
    ``"raw"`` when no layer has that name; sparse matrices stay sparse."""
    if layer is None or layer == "X":
        matrix, genes = adata.X, adata.var_names
    elif layer in adata.layers:
        matrix, genes = adata.layers[layer], adata.var_names
    elif layer == "raw" and adata.raw is not None:
        matrix, genes = adata.raw.X, adata.raw.var_names
    else:
        options = ["X", *adata.layers.keys()] + (["raw"] if adata.raw is not None else [])
        raise InputError(f"{path} has no layer '{layer}'; choose one of: {', '.join(options)}.")
    if matrix is None:
        raise InputError(f"{path} has no expression matrix X; give a file with X or choose a --layer.")
    return matrix, [str(g) for g in genes]


def _read_anndata(path: Path, nrows: int | None, layer: str | None) -> tuple[pd.DataFrame, list[str]]:
    import numpy as np
    from scipy import sparse

    adata = read_anndata(path)
    matrix, genes = expression_matrix(adata, layer, path)
    obs = adata.obs.reset_index(drop=True)
    if nrows is not None:
        obs, matrix = obs.head(nrows), matrix[:nrows]
    for c in obs.columns:  # categories as their values, as a text table gives them back
        if isinstance(obs[c].dtype, pd.CategoricalDtype):
            values = obs[c].astype(object)
            try:
                obs[c] = values.astype(obs[c].cat.categories.dtype) if values.notna().all() else values
            except (TypeError, ValueError):
                obs[c] = values
    dense = matrix.toarray() if sparse.issparse(matrix) else np.asarray(matrix)
    genes_df = pd.DataFrame(dense, columns=genes)
    columns = [str(c) for c in obs.columns] + genes
    df = pd.concat([obs, genes_df], axis=1) if len(obs.columns) else genes_df
    return df, columns


def _text_head(path: Path, gzipped: bool) -> str:
    try:
        if gzipped:
            with gzip.open(path, "rb") as fh:
                raw = fh.read(_SNIFF_BYTES)
        else:
            with open(path, "rb") as fh:
                raw = fh.read(_SNIFF_BYTES)
    except (OSError, EOFError) as err:
        raise InputError(
            f"{path} is not a readable gzip file ({err}); re-compress it or give the plain file."
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # A multi-byte character cut at the end of the sample is fine; a bad byte before it is not.
        if err.start < len(raw) - 4:
            raise InputError(
                f"{path} is not UTF-8 text (bad byte at position {err.start}); re-save it as UTF-8, "
                "for example "
                f"with `{command('iconv', '-f', 'latin1', '-t', 'utf-8', path.name)} > fixed.csv`."
            ) from None
        text = raw[: err.start].decode("utf-8-sig")
    if len(raw) == _SNIFF_BYTES and "\n" in text:  # drop the last line: it may be cut in the middle
        text = text[: text.rindex("\n")]
    return text


def _read_text(path: Path, nrows: int | None, *, gzipped: bool,
               as_text: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[str]]:
    head = _text_head(path, gzipped)
    if not head.strip():
        raise InputError(f"{path} has no content; give a table with a header row and at least one data row.")
    sep = sniff_delimiter(head)
    header = next(csv.reader([head.lstrip("\n").splitlines()[0]], delimiter=sep), [])
    if len(header) == 1 and (other := [d for d in _HINTS if d in header[0]]):
        raise InputError(
            f"{path} reads as a single column {header[0][:60]!r}, whose name holds "
            f"{_HINTS[other[0]]}s; separate "
            f"the columns with commas, tabs or semicolons (the same on every line, header included) "
            f"and quote only values that contain the delimiter."
        )
    try:
        df = pd.read_csv(path, sep=sep, nrows=nrows, encoding="utf-8-sig", low_memory=False,
                         compression="gzip" if gzipped else None,
                         dtype={c: str for c in as_text if c in header} or None)
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path} is not UTF-8 text (bad byte at position {err.start}); re-save it as UTF-8."
        ) from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} has no columns; give a table with a header row.") from None
    except (pd.errors.ParserError, EOFError, OSError) as err:
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(
            f"{path} could not be parsed as a {_NAMES[sep]}-separated table ({msg}); "
            "check its delimiters and quoting."
        ) from None
    return df, header


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """The comma-separated text ``read_table`` reads back as the same frame (used for workspace copies)."""
    buf = io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode()
