from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsagent.errors import InputError
from omicsagent.ml.pipeline import build_featurizer


def test_kmer_counts_and_frequencies():
    df = pd.DataFrame({"s": ["AAAC", "acgu"]})
    f = build_featurizer({"blocks": [{"kind": "kmer", "column": "s", "k": [2], "normalize": "count"}]})
    X = f.fit_transform(df)
    names = X.flat_names
    dense = X.flat.toarray()
    assert dense.shape == (2, 16)
    assert dense[0, names.index("s:AA")] == 2 and dense[0, names.index("s:AC")] == 1
    assert dense[1, names.index("s:CG")] == 1 and dense[1, names.index("s:GT")] == 1  # U read as T
    freq = build_featurizer({"blocks": [{"kind": "kmer", "column": "s", "k": [1, 2]}]}).fit_transform(df)
    assert np.allclose(freq.flat.toarray().sum(axis=1), 2.0)  # one per k


def test_kmer_both_strands_merges_reverse_complements():
    df = pd.DataFrame({"s": ["AAAA", "TTTT", "ACGT"]})
    f = build_featurizer({"blocks": [{"kind": "kmer", "column": "s", "k": [3], "both_strands": True,
                                      "normalize": "count"}]})
    X = f.fit_transform(df).flat.toarray()
    assert X.shape[1] == 32  # 64 3-mers -> 32 canonical pairs
    assert np.array_equal(X[0], X[1])


def test_onehot_pads_truncates_and_flattens():
    df = pd.DataFrame({"s": ["ACGT", "AC", "ACGTNACGTA"]})
    X = build_featurizer({"blocks": [{"kind": "onehot", "column": "s", "length": 6}]}).fit_transform(df)
    assert X.seq.shape == (3, 4, 6)
    assert X.seq[1, :, 2:].sum() == 0  # padding is all zeros
    assert X.seq[2, :, 4].sum() == 0   # N is all zeros
    assert X.seq[0, :, 0].tolist() == [1, 0, 0, 0]
    flat = build_featurizer({"blocks": [{"kind": "onehot", "column": "s", "length": 6, "flatten": True}]})
    assert flat.fit_transform(df).flat.shape == (3, 24)


def test_tabular_numbers_categories_missing_and_constants(tabular_df):
    f = build_featurizer({"blocks": [{"kind": "tabular", "columns": ["x1", "x2", "colour", "const"]}]})
    X = f.fit_transform(tabular_df)
    names = X.flat_names
    assert "const" not in names and "x2:missing" in names and "colour=red" in names
    assert not np.isnan(X.flat).any()
    unseen = tabular_df.head(3).assign(colour="purple", x2="?")
    Xu = f.transform(unseen)
    assert Xu.flat[:, names.index("colour=<other>")].tolist() == [1, 1, 1]


def test_smiles_malformed_rows_are_zero_with_flag():
    df = pd.DataFrame({"smiles": ["CCO", "C1CC(", None, "c1ccccc1", "not a smiles"]})
    f = build_featurizer({"blocks": [{"kind": "smiles", "column": "smiles", "n_bits": 64}]})
    X = f.fit_transform(df).flat
    valid = X[:, 0]
    assert valid.tolist() == [1, 0, 0, 1, 0]
    assert np.all(X[[1, 2, 4]] == 0)
    assert X[0, 1:].sum() > 0


def test_bad_specs_and_missing_columns_raise_input_error():
    with pytest.raises(InputError, match="Unknown block kind"):
        build_featurizer({"blocks": [{"kind": "nope"}]})
    with pytest.raises(InputError, match="no option"):
        build_featurizer({"blocks": [{"kind": "kmer", "column": "s", "kk": 3}]})
    f = build_featurizer({"blocks": [{"kind": "kmer", "column": "s", "k": [2]}]})
    with pytest.raises(InputError, match="'s'"):
        f.fit_transform(pd.DataFrame({"x": ["ACGT"]}))
