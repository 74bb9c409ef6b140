"""On the shared cohorts (TCGA CHOL, DLBC, GEO GSE4107) the team's outputs equal the pipeline's."""

from __future__ import annotations

import json
import os

import pytest

from ..conftest import CHOL, DATASETS, DLBC, GENE_INFO, GSE4107, need
from .cohorts import same_up_to_rounding
from .conftest import cli

pytestmark = [pytest.mark.datasets, pytest.mark.slow]

TRAITS = {"Bile_Duct_Cancer": CHOL, "Large_B-cell_Lymphoma": DLBC, "Colorectal_Cancer": GSE4107}


def test_team_equals_expr_preprocess_and_analyze(tmp_path, monkeypatch):
    for path in (CHOL, DLBC, GSE4107, GENE_INFO):
        need(path)
    monkeypatch.setenv("OMICSAGENT_CACHE_DIR", str(tmp_path / "cache"))
    tasks = {t: {"related_genes": [], "conditions": ["Age", "Gender"]} for t in TRAITS}
    (tmp_path / "task_info.json").write_text(json.dumps(tasks))
    rel = os.path.relpath(DATASETS, tmp_path)  # the shared folder uses geo/ and tcga/ in lower case
    gene_info = os.path.relpath(GENE_INFO, tmp_path)
    res = cli("expr", "run", "--problems", "task_info.json", "--cohorts", rel, "--out", "team",
              "--gene-info", gene_info, "--jobs", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    for trait, cohort in TRAITS.items():
        res = cli("expr", "preprocess", os.path.relpath(cohort, tmp_path), "--trait", trait, "--out",
                  "pipe/preprocess", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        for cond in ("None", "Age", "Gender"):
            res = cli(
                "expr",
                "analyze",
                "pipe/preprocess",
                "--trait",
                trait,
                "--condition",
                cond,
                "--task-info",
                "task_info.json",
                "--out",
                "pipe/regress",
                cwd=tmp_path,
            )
            assert res.returncode == (2 if trait == "Large_B-cell_Lymphoma" else 0), res.stderr

    # preprocessing: the same files, byte for byte (clinical, gene, linked tables and cohort_info.json)
    pipe, team = tmp_path / "pipe" / "preprocess", tmp_path / "team" / "preprocess"
    files = sorted(p.relative_to(pipe) for p in pipe.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(team) for p in team.rglob("*") if p.is_file())
    assert len(files) == 3 * 2 + 2 + 3  # clinical + gene per cohort, 2 linked (DLBC unusable), 3 records
    for f in files:
        assert (pipe / f).read_bytes() == (team / f).read_bytes(), f
    # analysis: the same gene lists, coefficients and CV scores for the 6 answerable problems
    pipe, team = tmp_path / "pipe" / "regress", tmp_path / "team" / "regress"
    files = sorted(p.relative_to(pipe) for p in pipe.rglob("*.json"))
    assert files == sorted(p.relative_to(team) for p in team.rglob("*.json")) and len(files) == 6
    for f in files:
        a, b = json.loads((pipe / f).read_text()), json.loads((team / f).read_text())
        assert same_up_to_rounding([a["significant_genes"], a["cv_performance"]],
                                   [b["significant_genes"], b["cv_performance"]]), f
        assert a["significant_genes"]["Variable"], f
    # the real GSE4107 keeps its labels in the titles: the team found them by going back
    journal = json.loads((tmp_path / "team" / "team" / "cohorts" / "Colorectal_Cancer" / "GSE4107" /
                          "journal.json").read_text())
    assert journal["backtracks"] == 1
    # and `expr evaluate` scores the team's output directly
    res = cli("expr", "evaluate", "--pred", "team", "--ref", "pipe", "--json", "scores.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["preprocess"] and all(v == pytest.approx(1.0) for v in scores["preprocess"].values())
    assert scores["gene_identification"]["Overall"]["f1"] == pytest.approx(100.0)
