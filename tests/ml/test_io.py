"""The one table reader (omicsagent.ml.io.read_table): formats recognised from the bytes, delimiters sniffed
whatever the file is called, the same frame and dtypes from every format, one-sentence errors."""
from __future__ import annotations

import gzip
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from omicsagent.errors import InputError
from omicsagent.ml import io as ml_io
from omicsagent.ml.io import read_parquet, read_table, sniff_delimiter, write_parquet


def frame() -> pd.DataFrame:
    """Strings, ints, floats with a missing value, booleans, a text column holding commas and semicolons."""
    return pd.DataFrame({
        "id": ["a1", "b2", "c3", "d4"],
        "sequence": ["ACGTAC", "GGCATT", "TTTAAA", "CCGGTA"],
        "count": [1, 2, 3, 4],
        "score": [0.5, np.nan, -1.25, 3e-7],
        "flag": [True, False, True, False],
        "note": ["x, y", "a;b", "plain", "tab-free"],
        "label": [0, 1, 0, 1],
    })


def write_text(path, df: pd.DataFrame, sep: str, *, gz: bool = False):
    text = df.to_csv(sep=sep, index=False)
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


@pytest.mark.parametrize("sep", [",", "\t", ";"])
@pytest.mark.parametrize("name", ["train.csv", "train.tsv", "train.txt", "train"])
def test_delimiter_is_sniffed_whatever_the_extension(tmp_path, sep, name):
    path = write_text(tmp_path / name, frame(), sep)
    got = read_table(path)
    pd.testing.assert_frame_equal(got, frame())


@pytest.mark.parametrize("name", ["train.csv.gz", "train.csv", "train.gz"])
def test_gzip_is_recognised_from_its_bytes(tmp_path, name):
    path = write_text(tmp_path / name, frame(), "\t", gz=True)
    pd.testing.assert_frame_equal(read_table(path), frame())


@pytest.mark.parametrize("name", ["train.parquet", "train.csv"])
def test_parquet_is_recognised_from_its_bytes(tmp_path, name):
    df = frame()
    df.to_parquet(tmp_path / name, index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / name), df)


def test_parquet_helpers_round_trip_like_pandas_index_and_column_subset_included(tmp_path):
    """read_parquet/write_parquet (by path, one thread) give what pandas' own reader gives: the index back,
    None for missing text, and with ``columns=[]`` the index alone."""
    df = frame().set_index("id")
    df.loc[df.index[0], "note"] = None
    write_parquet(df, tmp_path / "a.parquet")
    got = read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "a.parquet"))
    pd.testing.assert_frame_equal(got, df)
    only_index = read_parquet(tmp_path / "a.parquet", columns=[])
    assert list(only_index.columns) == [] and list(only_index.index) == list(df.index)


def test_every_format_gives_the_same_dtypes(tmp_path):
    df = frame()
    df.to_parquet(tmp_path / "a.parquet", index=False)
    paths = [write_text(tmp_path / "b.csv", df, ","), write_text(tmp_path / "c.csv", df, "\t"),
             write_text(tmp_path / "d.txt", df, ";"), write_text(tmp_path / "e.tsv.gz", df, "\t", gz=True),
             tmp_path / "a.parquet"]
    dtypes = {str(p.name): dict(read_table(p).dtypes.astype(str)) for p in paths}
    assert len({tuple(d.items()) for d in dtypes.values()}) == 1, dtypes
    assert dtypes["b.csv"] == {"id": "object", "sequence": "object", "count": "int64", "score": "float64",
                               "flag": "bool", "note": "object", "label": "int64"}


def test_sniffer_prefers_the_delimiter_that_splits_every_line_alike():
    # commas inside quotes and unquoted semicolons in a text column do not fool it
    assert sniff_delimiter('id,note,label\n1,"a, b",0\n2,c;d,1\n') == ","
    # a tab file whose header holds a comma
    assert sniff_delimiter("name, long\tlabel\nx\t1\ny, z\t0\n") == "\t"
    # semicolons with decimal commas
    assert sniff_delimiter("a;b\n1,5;2\n3,25;4\n") == ";"
    # one column: nothing to split
    assert sniff_delimiter("sequence\nACGT\nGGCC\n") == ","


def test_a_single_column_table_is_fine(tmp_path):
    (tmp_path / "x.csv").write_text("sequence\nACGT\nGGCC\n")
    assert list(read_table(tmp_path / "x.csv").columns) == ["sequence"]


