from __future__ import annotations

import json

import numpy as np
import pandas as pd

from omicsagent.expression.pp.cohort import (
    CohortRecord,
    handle_missing_values,
    judge_bias,
    link_geo,
    link_tcga,
    save_cohort_record,
)


def test_link_geo_is_an_outer_join_and_tcga_inner():
    clin = pd.DataFrame([[1.0, 0.0, np.nan]], index=["T"], columns=["s1", "s2", "s3"])
    genes = pd.DataFrame([[5.0, 6.0]], index=["G"], columns=["s1", "s2"])
    linked = link_geo(clin, genes)
    assert linked.shape == (3, 2) and np.isnan(linked.loc["s3", "G"])
    tclin = pd.DataFrame({"T": [1.0, 0.0, 1.0]}, index=["s1", "s2", "only_clinical"])
    assert list(link_tcga(tclin, genes).index) == ["s1", "s2"]


def test_missing_values_in_order():
    df = pd.DataFrame(
        {
            "T": [1, 0, 1, 0, 1, np.nan],
            "Age": [40, np.nan, 60, 50, 50, 30],
            "Gender": [1, 0, np.nan, 0, 1, 1],
            "G1": [1.0, 2.0, 3.0, np.nan, 5.0, 6.0],
            "G2": [np.nan, np.nan, 1.0, 1.0, 1.0, 1.0],
        },
        index=list("abcdef"),
    )
    out = handle_missing_values(df, "T")
    # f: no trait; G2 has 2/5 = 40% NaN -> dropped; then d has 1/1 NaN gene -> dropped (> 5%)
    assert list(out.index) == ["a", "b", "c", "e"] and list(out.columns) == ["T", "Age", "Gender", "G1"]
    assert out.loc["b", "Age"] == (40 + 60 + 50) / 3 and out.loc["c", "Gender"] in (0.0, 1.0)


def test_gender_all_missing_is_dropped():
    df = pd.DataFrame({"T": [1.0, 0.0], "Gender": [np.nan, np.nan], "G": [1.0, 2.0]})
    assert "Gender" not in handle_missing_values(df, "T").columns


def test_bias_rules():
    five_of_702 = pd.DataFrame({"T": [1.0] * 697 + [0.0] * 5, "G": 1.0})
    assert judge_bias(five_of_702, "T")[0].trait_biased is False  # 0.7% but 5 samples
    four_of_50 = pd.DataFrame({"T": [1.0] * 46 + [0.0] * 4, "G": 1.0})
    assert judge_bias(four_of_50, "T")[0].trait_biased is True
    constant = pd.DataFrame({"T": [1.0] * 9, "Age": [50.0] * 9, "Gender": [0, 1] * 4 + [0], "G": 1.0})
    judgement, out = judge_bias(constant, "T")
    assert judgement.trait_biased and "constant" in judgement.reason
    assert judgement.dropped == ("Age",) and "Age" not in out.columns and "Gender" in out.columns


def test_final_record_rules(tmp_path):
    tiny = pd.DataFrame({"T": [1.0, 0.0], "G": [1.0, 2.0]})  # <= 4 columns: gene data unavailable
    rec = CohortRecord.final(tiny, gene=True, trait=True, biased=False, note="")
    assert rec.is_gene_available is False and rec.is_usable is False and rec.sample_size is None
    wide = pd.DataFrame(np.ones((3, 6)), columns=["T", "Age", "G1", "G2", "G3", "G4"])
    rec = CohortRecord.final(wide, gene=True, trait=True, biased=False, note="ok")
    assert rec.is_usable and rec.has_age is True and rec.has_gender is False and rec.sample_size == 3
    info = tmp_path / "T" / "cohort_info.json"
    save_cohort_record(info, "GSE1", rec)
    save_cohort_record(info, "TCGA", CohortRecord.initial_failure(gene=False, trait=True, note="no table"))
    data = json.loads(info.read_text())
    assert set(data) == {"GSE1", "TCGA"} and data["TCGA"]["is_biased"] is None
