"""The must-show results on the real cohorts in ../shared/datasets/expression."""

from __future__ import annotations

import gzip
import json
import shutil

import pandas as pd
import pytest

from omicsagent.expression.io import read_xena_expression
from omicsagent.expression.pipeline import AnalyzeOptions, PreprocessOptions, analyze, preprocess_cohort
from omicsagent.expression.pp.symbols import symbol_report

from .conftest import CHOL, DLBC, GSE4107, need

pytestmark = pytest.mark.datasets


def test_chol_linked_usable(tmp_path, real_aliases):
    res = preprocess_cohort(need(CHOL), trait="Bile Duct Cancer", out_dir=tmp_path, aliases=real_aliases)
    rec = res.record
    assert (
        res.cohort_id == "TCGA" and rec.is_usable and rec.sample_size == 45 and rec.has_age and rec.has_gender
    )
    linked = pd.read_csv(tmp_path / "Bile_Duct_Cancer" / "TCGA.csv", index_col=0)
    assert linked["Bile_Duct_Cancer"].value_counts().to_dict() == {1: 36, 0: 9}
    assert list(linked.columns[:3]) == ["Bile_Duct_Cancer", "Age", "Gender"]
    # every distinct official symbol of the Xena rows survives (no gene is lost to missing values)
    xena = read_xena_expression(CHOL / "TCGA.CHOL.sampleMap_HiSeqV2_PANCAN.gz")
    expected = symbol_report(list(xena.index), real_aliases).n_output
    assert linked.shape == (45, expected + 3) and 19_700 < expected < 20_000
    clinical = pd.read_csv(tmp_path / "Bile_Duct_Cancer" / "clinical_data" / "TCGA.csv", index_col=0)
    assert clinical.shape == (45, 3)  # TCGA clinical files are samples x features
    genes = pd.read_csv(tmp_path / "Bile_Duct_Cancer" / "gene_data" / "TCGA.csv", index_col=0)
    assert genes.shape == (expected, 45)

    out = analyze(
        tmp_path,
        trait="Bile_Duct_Cancer",
        out_dir=tmp_path / "regress",
        options=AnalyzeOptions(condition="Age"),
    )
    data = json.loads(out.output.read_text())
    assert out.cohort == "TCGA" and out.n_samples == 45 and len(out.genes) > 0
    assert data["significant_genes"]["Variable"] == out.genes and "Age" not in out.genes
    absolute = data["significant_genes"]["Absolute Coefficient"]
    assert absolute == sorted(absolute, reverse=True) and data["cv_performance"]["prediction"]["f1"] > 80


def test_dlbc_not_usable_trait_constant(tmp_path, real_aliases):
    res = preprocess_cohort(need(DLBC), trait="Large B-cell Lymphoma", out_dir=tmp_path, aliases=real_aliases)
    info = json.loads((tmp_path / "Large_B-cell_Lymphoma" / "cohort_info.json").read_text())["TCGA"]
    assert info["is_usable"] is False and info["is_biased"] is True and "constant" in info["note"]
    assert not (tmp_path / "Large_B-cell_Lymphoma" / "TCGA.csv").exists()
    assert (tmp_path / "Large_B-cell_Lymphoma" / "gene_data" / "TCGA.csv").exists()  # written anyway
    assert res.record.sample_size == 48


def test_gse4107_end_to_end(tmp_path, real_aliases):
    res = preprocess_cohort(need(GSE4107), trait="Colorectal_Cancer", out_dir=tmp_path, aliases=real_aliases)
    rec = res.record
    assert rec.is_usable and rec.sample_size == 22 and rec.has_age and rec.has_gender
    clinical = pd.read_csv(tmp_path / "Colorectal_Cancer" / "clinical_data" / "GSE4107.csv", index_col=0)
    assert list(clinical.index) == ["Colorectal_Cancer", "Age", "Gender"]
    assert clinical.loc["Colorectal_Cancer"].value_counts().to_dict() == {1.0: 12, 0.0: 10}
    assert clinical.loc["Gender", "GSM93920"] == 0.0 and clinical.loc["Age", "GSM93920"] == 49.0  # "Age: 49"
    assert clinical.loc["Gender"].notna().all() and clinical.loc["Age"].between(20, 50).all()
    linked = pd.read_csv(tmp_path / "Colorectal_Cancer" / "GSE4107.csv", index_col=0)
    assert linked.shape[0] == 22 and linked.shape[1] > 15_000 and "TP53" in linked.columns
    out = analyze(tmp_path, trait="Colorectal_Cancer", out_dir=tmp_path / "regress")
    assert out.n_samples == 22 and 0 < len(out.genes) < 50


