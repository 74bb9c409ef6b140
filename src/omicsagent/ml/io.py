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
  of that name), one row per cell. Only those parts of the file are read. A matrix stored sparse stays
  sparse: its gene columns are pandas sparse columns (``pd.SparseDtype``, zeros not stored), and
  ``gene_matrix`` gives them back as one CSR matrix; a dense matrix gives dense columns.
- ``write_table`` is the one writer of the tables omicsagent hands on (workspace inputs, splits, the
  harness's files): comma-separated text, or an AnnData file (whatever the file is called: the reader goes
  by the bytes) when the table has sparse gene columns, so a sparse matrix is never written out densely.
- Every failure is an ``InputError``: one sentence naming the file and the fix.
"""
from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
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
    dupes = sorted(c for c, n in Counter(columns).items() if n > 1)
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


def read_parquet(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file as a frame (its stored index restored), read by path on one thread.

    ``pd.read_parquet`` hands pyarrow a Python file object and reads on Arrow's thread pool; a process that
    exits soon after can then abort in the pool's teardown ("terminate called without an active
    exception", exit code 134), as sandboxed scripts did on a loaded machine. Every Parquet read goes
    through here."""
    import pyarrow.parquet as pq

    table = pq.read_table(str(path), columns=columns, use_threads=False, use_pandas_metadata=True)
    return table.to_pandas(use_threads=False)


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """The writer matching ``read_parquet``: by path, on one thread."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(frame, nthreads=1), str(path))


def _read_parquet(path: Path, nrows: int | None) -> tuple[pd.DataFrame, list[str]]:
    try:
        df = read_parquet(path)
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
        raise _not_anndata(path, err) from None


def _not_anndata(path: str | Path, err: Exception) -> InputError:
    return InputError(
        f"{path} is an HDF5 file but not a readable AnnData (.h5ad) file ({type(err).__name__}); "
        "write it with anndata's write_h5ad."
    )


def _matrix_key(layer: str | None, layers: list[str], has_raw: bool, path: str | Path) -> str:
    """Where the expression matrix of ``layer`` lives: ``X``, ``layers/<layer>`` or ``raw`` (``"raw"`` when
    no layer has that name); an ``InputError`` listing the choices otherwise."""
    if layer is None or layer == "X":
        return "X"
    if layer in layers:
        return f"layers/{layer}"
    if layer == "raw" and has_raw:
        return "raw"
    options = ["X", *layers] + (["raw"] if has_raw else [])
    raise InputError(f"{path} has no layer '{layer}'; choose one of: {', '.join(options)}.")


def expression_matrix(adata, layer: str | None, path: str | Path):
    """``(matrix, gene names)`` of an AnnData: ``X``, the layer named ``layer``, or ``adata.raw.X`` for
    ``"raw"`` when no layer has that name; sparse matrices stay sparse."""
    key = _matrix_key(layer, list(adata.layers.keys()), adata.raw is not None, path)
    if key == "X":
        matrix, genes = adata.X, adata.var_names
    elif key == "raw":
        matrix, genes = adata.raw.X, adata.raw.var_names
    else:
        matrix, genes = adata.layers[layer], adata.var_names
    if matrix is None:
        raise InputError(f"{path} has no expression matrix X; give a file with X or choose a --layer.")
    return matrix, [str(g) for g in genes]


def anndata_parts(path: str | Path, layer: str | None = None, *, nrows: int | None = None,
                  matrix: bool = True):
    """``(obs, matrix, gene names)`` of an AnnData file, reading only those parts (not the other layers,
    embeddings or graphs it may hold): the matrix of ``layer`` (see ``expression_matrix``) as stored, CSR
    when it is sparse (None when ``matrix`` is false), the first ``nrows`` cells only if given."""
    import h5py
    from scipy import sparse

    path = Path(path)
    try:
        fh = h5py.File(path, "r")
    except OSError as err:
        raise _not_anndata(path, err) from None
    with fh:
        modern = _encoding(fh) == "anndata" and "obs" in fh and "var" in fh
        if modern:
            try:
                obs, x, genes = _h5_parts(fh, layer, nrows, matrix, path)
            except InputError:
                raise
            except Exception as err:  # noqa: BLE001 - h5py/anndata raise many types for corrupt files
                raise _not_anndata(path, err) from None
    if not modern:  # written by an anndata older than 0.7: anndata reads the whole file
        adata = read_anndata(path)
        x, genes = expression_matrix(adata, layer, path)
        obs = adata.obs
        if nrows is not None:
            obs, x = obs.iloc[:nrows], x[:nrows]
    if x is not None and sparse.issparse(x):
        x = x.tocsr()
    return obs, (x if matrix else None), genes


def _encoding(element) -> str:
    """The ``encoding-type`` anndata wrote on an HDF5 group or dataset ("" when there is none)."""
    kind = element.attrs.get("encoding-type", "")
    return kind.decode() if isinstance(kind, bytes) else str(kind)


def _h5_parts(fh, layer: str | None, nrows: int | None, matrix: bool, path: Path):
    from anndata.io import read_elem, sparse_dataset

    layers = list(fh["layers"].keys()) if "layers" in fh else []
    key = _matrix_key(layer, layers, "raw" in fh and "X" in fh["raw"], path)
    obs = read_elem(fh["obs"])
    var = fh["raw/var"] if key == "raw" else fh["var"]
    genes = [str(g) for g in read_elem(var).index]
    element = fh.get("raw/X" if key == "raw" else key)
    if element is None:
        raise InputError(f"{path} has no expression matrix X; give a file with X or choose a --layer.")
    x = None
    if matrix:
        if _encoding(element) in ("csr_matrix", "csc_matrix"):
            x = sparse_dataset(element)[:nrows] if nrows is not None else read_elem(element)
        else:
            x = element[:nrows] if nrows is not None else read_elem(element)
    if nrows is not None:
        obs = obs.iloc[:nrows]
    return obs, x, genes


def _read_anndata(path: Path, nrows: int | None, layer: str | None) -> tuple[pd.DataFrame, list[str]]:
    import numpy as np
    from scipy import sparse

    obs, matrix, genes = anndata_parts(path, layer, nrows=nrows)
    obs = obs.reset_index(drop=True)
    for c in obs.columns:  # categories as their values, as a text table gives them back
        if isinstance(obs[c].dtype, pd.CategoricalDtype):
            values = obs[c].astype(object)
            try:
                obs[c] = values.astype(obs[c].cat.categories.dtype) if values.notna().all() else values
            except (TypeError, ValueError):
                obs[c] = values
    if sparse.issparse(matrix):  # kept sparse: one pandas sparse column per gene
        genes_df = pd.DataFrame.sparse.from_spmatrix(matrix, columns=genes)
    else:
        genes_df = pd.DataFrame(np.asarray(matrix), columns=genes)
    columns = [str(c) for c in obs.columns] + genes
    return _with_obs(genes_df, obs), columns


def _with_obs(genes: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """``obs``'s columns, then ``genes``' (both indexed 0..n-1); inserted one by one, which unlike a concat
    does not walk the thousands of gene columns."""
    import warnings

    with warnings.catch_warnings():  # "highly fragmented": one block per sparse column is what it should be
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        for i, c in enumerate(obs.columns):
            genes.insert(i, c, obs[c])
    return genes


def take_rows(df: pd.DataFrame, rows) -> pd.DataFrame:
    """The rows ``rows`` (positions, or a boolean mask) of ``df`` in that order, index reset. A table with
    sparse gene columns is cut as one CSR matrix: pandas cuts each sparse column on its own, which takes
    seconds for 10,000 genes."""
    import numpy as np
    from scipy import sparse

    rows = np.asarray(rows)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    genes = sparse_columns(df)
    if len(genes) < 100:
        return df.iloc[rows].reset_index(drop=True)
    x = sparse.csr_matrix(df[genes].sparse.to_coo())[rows]
    out = _with_obs(pd.DataFrame.sparse.from_spmatrix(x, columns=genes),
                    df.drop(columns=genes).iloc[rows].reset_index(drop=True))
    return out if list(out.columns) == list(df.columns) else out[list(df.columns)]


def sparse_columns(df: pd.DataFrame) -> list[str]:
    """The columns of ``df`` held sparse (the genes of a sparse AnnData matrix)."""
    return [c for c, dtype in df.dtypes.items() if isinstance(dtype, pd.SparseDtype)]


def gene_matrix(df: pd.DataFrame, columns: list[str]):
    """The values of ``columns`` as one matrix: CSR (float64) when they are all sparse columns, never
    densified; otherwise a dense float64 array with missing values as 0."""
    import numpy as np
    from scipy import sparse

    block = df[columns]
    if columns and all(isinstance(t, pd.SparseDtype) for t in block.dtypes):
        return sparse.csr_matrix(block.sparse.to_coo(), dtype=np.float64)
    return block.to_numpy(dtype=np.float64, na_value=0.0)


def write_table(df: pd.DataFrame, path: str | Path, *, layer: str | None = None) -> Path:
    """Write ``df`` so that ``read_table`` gives it back, atomically (a crash leaves no half file): comma-
    separated text, or, when it has sparse columns, an AnnData file with the other columns as ``obs`` and
    the sparse ones as a CSR ``X`` (also stored as the layer ``layer`` when given, so a script that reads
    the task's layer finds it). The format follows the content, not the file's name."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    genes = sparse_columns(df)
    if not genes:
        tmp.write_bytes(to_csv_bytes(df))
    else:
        import anndata
        from scipy import sparse

        obs = df.drop(columns=genes).reset_index(drop=True)
        obs.index = [str(i) for i in range(len(obs))]
        x = sparse.csr_matrix(df[genes].sparse.to_coo())
        adata = anndata.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[str(g) for g in genes]))
        if layer is not None and layer != "X":
            adata.layers[layer] = x
        adata.write_h5ad(tmp)
    tmp.replace(path)
    return path


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
