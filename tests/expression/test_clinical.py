from __future__ import annotations

import numpy as np
import pandas as pd

from omicsagent.expression import synthetic
from omicsagent.expression.io import read_series_matrix
from omicsagent.expression.pp.clinical import (
    describe_rows,
    detect_clinical_rows,
    guess_tcga_columns,
    select_geo_features,
    select_tcga_features,
    tcga_age,
    tcga_trait,
    unique_values_by_row,
)
from omicsagent.expression.pp.converters import convert_age, convert_gender, trait_converter


def test_detects_rows_despite_mixed_keys(tmp_path):
    rows = read_series_matrix(synthetic.write_series_matrix(tmp_path / "GSE1")).clinical_rows()
    conv = trait_converter("Colorectal_Cancer")
    choice = detect_clinical_rows(rows, "Colorectal_Cancer", trait_convert=conv)
    assert (choice.trait_row, choice.age_row, choice.gender_row) == (3, 1, 0)
    table = select_geo_features(
        rows,
        "Colorectal_Cancer",
        trait_row=3,
        trait_convert=conv,
        age_row=1,
        age_convert=convert_age,
        gender_row=0,
        gender_convert=convert_gender,
    )
    assert list(table.index) == ["Colorectal_Cancer", "Age", "Gender"]
    assert table.loc["Colorectal_Cancer"].sum() == 12
    assert np.isnan(table.loc["Gender", "GSM121"]) and np.isnan(table.loc["Age", "GSM121"])  # swapped cells
    assert table.loc["Gender"].iloc[:4].tolist() == [0.0, 0.0, 1.0, 1.0]  # F, female, Male, M


def test_constant_rows_make_a_variable_unavailable():
    rows = pd.DataFrame([["sex: F"] * 4, ["status: tumor"] * 4], columns=list("abcd"))
    choice = detect_clinical_rows(rows, "Cancer", trait_convert=trait_converter("Cancer"))
    assert choice.gender_row is None and choice.trait_row is None
    assert any("constant" in n for n in choice.notes)


def test_trait_in_title_row():
    rows = pd.DataFrame([["tissue: mucosa"] * 4], columns=list("abcd"))
    rows.loc["title"] = ["p1 patient", "p2 patient", "NM1 healthy control", "NM2 healthy control"]
    choice = detect_clinical_rows(
        rows, "Colorectal_Cancer", trait_convert=trait_converter("Colorectal_Cancer")
    )
    assert choice.trait_row == "title"


def test_unique_values_orders():
    rows = pd.DataFrame([["a", "b", "b", np.nan]], columns=list("wxyz"))
    assert unique_values_by_row(rows)[0][:2] == ["a", "b"]
    assert unique_values_by_row(rows, most_frequent=True)[0][0] == "b"


def test_tcga_trait_codes():
    assert [tcga_trait(f"TCGA-AB-1-{c}") for c in ("01", "03", "09", "10", "11", "19")] == [1, 1, 1, 0, 0, 0]
    assert tcga_trait("TCGA-AB-1-20", reference_compatible=True) == -1
    assert np.isnan(tcga_trait("TCGA-AB-1-20"))


def test_tcga_age_and_columns(tmp_path):
    assert tcga_age("72") == 72 and tcga_age("-26349", days=True) == 26349 / 365.25
    assert tcga_age("-26349") == 26349  # the reference regex reads days as a number
    clin = pd.DataFrame(
        {
            "age_at_initial_pathologic_diagnosis": [50, None],
            "gender": ["FEMALE", "x"],
            "stage": ["II", "III"],
        },
        index=["TCGA-A-1-01", "TCGA-A-2-11"],
    )
    age, gender, _ = guess_tcga_columns(clin)
    assert (age, gender) == ("age_at_initial_pathologic_diagnosis", "gender")
    out = select_tcga_features(clin, "T", age_col=age, gender_col=gender)
    assert (
        out["T"].tolist() == [1.0, 0.0] and out["Gender"].iloc[0] == 0.0 and np.isnan(out["Gender"].iloc[1])
    )


def test_describe_rows_lists_rows_and_values_compactly():
    preview = {
        0: ["tissue: colon"],
        1: ["gender: F", "gender: M", float("nan")],
        "title": [f"t{i}" for i in range(9)],
    }
    text = describe_rows(preview, max_values=3)
    assert text == (
        "0: 'tissue: colon' | 1: 'gender: F', 'gender: M', NA | title: 't0', 't1', 't2', ... (9 values)"
    )
    many = {i: [f"k{i}: v"] for i in range(15)}
    assert describe_rows(many).endswith("| and 3 more rows")
    assert "x" * 37 + "..." in describe_rows({0: ["x" * 80]})
