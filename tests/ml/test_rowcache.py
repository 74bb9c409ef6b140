"""The run's cache of row features (ml.rowcache): a SMILES block inside a run computes each molecule once,
gives the same rows as without a cache, and a throwaway workspace reads the run's cache without writing it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsagent.ml import chem, rowcache
from omicsagent.ml.pipeline import build_featurizer

SPEC = {"blocks": [{"kind": "smiles", "column": "smiles", "descriptors": "all"}]}
MOLS = pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "CC(=O)O", "not a smiles", None, "CCO", "CCN(CC)CC"]})


def features(df: pd.DataFrame) -> np.ndarray:
    return np.asarray(build_featurizer(SPEC).fit_transform(df).flat)


def no_rdkit(self, smiles):
    raise AssertionError(f"computed {len(smiles)} molecules the cache holds")


def test_outside_a_run_nothing_is_cached(tmp_path, monkeypatch):
    monkeypatch.delenv(rowcache.FEATURE_CACHE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    features(MOLS)
    assert not list(tmp_path.rglob("*.npz"))


def test_each_molecule_is_computed_once_and_the_rows_are_the_same(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(rowcache.FEATURE_CACHE_ENV, raising=False)
    want = features(MOLS)
    run_cache = tmp_path / "run"
    monkeypatch.setenv(rowcache.FEATURE_CACHE_ENV, str(run_cache))
    calls = []
    real = chem.SmilesBlock._compute

    def counting(self, smiles):
        calls.append(list(smiles))
        return real(self, smiles)

    monkeypatch.setattr(chem.SmilesBlock, "_compute", counting)
    assert np.array_equal(features(MOLS), want)
    assert len(calls) == 1 and len(calls[0]) == 6  # "CCO" twice: computed once; None and garbage: once each
    assert "0 of 7 rows from the run's feature cache" in capsys.readouterr().out

    monkeypatch.setattr(chem.SmilesBlock, "_compute", no_rdkit)
    assert np.array_equal(features(MOLS.iloc[[6, 0, 3]]), want[[6, 0, 3]])
    assert "3 of 3 rows from the run's feature cache" in capsys.readouterr().out


def test_a_throwaway_workspace_reads_the_runs_cache_and_writes_only_its_own(tmp_path, monkeypatch):
    monkeypatch.delenv(rowcache.FEATURE_CACHE_ENV, raising=False)
    want = features(MOLS)
    run_cache, fold_cache = tmp_path / "run", tmp_path / "fold"
    monkeypatch.setenv(rowcache.FEATURE_CACHE_ENV, str(run_cache))
    features(MOLS)
    shards = sorted(run_cache.rglob("*.npz"))
    assert len(shards) == 1

    monkeypatch.setenv(rowcache.FEATURE_CACHE_ENV, str(fold_cache))
    monkeypatch.setenv(rowcache.FEATURE_CACHE_SHARED_ENV, str(run_cache))
    with monkeypatch.context() as m:
        m.setattr(chem.SmilesBlock, "_compute", no_rdkit)
        assert np.array_equal(features(MOLS.iloc[[2, 1]]), want[[2, 1]])
    assert not list(fold_cache.rglob("*.npz"))
    new = features(pd.DataFrame({"smiles": ["CCCl", "CCO"]}))
    assert np.array_equal(new[1], want[0]) and new[0, 0] == 1.0
    assert len(list(fold_cache.rglob("*.npz"))) == 1 and sorted(run_cache.rglob("*.npz")) == shards


@pytest.mark.parametrize("change", [{"radius": 3}, {"n_bits": 1024}, {"counts": False},
                                    {"descriptors": "basic"}])
def test_other_block_settings_never_read_these_rows(tmp_path, monkeypatch, change):
    monkeypatch.setenv(rowcache.FEATURE_CACHE_ENV, str(tmp_path / "run"))
    features(MOLS)
    other = {"blocks": [{**SPEC["blocks"][0], **change}]}
    monkeypatch.delenv(rowcache.FEATURE_CACHE_ENV)
    want = np.asarray(build_featurizer(other).fit_transform(MOLS).flat)
    monkeypatch.setenv(rowcache.FEATURE_CACHE_ENV, str(tmp_path / "run"))
    assert np.array_equal(np.asarray(build_featurizer(other).fit_transform(MOLS).flat), want)
    assert len({p.parent for p in (tmp_path / "run").rglob("*.npz")}) == 2


def test_a_damaged_shard_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv(rowcache.FEATURE_CACHE_ENV, str(tmp_path / "run"))
    want = features(MOLS)
    for shard in (tmp_path / "run").rglob("*.npz"):
        shard.write_bytes(b"not a zip")
    assert np.array_equal(features(MOLS), want)
