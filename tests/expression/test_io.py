from __future__ import annotations

import gzip

import numpy as np
import pytest

from omicsagent.errors import InputError
from omicsagent.expression import synthetic
from omicsagent.expression.io import (
    read_gds_soft,
    read_platform_table,
    read_probe_table,
    read_series_matrix,
    read_xena_clinical,
    read_xena_expression,
)


def test_series_matrix_sections(tmp_path):
    path = synthetic.write_series_matrix(tmp_path / "GSE1")
    m = read_series_matrix(path)
    assert m.accession == "GSE1"
    assert m.samples[:2] == ["GSM100", "GSM101"] and len(m.samples) == 22
    assert m.background.startswith("!Series_title") and "!Series_summary" in m.background
    assert list(m.characteristics.index) == [0, 1, 2, 3]
    assert m.characteristics.loc[0, "GSM100"] == "gender: F"
    assert list(m.sample_fields.index) == ["title", "source_name_ch1"]
    assert m.table_status == "ok" and m.expression.shape == (60, 22)
    assert m.expression.index[0] == "0_at" and m.expression.dtypes.iloc[0] == np.float64


def test_empty_and_missing_tables_are_reported_not_raised(tmp_path):
    empty = read_series_matrix(synthetic.write_series_matrix(tmp_path / "a", with_table=False))
    assert empty.table_status == "empty" and not empty.has_expression
    text = gzip.decompress(synthetic.write_series_matrix(tmp_path / "b").read_bytes()).decode()
    cut = text.split("!series_matrix_table_begin")[0]
    (tmp_path / "c.txt").write_text(cut)
    missing = read_series_matrix(tmp_path / "c.txt")  # plain text works too (gzip is detected by magic)
    assert missing.table_status == "missing" and missing.expression.empty


def test_truncated_gzip_is_an_input_error(tmp_path):
    raw = synthetic.write_series_matrix(tmp_path / "GSE1").read_bytes()
    bad = tmp_path / "bad_series_matrix.txt.gz"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="truncated or corrupt gzip"):
        read_series_matrix(bad)


def test_not_a_series_matrix(tmp_path):
    (tmp_path / "x.txt").write_text("hello\n")
    with pytest.raises(InputError, match="not a GEO series matrix"):
        read_series_matrix(tmp_path / "x.txt")


SOFT = """^DATABASE = GeoMiame
^PLATFORM = GPL9
!Platform_title = toy
#ID = probe
#Gene Symbol = symbol
!platform_table_begin
ID\tGB_ACC\tGene Symbol
p1\tNM_1\tDDR1 /// MIR4640
p2\tNM_2\tTP53
!platform_table_end
^SAMPLE = GSM1
!sample_table_begin
ID_REF\tVALUE
p1\t5.5
p2\t7.1
!sample_table_end
"""


def test_platform_table_default_reads_only_the_platform(tmp_path):
    path = tmp_path / "GSE9_family.soft.gz"
    path.write_bytes(gzip.compress(SOFT.encode()))
    table = read_platform_table(path)
    assert list(table["ID"]) == ["p1", "p2"] and table.loc[0, "Gene Symbol"] == "DDR1 /// MIR4640"
    ref = read_platform_table(path, reference_compatible=True)
    # the reference drops ^ ! # lines and reads the rest: sample-table rows end up under the header
    assert len(ref) == 5 and "ID_REF" in set(ref["ID"])
    with pytest.raises(InputError, match="no table for platform GPL7"):
        read_platform_table(path, platform="GPL7")


def test_probe_table_with_and_without_header(tmp_path):
    (tmp_path / "a.tsv").write_text("probe_id\tsymbol\n1_at\tA1BG\n2_at\tTP53\n")
    (tmp_path / "b.csv").write_text("1_at,A1BG\n2_at,---\n")
    assert read_probe_table(tmp_path / "a.tsv").values.tolist() == [["1_at", "A1BG"], ["2_at", "TP53"]]
    assert read_probe_table(tmp_path / "b.csv").values.tolist() == [["1_at", "A1BG"]]


def test_gds_soft(tmp_path):
    text = """^DATASET = GDS5
!dataset_title = toy
^SUBSET = GDS5_1
!subset_description = control
!subset_sample_id = GSM1,GSM2
!subset_type = disease state
^SUBSET = GDS5_2
!subset_description = cancer
!subset_sample_id = GSM3
!subset_type = disease state
!dataset_table_begin
ID_REF\tIDENTIFIER\tGSM1\tGSM2\tGSM3
p1\tTP53\t1.0\t2.0\tnull
!dataset_table_end
"""
    (tmp_path / "GDS5.soft").write_text(text)
    gds = read_gds_soft(tmp_path / "GDS5.soft")
    assert gds.accession == "GDS5" and gds.identifiers.values.tolist() == [["p1", "TP53"]]
    assert np.isnan(gds.expression.loc["p1", "GSM3"])
    assert gds.subsets.iloc[0].tolist() == [
        "disease state: control",
        "disease state: control",
        "disease state: cancer",
    ]


def test_xena_readers(tmp_path):
    folder = synthetic.write_xena_cohort(tmp_path / "TCGA_SYN")
    expr = read_xena_expression(folder / "TCGA.SYN.sampleMap_HiSeqV2_PANCAN.gz")
    clin = read_xena_clinical(folder / "TCGA.SYN.sampleMap_SYN_clinicalMatrix")
    assert expr.shape == (60, 38) and clin.shape[0] == 39  # one clinical-only sample
    assert clin.loc["TCGA-AA-0000-01", "gender"] == "MALE"
