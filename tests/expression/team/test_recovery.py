"""Where the first rule fails, the team recovers by planning and review (real sandbox, real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from omicsagent.expression.team.journal import TaskJournal
from omicsagent.expression.team.pi import TeamSettings, run_team

from . import cohorts
from .conftest import cli

pytestmark = pytest.mark.slow


def _journal(out: Path, trait: str, folder: str) -> TaskJournal:
    return TaskJournal.load(out / "team" / "cohorts" / trait / folder / "journal.json")


def _steps(j: TaskJournal) -> list[str]:
    """'decision:back:load', 'unit:clinical_features:approved:2' ..."""
    out = []
    for e in j.events:
        if e.type == "decision":
            out.append(f"decision:{e.action}:{e.unit}")
        else:
            out.append(f"unit:{e.unit}:{e.status}:{len(e.rounds)}")
    return out


def _setup(tmp_path: Path, trait: str) -> None:
    cohorts.task_info(tmp_path / "task_info.json", {trait: {"related_genes": [], "conditions": []}})


def test_trait_only_in_titles_with_a_decoy_row(tmp_path, team_env):
    """Characteristics hold no trait row but a 'smoking status: yes/no' row that word rules read as
    case/control. The domain expert rejects it (not about the trait); with no other row, the engineer
    goes back to load, this time with titles, and the domain expert points at the titles."""
    _setup(tmp_path, "Crohns_Disease")
    cohorts.geo_title_only(tmp_path / "input" / "GEO" / "Crohns_Disease" / "GSE31", "GSE31")
    res = cli("expr", "run", "--problems", "task_info.json", "--cohorts", "input", "--out", "out",
              "--gene-info", "gene_info.gz", cwd=tmp_path, env=team_env)
    assert res.returncode == 0, res.stderr
    assert "back load" in res.stderr  # live progress shows the backtrack
    j = _journal(tmp_path / "out", "Crohns_Disease", "GSE31")
    steps = _steps(j)
    back = steps.index("decision:back:load")
    assert steps[:back] == ["decision:advance:None", "unit:load:approved:1", "decision:advance:None",
                            "unit:clinical_features:approved:2"]
    first = next(e for e in j.units if e.unit == "clinical_features")
    assert not first.rounds[0].approved and "smoking" in first.rounds[0].suggestions[0]
    assert first.rounds[0].patch == {"trait_row": "none"} and first.output["trait_row"] is None
    reason = next(e for e in j.events if e.type == "decision" and e.action == "back")
    assert "titles" in reason.reason and reason.directive == {"include_sample_fields": True}
    second = [e for e in j.units if e.unit == "clinical_features"][1]
    assert second.visit == 2 and second.output["trait_row"] == "title" and second.output["used_sample_fields"]
    record = json.loads((tmp_path / "out" / "preprocess" / "Crohns_Disease" / "cohort_info.json").read_text())
    assert record["GSE31"]["is_usable"] and record["GSE31"]["sample_size"] == 22
    clinical = pd.read_csv(tmp_path / "out" / "preprocess" / "Crohns_Disease" / "clinical_data" / "GSE31.csv",
                           index_col=0)
    assert clinical.loc["Crohns_Disease"].tolist() == [1.0] * 12 + [0.0] * 10  # the truth, sample by sample
    report = (tmp_path / "out" / "team" / "report" / "Crohns_Disease__None.html").read_text()
    assert "<b>back</b> load" in report and "smoking" in report


def test_abbreviation_resolved_by_the_domain_expert_or_reported_undecided(tmp_path, team_env):
    """'diagnosis: RCC' vs 'diagnosis: healthy control': word rules see one class. With the synonym in the
    domain expert's guideline the expert points at the row and the RCC cells; without it the record says
    which rows and values were seen and which options settle it."""
    _setup(tmp_path, "Renal_Cell_Carcinoma")
    cohorts.geo_abbreviation(tmp_path / "input" / "GEO" / "Renal_Cell_Carcinoma" / "GSE32", "GSE32")
    expert = cli("expr", "guideline", "show", "domain_expert", cwd=tmp_path, env=team_env).stdout
    (tmp_path / "expert.toml").write_text(
        expert.replace("[synonyms]", '[synonyms]\nRenal_Cell_Carcinoma = ["RCC"]')
    )
    common = [
        "--problems",
        "task_info.json",
        "--cohorts",
        "input",
        "--gene-info",
        "gene_info.gz",
        "--no-report",
    ]
    res = cli(
        "expr", "run", *common, "--out", "with", "--guideline", "expert.toml", cwd=tmp_path, env=team_env
    )
    assert res.returncode == 0, res.stderr
    j = _journal(tmp_path / "with", "Renal_Cell_Carcinoma", "GSE32")
    unit = next(e for e in j.units if e.unit == "clinical_features")
    assert [r.approved for r in unit.rounds] == [False, True] and j.backtracks == 0
    assert unit.rounds[0].reviewer == "domain_expert (expert)" and "RCC" in unit.rounds[0].suggestions[0]
    assert unit.rounds[0].patch["trait_row"] == "2" and "rcc" in unit.rounds[0].patch["trait_case"]
    info = json.loads(
        (tmp_path / "with" / "preprocess" / "Renal_Cell_Carcinoma" / "cohort_info.json").read_text()
    )
    assert info["GSE32"]["is_usable"] and info["GSE32"]["sample_size"] == 22

    # without the synonym and with the knowledge table switched off in the guideline, nothing names RCC
    (tmp_path / "bare.toml").write_text(
        expert.replace("use_knowledge_table = true", "use_knowledge_table = false")
    )
    res = cli(
        "expr", "run", *common, "--out", "without", "--guideline", "bare.toml", cwd=tmp_path, env=team_env
    )
    assert res.returncode == 0, res.stderr
    j = _journal(tmp_path / "without", "Renal_Cell_Carcinoma", "GSE32")
    assert j.backtracks == 1  # it also looked at titles, source names and descriptions
    info = json.loads(
        (tmp_path / "without" / "preprocess" / "Renal_Cell_Carcinoma" / "cohort_info.json").read_text()
    )
    rec = info["GSE32"]
    assert rec["is_usable"] is False and rec["is_trait_available"] is False
    assert "diagnosis: RCC" in rec["note"] and "title" in rec["note"]  # the rows and values it saw
    assert "--trait-row" in rec["note"] and "--trait-case" in rec["note"]  # what would settle it


def test_abbreviation_resolved_from_the_knowledge_table(tmp_path, team_env):
    """With the shipped Disease Ontology table (no synonym in the guideline), 'RCC' is read as the trait."""
    _setup(tmp_path, "Renal_Cell_Carcinoma")
    cohorts.geo_abbreviation(tmp_path / "input" / "GEO" / "Renal_Cell_Carcinoma" / "GSE33", "GSE33")
    result = run_team(TeamSettings(problems=tmp_path / "task_info.json", cohorts=tmp_path / "input",
                                   out=tmp_path / "out", gene_info=tmp_path / "gene_info.gz", report=False))
    j = _journal(tmp_path / "out", "Renal_Cell_Carcinoma", "GSE33")
    unit = next(e for e in j.units if e.unit == "clinical_features")
    assert unit.rounds[0].patch["trait_row"] == "2" and unit.status == "approved"
    assert result.journal.cohorts["Renal_Cell_Carcinoma/GSE33"].record["is_usable"] is True
