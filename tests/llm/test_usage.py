"""Tokens, cost and --max-cost: priced by genai-prices, "unknown" for local models, a graceful stop."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from omicsagent.agent.journal import RunSettings
from omicsagent.agent.runner import start_run
from omicsagent.brains.llm import LLMBrain, LLMConfig, load_llm_config
from omicsagent.errors import ModelMistake
from omicsagent.tasks.task import load_task
from omicsagent.testing_llm import FakeOpenAIServer, Playbook, call, final, playbook_model

EXPLORE = Playbook({"exploration": [call("bash", command="head -2 inputs/train.csv"), final(summary="ok")],
                    "reflection": [final(assessment="fine", instructions={})]})


def test_local_model_cost_is_unknown_not_a_crash(step_ctx, monkeypatch):
    monkeypatch.delenv("OLLAMA_BASE_URL", raising=False)
    with FakeOpenAIServer(EXPLORE, model_name="llama3.1", usage=(500, 50)) as server:
        brain = LLMBrain(load_llm_config(model="ollama:llama3.1", base_url=server.url))
        outcome = brain.run_step(step_ctx("exploration"))
    assert (
        outcome.usage.requests == 2
        and outcome.usage.input_tokens == 1000
        and outcome.usage.output_tokens == 100
    )
    assert outcome.usage.cost_usd is None
    assert brain.spent() is None and brain.over_budget() is None
    assert any("cost unknown" in m for m in step_ctx.logs)


def test_reflection_uses_its_own_model(step_ctx):
    config = LLMConfig(model="openai:gpt-4.1", reflection_model="anthropic:claude-sonnet-4-5")
    brain = LLMBrain(config, chat_model=playbook_model(EXPLORE))
    brain.run_step(step_ctx("exploration"))
    brain.run_step(step_ctx("reflection"))
    lines = [json.loads(x) for x in (step_ctx.run_dir / "trajectory.jsonl").read_text().splitlines()]
    used = {(r["step"], r["model"]) for r in lines if r["kind"] == "request"}
    assert used == {("exploration", "openai:gpt-4.1"), ("reflection", "anthropic:claude-sonnet-4-5")}


def test_max_cost_stops_the_step_before_the_next_request(step_ctx):
    config = LLMConfig(model="openai:gpt-4.1", price_model="openai:gpt-4.1", max_cost_usd=1e-7)
    brain = LLMBrain(config, chat_model=playbook_model(EXPLORE, model_name="gpt-4.1"))
    with pytest.raises(ModelMistake, match="cost limit") as err:
        brain.run_step(step_ctx("exploration"))
    assert err.value.usage.requests == 1 and err.value.usage.cost_usd > 0
    assert "cost limit reached" in brain.over_budget()


@pytest.mark.slow
def test_max_cost_ends_the_run_gracefully(tmp_path: Path, dataset: Path, bwrap):
    with FakeOpenAIServer(EXPLORE, usage=(1000, 100)) as server:
        config = load_llm_config(model="openai:gpt-4.1", base_url=server.url, price_model="openai:gpt-4.1",
                                 max_cost_usd=0.004, retry_base_delay_s=0.0)
        journal = start_run(
            load_task(dataset),
            out_dir=tmp_path / "run",
            brain=LLMBrain(config),
            settings=RunSettings(
                brain="llm", iterations=3, time_budget_s=300, sandbox="bwrap", max_cost_usd=0.004
            ),
        )
    assert journal.status == "finished" and journal.status_reason.startswith("cost limit reached")
    assert len(journal.iterations) == 1
    assert server.responses == 2  # two priced requests (~$0.0028 each), then no more