def test_gse4107_reference_mode_differs_only_where_documented(tmp_path, real_aliases):
    default = preprocess_cohort(need(GSE4107), trait="CRC", out_dir=tmp_path / "a", aliases=real_aliases)
    ref = preprocess_cohort(
        GSE4107,
        trait="CRC",
        out_dir=tmp_path / "b",
        aliases=real_aliases,
        options=PreprocessOptions(reference_compatible=True),
    )
    a = pd.read_csv(tmp_path / "a" / "CRC" / "gene_data" / "GSE4107.csv", index_col=0)
    b = pd.read_csv(tmp_path / "b" / "CRC" / "gene_data" / "GSE4107.csv", index_col=0)
    assert default.record.sample_size == ref.record.sample_size == 22
    probes = pd.read_csv(GSE4107 / "GPL570_probe2symbol.tsv", sep="\t")
    for gene in ("TP53", "GAPDH"):  # reference: sum over the gene's probes; default: their mean
        k = int((probes["symbol"] == gene).sum())
        assert k > 1 and (b.loc[gene] / a.loc[gene]).round(9).unique().tolist() == [k]
    # the reference tokenizer cannot read symbols longer than 10 characters
    assert "ADAMTS9-AS1" in a.index and "ADAMTS9-AS1" not in b.index
    assert len(a) > len(b)


def test_truncated_gzip_gives_an_unusable_record(tmp_path, real_aliases):
    src = need(GSE4107) / "GSE4107_series_matrix.txt.gz"
    bad = tmp_path / "GSE4107"
    bad.mkdir()
    raw = src.read_bytes()
    (bad / src.name).write_bytes(raw[: len(raw) // 3])
    res = preprocess_cohort(bad, trait="Colorectal_Cancer", out_dir=tmp_path / "out", aliases=real_aliases)
    info = json.loads((tmp_path / "out" / "Colorectal_Cancer" / "cohort_info.json").read_text())["GSE4107"]
    assert info["is_usable"] is False and "truncated or corrupt gzip" in info["note"]
    assert res.record.is_gene_available is False


def test_trait_row_that_never_matches_and_single_class(tmp_path, real_aliases):
    need(GSE4107)
    never = preprocess_cohort(
        GSE4107,
        trait="Colorectal_Cancer",
        out_dir=tmp_path / "a",
        aliases=real_aliases,
        options=PreprocessOptions(trait_row="2"),
    )  # "Tissue: Mucosa"
    assert never.record.is_trait_available is False and "never matched" in never.record.note
    one = preprocess_cohort(
        GSE4107,
        trait="Colorectal_Cancer",
        out_dir=tmp_path / "b",
        aliases=real_aliases,
        options=PreprocessOptions(trait_row="2", trait_case=["mucosa"]),
    )
    assert one.record.is_usable is False and one.record.is_biased is True and "constant" in one.record.note


def test_matrix_without_table(tmp_path, real_aliases):
    src = need(GSE4107) / "GSE4107_series_matrix.txt.gz"
    text = gzip.decompress(src.read_bytes()).decode()
    folder = tmp_path / "GSE4107"
    folder.mkdir()
    head = text.split("!series_matrix_table_begin")[0]
    (folder / src.name).write_bytes(gzip.compress(head.encode()))
    shutil.copy(GSE4107 / "GPL570_probe2symbol.tsv", folder)
    res = preprocess_cohort(folder, trait="Colorectal_Cancer", out_dir=tmp_path / "out", aliases=real_aliases)
    assert res.record.is_gene_available is False and "no expression table" in res.record.note
