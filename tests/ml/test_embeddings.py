"""The embedding block on tiny randomly initialised models written in the real Hugging Face format."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from omicsagent.errors import ConfigError, InputError
from omicsagent.ml import embeddings
from omicsagent.ml.pipeline import build_featurizer

needs_fm = pytest.mark.skipif(
    not embeddings.transformers_available() and os.environ.get("CI") != "true",
    reason="transformers is not installed (pip install 'omicsagent[fm]'); "
    "these tests always run under CI=true",
)


@pytest.fixture(scope="module")
def esm(tmp_path_factory):
    from omicsagent.testing_protein import write_tiny_esm

    return write_tiny_esm(tmp_path_factory.mktemp("models") / "esm_tiny")


@pytest.fixture(scope="module")
def nt(tmp_path_factory):
    from omicsagent.testing_protein import write_tiny_nucleotide_transformer

    return write_tiny_nucleotide_transformer(tmp_path_factory.mktemp("models") / "nt_tiny")


PROTEINS = pd.DataFrame({"p": ["MKTAYIAKQR", "mktayiakqr", "GGGG", "", "MKTAYIAKQRW" * 5]})


@needs_fm
def test_protein_embeddings_are_pooled_cached_and_reused_without_loading(esm, tmp_path, monkeypatch):
    spec = {
        "kind": "embedding",
        "column": "p",
        "model": str(esm),
        "uppercase": True,
        "cache_dir": str(tmp_path / "c"),
    }
    f = build_featurizer({"blocks": [spec]})
    X = f.fit_transform(PROTEINS)
    assert X.flat.shape == (5, 16) and np.isfinite(X.flat).all()
    assert np.allclose(X.flat[0], X.flat[1])  # upper-casing: the same protein
    assert not np.allclose(X.flat[0], X.flat[2])
    assert list(X.column_groups) == ["embedding:p"]
    shards = list((tmp_path / "c").rglob("*.npz"))
    assert len(shards) == 1

    def no_loading(*a, **k):
        raise AssertionError("the model was loaded although every sequence is cached")

    monkeypatch.setattr(embeddings, "load_model", no_loading)
    again = build_featurizer({"blocks": [spec]}).fit_transform(PROTEINS.iloc[::-1].reset_index(drop=True))
    assert np.allclose(again.flat[::-1], X.flat)
    # a copy of the model folder elsewhere is the same model: still no loading
    moved = shutil.copytree(esm, tmp_path / "elsewhere")
    build_featurizer({"blocks": [{**spec, "model": str(moved)}]}).fit_transform(PROTEINS)
    # another pooling is another cache entry, which needs the model
    with pytest.raises(AssertionError, match="was loaded"):
        build_featurizer({"blocks": [{**spec, "pooling": "cls"}]}).fit_transform(PROTEINS)


@needs_fm
def test_dna_model_with_kmer_vocabulary_and_environment_cache(nt, tmp_path, monkeypatch):
    monkeypatch.setenv(embeddings.CACHE_ENV, str(tmp_path / "env_cache"))
    df = pd.DataFrame({"s": ["ACGTACGTACGTAAAC", "acgtacgtacgtaaac", "TTTTGGGGCCCCAAAA"]})
    X = build_featurizer(
        {"blocks": [{"kind": "embedding", "column": "s", "model": str(nt), "uppercase": True}]}
    ).fit_transform(df)
    assert X.flat.shape == (3, 16) and np.allclose(X.flat[0], X.flat[1])
    assert list((tmp_path / "env_cache").rglob("*.npz"))


@needs_fm
def test_embedding_errors_are_one_sentence(esm, tmp_path):
    with pytest.raises(InputError, match="needs"):
        build_featurizer({"blocks": [{"kind": "embedding", "column": "p"}]})
    with pytest.raises(InputError, match="pooling"):
        build_featurizer(
            {"blocks": [{"kind": "embedding", "column": "p", "model": str(esm), "pooling": "max"}]}
        )
    f = build_featurizer({"blocks": [{"kind": "embedding", "column": "p", "model": str(tmp_path / "gone")}]})
    with pytest.raises(InputError, match="does not exist"):
        f.fit_transform(PROTEINS)
    broken = shutil.copytree(esm, tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not weights")
    f = build_featurizer({"blocks": [{"kind": "embedding", "column": "p", "model": str(broken),
                                      "cache_dir": str(tmp_path / "c2")}]})
    with pytest.raises(InputError, match="Could not load"):
        f.fit_transform(PROTEINS)


@needs_fm
def test_configure_reads_options_and_config_file(esm, tmp_path):
    out = embeddings.configure([f"protein={esm}"])
    assert out["protein"]["path"] == str(esm.resolve()) and out["protein"]["params"] > 0
    config = tmp_path / "omicsagent.toml"
    shutil.copytree(esm, tmp_path / "models" / "esm")
    config.write_text('[embeddings.protein]\npath = "models/esm"\npooling = "cls"\n')
    out = embeddings.configure(None, config)
    assert out["protein"]["path"] == str((tmp_path / "models" / "esm").resolve())
    assert out["protein"]["pooling"] == "cls"
    for bad, match in (
        (["virus=/x"], "modality"),
        (["protein"], "MODALITY=FOLDER"),
        ([f"protein={tmp_path / 'nope'}"], "does not exist"),
        ([f"dna={tmp_path}"], "config.json"),
    ):
        with pytest.raises(ConfigError, match=match):
            embeddings.configure(bad)
    config.write_text('[embeddings.protein]\nfolder = "x"\n')
    with pytest.raises(ConfigError, match="needs a folder"):
        embeddings.configure(None, config)


def test_modality_mapping_and_mounts():
    cfg = {"dna": {"path": "/m/nt"}, "protein": {"path": "/m/esm"}}
    assert embeddings.modality_of("rna", cfg) == "dna" and embeddings.modality_of("smiles", cfg) is None
    assert [str(p) for p in embeddings.mounts(cfg)] == ["/m/esm", "/m/nt"]
    assert embeddings.mounts(None) == []


@needs_fm
def test_a_shared_cache_is_read_first_and_never_written(esm, tmp_path, monkeypatch):
    """A fold's throwaway workspace reads the run's cache ($OMICSAGENT_EMBEDDING_CACHE_SHARED): what the run
    computed is not computed again (the model is not even loaded); a new sequence goes to its own cache."""
    spec = {"kind": "embedding", "column": "p", "model": str(esm), "uppercase": True}
    run_cache, fold_cache = tmp_path / "run", tmp_path / "fold"
    want = build_featurizer({"blocks": [{**spec, "cache_dir": str(run_cache)}]}).fit_transform(PROTEINS).flat
    shards = sorted(run_cache.rglob("*.npz"))
    monkeypatch.setenv(embeddings.SHARED_CACHE_ENV, str(run_cache))
    real_load = embeddings.load_model

    def no_loading(*a, **k):
        raise AssertionError("the model was loaded although the shared cache holds every sequence")

    monkeypatch.setattr(embeddings, "load_model", no_loading)
    fold = {**spec, "cache_dir": str(fold_cache)}
    got = build_featurizer({"blocks": [fold]}).fit_transform(PROTEINS.iloc[[4, 0, 2]]).flat
    assert np.allclose(got, want[[4, 0, 2]]) and not list(fold_cache.rglob("*.npz"))
    monkeypatch.setattr(embeddings, "load_model", real_load)
    build_featurizer({"blocks": [fold]}).fit_transform(pd.DataFrame({"p": ["WWWWPPPP"]}))
    assert len(list(fold_cache.rglob("*.npz"))) == 1 and sorted(run_cache.rglob("*.npz")) == shards
