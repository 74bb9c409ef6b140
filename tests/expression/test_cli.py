from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from omicsagent.expression import synthetic
from omicsagent.expression.cli import expr_app

runner = CliRunner()


@pytest.mark.parametrize("command", ["preprocess", "analyze", "evaluate"])
def test_help_has_an_example(command):
    res = runner.invoke(expr_app, [command, "--help"])
    assert res.exit_code == 0 and "Example: omicsagent expr" in res.output


@pytest.fixture()
def cohorts(tmp_path):
    info = synthetic.write_gene_info(tmp_path / "toy.gene_info.gz")
    geo = tmp_path / "in" / "GSE77"
    synthetic.write_series_matrix(geo, accession="GSE77")
    tcga = synthetic.write_xena_cohort(tmp_path / "in" / "TCGA_Synthetic_(SYN)")
    common = ["--gene-info", str(info), "--cache-dir", str(tmp_path / "cache")]
    return tmp_path, geo, tcga, common


def test_preprocess_analyze_evaluate(cohorts):
    tmp, geo, tcga, common = cohorts
    pre = tmp / "out" / "preprocess"
    res = runner.invoke(
        expr_app, ["preprocess", str(geo), "--trait", "Colorectal Cancer", "--out", str(pre), *common]
    )
    assert res.exit_code == 0, res.output
    assert "GEO cohort GSE77" in res.output and "usable, 22 samples" in res.output
    res = runner.invoke(
        expr_app, ["preprocess", str(tcga), "--trait", "Colorectal_Cancer", "--out", str(pre), *common]
    )
    assert res.exit_code == 0, res.output
    info = json.loads((pre / "Colorectal_Cancer" / "cohort_info.json").read_text())
    assert info["GSE77"]["sample_size"] == 22 and info["TCGA"]["sample_size"] == 38  # clinical-only dropped

    reg = tmp / "out" / "regress"
    res = runner.invoke(expr_app, ["analyze", str(pre), "--trait", "Colorectal_Cancer", "--out", str(reg)])
    assert res.exit_code == 0, res.output
    data = json.loads((reg / "Colorectal_Cancer" / "significant_genes_condition_None.json").read_text())
    assert data["provenance"]["cohort"] == "TCGA"  # the larger cohort wins
    assert set(data["significant_genes"]["Variable"][:3]) == set(synthetic.PLANTED)

    res = runner.invoke(
        expr_app,
        [
            "evaluate",
            "--pred",
            str(tmp / "out"),
            "--ref",
            str(tmp / "out"),
            "--json",
            str(tmp / "scores.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    scores = json.loads((tmp / "scores.json").read_text())
    assert scores["preprocess"] == {"gene": 1.0, "clinical": 1.0, "linked": 1.0}
    assert scores["gene_identification"]["Overall"]["f1"] == 100.0


def test_overrides_and_row_table(cohorts):
    tmp, geo, _, common = cohorts
    res = runner.invoke(
        expr_app,
        ["preprocess", str(geo), "--trait", "Asthma", "--out", str(tmp / "o"), "--trait-row", "2", *common],
    )
    # "tissue: colon" never reads as case/control: the record says so and the rows are shown
    assert res.exit_code == 0 and "never matched" in res.output and "GEO sample rows" in res.output
    res = runner.invoke(
        expr_app,
        [
            "preprocess",
            str(geo),
            "--trait",
            "Asthma",
            "--out",
            str(tmp / "o"),
            "--trait-row",
            "3",
            "--trait-case",
            "colorectal cancer",
            "--trait-control",
            "healthy",
            "--age-row",
            "none",
            *common,
        ],
    )
    assert res.exit_code == 0 and "usable, 22 samples" in res.output
    info = json.loads((tmp / "o" / "Asthma" / "cohort_info.json").read_text())["GSE77"]
    assert info["has_age"] is False and info["has_gender"] is True


def test_user_errors_are_one_sentence(cohorts, tmp_path):
    _, geo, _, common = cohorts
    res = runner.invoke(expr_app, ["preprocess", str(tmp_path / "nope"), "--trait", "X", *common])
    assert res.exit_code == 2 and "is not a folder" in res.output and "Traceback" not in res.output
    res = runner.invoke(expr_app, ["analyze", str(tmp_path), "--trait", "X"])
    assert res.exit_code == 2 and "run `omicsagent expr preprocess`" in res.output
    res = runner.invoke(expr_app, ["preprocess", str(geo), "--trait", "X", "--age-unit", "decades", *common])
    assert res.exit_code == 2 and "--age-unit" in res.output
    res = runner.invoke(expr_app, ["evaluate", "--pred", str(tmp_path), "--ref", str(tmp_path)])
    assert res.exit_code == 2 and "reference output folder" in res.output