@pytest.mark.parametrize("header, word", [('"a;b;c"', "semicolon"), ("a|b|c", "pipe")])
def test_a_header_that_reads_as_one_delimited_column_gets_a_hint(tmp_path, header, word):
    path = tmp_path / "train.csv"
    path.write_text(f"{header}\n1|2|3\n4|5|6\n")
    with pytest.raises(InputError, match=f"single column.*{word}.*commas, tabs or semicolons"):
        read_table(path)


@pytest.mark.parametrize("content, needle", [
    (b"", "is empty"),
    (b"a,b\n", "no data rows"),
    (b"a,a,b\n1,2,3\n", "duplicate column names"),
    (b"a,b\n\xff\xfe,1\nx,2\n", "not UTF-8"),
    (b"BZh91AY&SY", "bzip2-compressed"),
    (b"a,b\n1,2\n3,4,5,6\n", "could not be parsed as a comma-separated table"),
])
def test_bad_tables_are_one_sentence(tmp_path, content, needle):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=needle) as err:
        read_table(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_and_folder_paths(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder"):
        read_table(tmp_path)


def test_host_and_sandbox_share_one_function():
    from omicsagent.ml import pipeline
    from omicsagent.tasks import io as tasks_io

    assert tasks_io.read_table is ml_io.read_table is pipeline.read_table


def test_a_script_in_a_plain_python_reads_the_same_frame(tmp_path):
    """What a generated script does: import the reader from omicsagent.ml.pipeline in a fresh process."""
    path = write_text(tmp_path / "train.csv", frame(), "\t")
    code = ("import sys; from omicsagent.ml.pipeline import read_table; "
            "df = read_table(sys.argv[1]); print(df.shape, dict(df.dtypes.astype(str)))")
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"{frame().shape} {dict(read_table(path).dtypes.astype(str))}"


def test_anndata_reads_as_obs_plus_genes_whatever_the_name(tmp_path):
    """An .h5ad file (HDF5 bytes, even named cells.csv) reads as obs columns + one column per gene; a sparse
    X gives sparse gene columns (a dense X dense ones) holding the same values; categories come back as
    their values; a layer or raw can be chosen."""
    import anndata
    from scipy import sparse

    from omicsagent.testing import singlecell_frames, write_h5ad

    counts, obs = singlecell_frames(30, 12, seed=1)
    write_h5ad(tmp_path / "sparse.h5ad", counts, obs, sparse=True)
    write_h5ad(tmp_path / "cells.csv", counts, obs, sparse=False)
    a, b = read_table(tmp_path / "sparse.h5ad"), read_table(tmp_path / "cells.csv")
    assert ml_io.sparse_columns(a) == list(a.columns[2:]) and not ml_io.sparse_columns(b)
    pd.testing.assert_frame_equal(a.astype({c: b[c].dtype for c in ml_io.sparse_columns(a)}), b)
    assert list(a.columns[:2]) == ["cell_type", "batch"] and a.shape == (30, 14)
    assert a["cell_type"].dtype == object and np.array_equal(a.iloc[:, 2:].to_numpy(), counts)
    assert ml_io.is_anndata(tmp_path / "cells.csv")
    write_h5ad(tmp_path / "log.h5ad", counts, obs, log_normalised=True)
    assert np.array_equal(read_table(tmp_path / "log.h5ad", layer="counts").iloc[:, 2:].to_numpy(), counts)
    assert not np.array_equal(read_table(tmp_path / "log.h5ad").iloc[:, 2:].to_numpy(), counts)
    with pytest.raises(InputError, match=r"has no layer 'spliced'; choose one of: X, counts\."):
        read_table(tmp_path / "log.h5ad", layer="spliced")
    ad = anndata.read_h5ad(tmp_path / "log.h5ad")
    ad.raw = ad.copy()
    ad.X = sparse.csr_matrix(np.zeros_like(counts))
    ad.write_h5ad(tmp_path / "raw.h5ad")
    assert read_table(tmp_path / "raw.h5ad", layer="raw").iloc[:, 2:].to_numpy().sum() > 0
    pd.testing.assert_frame_equal(read_table(tmp_path / "sparse.h5ad", nrows=5), a.head(5))


def test_hdf5_that_is_not_anndata_is_one_sentence(tmp_path):
    import h5py

    with h5py.File(tmp_path / "x.h5ad", "w") as f:
        f["numbers"] = np.arange(3)
    with pytest.raises(InputError, match="not a readable AnnData"):
        read_table(tmp_path / "x.h5ad")
