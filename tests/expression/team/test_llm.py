"""The LLM brain per role, against a local OpenAI-compatible server (real HTTP, real sandbox, real CLI)."""

from __future__ import annotations

import json

import pytest

from omicsagent.expression.team.expert import render
from omicsagent.expression.team.journal import TaskJournal
from omicsagent.testing_llm import FakeOpenAIServer, Playbook, final, text

from . import cohorts
from .conftest import cli

pytestmark = pytest.mark.slow

ADVICE = "count how many of the first IDs are known gene symbols and print it before deciding"


def _reply(values: dict[str, str]):
    """A scripted team: advance until done; write the unit from the expert's templates; the code reviewer
    rejects the first round of gene_identifiers, and the engineer revises. The first load script leaves a
    symbolic link to a host file, which the reviewer approves: the harness does not."""
    role, _, kind = values.get("step", "").partition("/")
    if kind == "decide":
        if values.get("next") == "none" or values.get("stop") == "true":
            return final(action="finish", reason="every unit is done or the task stopped")
        return final(action="advance", reason="next unit of the guideline")
    if kind == "write":
        if (
            values["unit"] == "load" and values["round"] == "1"
        ):  # a script that tries to smuggle a host file out
            return final(script="import os\nos.symlink('/etc/passwd', 'artifacts/passwd')\n", notes="")
        script = render(role, values["unit"])
        if values["unit"] == "gene_identifiers" and values["round"] != "1":
            script = (
                "# revised after the review: the share of known symbols is printed by the unit\n" + script
            )
        return final(script=script, notes="from the guideline")
    if kind == "review":
        if values["unit"] == "gene_identifiers" and values["round"] == "1":
            return final(approved=False, suggestions=[ADVICE])
        return final(approved=True, suggestions=[])
    return text("no scripted reply")


def test_llm_roles_run_a_cohort_and_a_problem_with_one_rejected_review(tmp_path, team_env):
    cohorts.geo_plain(tmp_path / "input" / "GEO" / "Colorectal_Cancer" / "GSE40", "GSE40")
    cohorts.task_info(tmp_path / "task_info.json",
                      {"Colorectal_Cancer": {"related_genes": ["GENE1"], "conditions": []}})
    server = FakeOpenAIServer(Playbook({}, default=_reply))
    with server:
        (tmp_path / "roles.toml").write_text(f"""
[llm]
model = "openai:team-model"
base_url = "{server.url}"

[roles.geo]
model = "openai:geo-model"

[roles.code_reviewer]
model = "openai:reviewer-model"

[roles.statistician]
model = "openai:stat-model"

[roles.domain_expert]
brain = "expert"
""")
        res = cli("expr", "run", "--problems", "task_info.json", "--cohorts", "input", "--out", "out",
                  "--gene-info", "gene_info.gz", "--brain", "llm", "--config", "roles.toml", cwd=tmp_path,
                  env=team_env)
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "out"
    info = json.loads((out / "preprocess" / "Colorectal_Cancer" / "cohort_info.json").read_text())
    assert info["GSE40"]["is_usable"] and info["GSE40"]["sample_size"] == 22
    genes = json.loads(
        (out / "regress" / "Colorectal_Cancer" / "significant_genes_condition_None.json").read_text()
    )
    assert set(cohorts.PLANTED) <= set(genes["significant_genes"]["Variable"])

    j = TaskJournal.load(out / "team" / "cohorts" / "Colorectal_Cancer" / "GSE40" / "journal.json")
    assert j.brains["geo"]["model"] == "openai:geo-model" and j.brains["domain_expert"]["brain"] == "expert"
    unit = next(u for u in j.units if u.unit == "gene_identifiers")
    first, second = unit.rounds
    assert not first.approved and first.reviewer == "code_reviewer (llm)" and first.suggestions == [ADVICE]
    assert second.approved and second.author == "geo (llm)"
    script = (
        out / "team" / "cohorts" / "Colorectal_Cancer" / "GSE40" / "workspace" / second.script
    ).read_text()
    assert script.startswith("# revised after the review")
    load = next(u for u in j.units if u.unit == "load")
    assert [r.approved for r in load.rounds] == [False, True] and "symbolic links" in load.rounds[0].checks[0]
    assert not list((out / "preprocess").rglob("passwd"))
    clinical = next(u for u in j.units if u.unit == "clinical_features")
    assert clinical.rounds[0].reviewer == "domain_expert (expert)"  # this role stayed offline
    assert j.total_usage().requests > 10 and j.total_usage().cost_usd is None  # a local server: cost unknown

    # one model per role, over real HTTP
    def prompt(body):
        return next(m["content"] for m in body["messages"] if m["role"] == "user")

    by_step: dict[str, set[str]] = {}
    for body in server.requests:
        step = next(
            line.split(": ", 1)[1] for line in prompt(body).splitlines() if line.startswith("omicsagent-step")
        )
        by_step.setdefault(step, set()).add(body["model"])
    assert by_step["geo/write"] == {"geo-model"} and by_step["geo/decide"] == {"geo-model"}
    assert by_step["code_reviewer/review"] == {"reviewer-model"} and by_step["statistician/write"] == {
        "stat-model"
    }
    assert "domain_expert/review" not in by_step
    # the author sees the review; the reviewer of round 2 sees the new attempt, not its own earlier review
    writes = [prompt(b) for b in server.requests if "omicsagent-step: geo/write" in prompt(b)
              and "omicsagent-unit: gene_identifiers" in prompt(b)]
    reviews = [prompt(b) for b in server.requests if "omicsagent-step: code_reviewer/review" in prompt(b)
               and "omicsagent-unit: gene_identifiers" in prompt(b)]
    assert len(writes) == 2 and ADVICE not in writes[0] and ADVICE in writes[1]
    assert len(reviews) == 2 and ADVICE not in reviews[1] and "# revised after the review" in reviews[1]
    trajectory = out / "team" / "cohorts" / "Colorectal_Cancer" / "GSE40" / "trajectory.jsonl"
    assert trajectory.is_file() and len(trajectory.read_text().splitlines()) > 10
    assert "LLM" in (out / "team" / "report.html").read_text()
