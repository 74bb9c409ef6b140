"""A two-step problem (the condition is another trait) with instruments, on synthetic data with a known
answer: the trait's planted genes, the cohort pair, and the condition's known genes as instruments."""

from __future__ import annotations

import json

import pytest

from . import cohorts
from .conftest import cli

pytestmark = pytest.mark.slow


def test_two_step_problem_with_instruments(tmp_path, team_env):
    trait_genes, condition_genes = ("GENE1", "GENE2", "GENE3"), ("GENE10", "GENE11")
    cohorts.geo_plain(tmp_path / "input" / "GEO" / "Colorectal_Cancer" / "GSE70", "GSE70", seed=1,
                      planted=trait_genes)
    cohorts.geo_plain(tmp_path / "input" / "GEO" / "Obesity" / "GSE71", "GSE71", trait_name="obesity", seed=2,
                      n_cases=15, n_controls=15, planted=condition_genes)
    cohorts.task_info(tmp_path / "task_info.json", {
        "Colorectal_Cancer": {"related_genes": ["GENE1", "GENE2"], "conditions": ["Obesity"]},
        "Obesity": {"related_genes": list(condition_genes), "conditions": []},
    })
    res = cli(
        "expr",
        "run",
        "--problems",
        "task_info.json",
        "--cohorts",
        "input",
        "--out",
        "out",
        "--gene-info",
        "gene_info.gz",
        "--traits",
        "Colorectal_Cancer",
        "--jobs",
        "2",
        cwd=tmp_path,
        env=team_env,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    # the condition's cohorts were preprocessed too, though only Colorectal_Cancer's problems were asked
    assert json.loads((tmp_path / "out" / "preprocess" / "Obesity" / "cohort_info.json").read_text())[
        "GSE71"
    ]["is_usable"]
    assert not (tmp_path / "out" / "regress" / "Obesity").exists()
    path = tmp_path / "out" / "regress" / "Colorectal_Cancer" / "significant_genes_condition_Obesity.json"
    data = json.loads(path.read_text())
    prov, genes = data["provenance"], data["significant_genes"]["Variable"]
    assert (prov["cohort"], prov["condition_cohort"]) == ("GSE70", "GSE71")
    assert any("2 instruments" in n for n in prov["notes"])
    assert set(trait_genes) <= set(genes[:5])  # the planted genes lead the list
    assert not set(condition_genes) & set(genes)  # instruments are not predictors (default rule)
    sel = json.loads((tmp_path / "out" / "team" / "problems" / "Colorectal_Cancer" / "Obesity" /
                      "journal.json").read_text())["result"]["select_cohorts"]
    assert sel["instruments"] == 2 and sel["candidates"][0]["product"] == 22 * 30
    # the same as the deterministic pipeline
    res = cli("expr", "analyze", "out/preprocess", "--trait", "Colorectal_Cancer", "--condition", "Obesity",
              "--task-info", "task_info.json", "--out", "pipe", cwd=tmp_path, env=team_env)
    assert res.returncode == 0, res.stderr
    pipe = json.loads(
        (tmp_path / "pipe" / "Colorectal_Cancer" / "significant_genes_condition_Obesity.json").read_text()
    )
    assert cohorts.same_up_to_rounding(pipe["significant_genes"], data["significant_genes"])
    report = (tmp_path / "out" / "team" / "report" / "Colorectal_Cancer__Obesity.html").read_text()
    assert "Cohorts of Obesity" in report and "GSE71" in report
    assert report.count("data:image/png;base64,") == 2  # the gene plot and the CV figure with its spread
    assert "Cross-validation (chosen penalty)" in report and "SD (folds)" in report and "GENE1" in report
    assert "the largest pair by product of sample sizes" in report  # why these cohorts
    index = (tmp_path / "out" / "team" / "report.html").read_text()
    assert 'href="report/Colorectal_Cancer__Obesity.html"' in index and "<script" not in index
