"""Code memory: approved unit scripts are reused on the next cohorts and in later runs."""

from __future__ import annotations

import pytest

from omicsagent.expression.team.journal import TaskJournal, TeamJournal

from . import cohorts
from .conftest import cli

pytestmark = pytest.mark.slow


def test_approved_code_is_reused_on_the_next_cohorts_and_in_the_next_run(tmp_path, team_env):
    for i in range(1, 5):  # four cohorts of one platform
        cohorts.geo_plain(tmp_path / "input" / "GEO" / "Colorectal_Cancer" / f"GSE5{i}", f"GSE5{i}", seed=i)
    cohorts.geo_plain(tmp_path / "input" / "GEO" / "Asthma" / "GSE60", "GSE60", trait_name="asthma", seed=9)
    cohorts.task_info(
        tmp_path / "task_info.json",
        {
            "Colorectal_Cancer": {"related_genes": [], "conditions": []},
            "Asthma": {"related_genes": [], "conditions": []},
        },
    )
    common = ["--problems", "task_info.json", "--cohorts", "input", "--gene-info", "gene_info.gz"]
    res = cli(
        "expr", "run", *common, "--traits", "Colorectal_Cancer", "--out", "run1", cwd=tmp_path, env=team_env
    )
    assert res.returncode == 0, res.stderr[-2000:]
    reuse = {}
    for i in range(1, 5):
        j = TaskJournal.load(
            tmp_path / "run1" / "team" / "cohorts" / "Colorectal_Cancer" / f"GSE5{i}" / "journal.json"
        )
        reuse[i] = [u.reuse for u in j.units if u.status == "approved"]
    assert reuse[1] and set(reuse[1]) == {"new"}  # an empty memory
    later = [r for i in (2, 3, 4) for r in reuse[i]]
    share = sum(r in ("as_is", "adapted") for r in later) / len(later)
    assert share >= 0.5, reuse
    assert "code reuse:" in res.stdout and "as is" in res.stdout
    team = TeamJournal.load(tmp_path / "run1" / "team" / "journal.json")
    assert team.cohorts["Colorectal_Cancer/GSE52"].reuse["as_is"] >= 4
    assert "as is" in (tmp_path / "run1" / "team" / "report.html").read_text()

    res = cli("expr", "memory", "list", cwd=tmp_path, env=team_env)
    assert (
        res.returncode == 0
        and "geo/clinical_features" in res.stdout
        and "Colorectal_Cancer/GSE54" in res.stdout
    )
    assert "approved 4x" in res.stdout
    res = cli("expr", "memory", "show", "geo/load", cwd=tmp_path, env=team_env)
    assert res.returncode == 0 and "from omicsagent.expression" in res.stdout and "GSE51" in res.stdout

    # a later run (another process, another trait) starts from what the first one approved
    res = cli("expr", "run", *common, "--traits", "Asthma", "--out", "run2", cwd=tmp_path, env=team_env)
    assert res.returncode == 0, res.stderr[-2000:]
    j = TaskJournal.load(tmp_path / "run2" / "team" / "cohorts" / "Asthma" / "GSE60" / "journal.json")
    assert {u.reuse for u in j.units if u.status == "approved"} == {"as_is"}

    res = cli("expr", "memory", "clear", "--yes", cwd=tmp_path, env=team_env)
    assert res.returncode == 0 and "removed" in res.stdout
    res = cli("expr", "memory", "list", cwd=tmp_path, env=team_env)
    assert "is empty" in res.stdout
    res = cli("expr", "memory", "show", "nothing", cwd=tmp_path, env=team_env)
    assert res.returncode == 2 and "memory list" in res.stderr
