"""End to end through the lead's loop: a local OpenAI-compatible server plays the model over real HTTP, the
real bwrap sandbox runs its code; faults from the server never crash the run and keys never leak."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from genai_prices import calc_price
from pydantic_ai.usage import RequestUsage

from omicsagent.agent.journal import RunSettings
from omicsagent.agent.runner import start_run
from omicsagent.brains.llm import LLMBrain, load_llm_config
from omicsagent.tasks.task import load_task
from omicsagent.testing_llm import FakeOpenAIServer, Playbook, fault, garbage

from .conftest import SECRET
from .playbooks import full_playbook

pytestmark = pytest.mark.slow


def _brain(server: FakeOpenAIServer, **extra) -> LLMBrain:
    config = load_llm_config(model="openai:gpt-4.1", base_url=server.url, retry_base_delay_s=0.01,
                             price_model="openai:gpt-4.1", **extra)
    return LLMBrain(config)


def test_run_with_http_model_faults_and_a_secret(tmp_path: Path, dataset: Path, bwrap, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    playbook = full_playbook(break_json=True)
    # exploration also dumps the sandbox's environment to a file (in artifacts/: scratch/ is emptied once the
    # split is registered), to prove the key is not there
    playbook.steps["exploration"] = [
        playbook.steps["exploration"][0].__class__(
            calls=(
                (
                    "bash",
                    {
                        "command": "env > artifacts/sandbox_env.txt; "
                        "cat /proc/self/environ >> artifacts/sandbox_env.txt;"
                        " head -3 inputs/train.csv"
                    },
                ),
            )
        )
    ] + list(playbook.steps["exploration"][1:])
    server = FakeOpenAIServer(playbook, usage=(1200, 150))
    server.inject([fault(500), fault(429, retry_after=0), garbage()])
    out = tmp_path / "run"
    caplog.set_level(logging.WARNING, logger="omicsagent.llm")
    with server:
        brain = _brain(server)
        journal = start_run(load_task(dataset), out_dir=out, brain=brain,
                            settings=RunSettings(brain="llm", model="openai:gpt-4.1", iterations=1,
                                                 time_budget_s=600, sandbox="bwrap"))
    it = journal.iterations[0]
    assert it.status == "succeeded", it.failure
    assert journal.best_iteration is not None and (out / "best" / "inference.py").exists()
    assert (out / "best" / "model" / "model.joblib").exists()
    # the promoted model predicts on new data outside the agent
    res = subprocess.run([sys.executable, str(out / "best/inference.py"),
                          "--input", str(out / "workspace/scoring/validation_features.csv"),
                          "--output", str(tmp_path / "p.csv")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    # three faults were retried with a log line each; the bad JSON and the two inference mistakes corrected
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 3 and "HTTP 500" in retries[0] and "HTTP 429" in retries[1]
    inference = it.step("inference")
    assert inference.status == "done" and inference.attempts == 1
    # tokens and cost: every answered request is recorded on its step, priced by genai-prices
    per_request = float(calc_price(RequestUsage(input_tokens=1200, output_tokens=150), "gpt-4.1",
                                   provider_id="openai").total_price)
    steps = {s.name: s for s in it.steps}
    assert steps["inference"].usage.requests == 5
    assert steps["exploration"].usage.requests == 3
    total = journal.total_usage()
    assert total.requests == server.responses
    assert total.input_tokens == 1200 * server.responses and total.output_tokens == 150 * server.responses
    assert total.cost_usd == pytest.approx(per_request * server.responses)
    # the key went to the server, and nowhere else
    assert any(
        {k.lower(): v for k, v in h.items()}.get("authorization") == f"Bearer {SECRET}"
        for h in server.headers
    )
    env_dump = (out / "workspace/artifacts/sandbox_env.txt").read_text(errors="replace")
    assert "PATH=" in env_dump and SECRET not in env_dump and "OPENAI_API_KEY" not in env_dump
    assert all(SECRET not in json.dumps(b) for b in server.requests)  # tool results sent back hold no key
    leaks = [p for p in out.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert SECRET not in json.dumps(journal.settings.extra)
    lines = (out / "trajectory.jsonl").read_text().splitlines()
    kinds = [json.loads(x)["kind"] for x in lines]
    assert kinds.count("response") == server.responses and kinds.count("error") == 3


def test_a_dead_server_fails_iterations_but_not_the_run(tmp_path: Path, dataset: Path, bwrap):
    server = FakeOpenAIServer(Playbook({}))
    server.inject([fault(500)] * 200)
    out = tmp_path / "run"
    with server:
        brain = _brain(server, provider_retries=1)
        journal = start_run(
            load_task(dataset),
            out_dir=out,
            brain=brain,
            settings=RunSettings(brain="llm", iterations=2, time_budget_s=300, sandbox="bwrap"),
        )
    assert journal.status == "finished"
    assert [it.status for it in journal.iterations] == ["failed", "failed"]
    assert "failed after 2 attempt(s) (HTTP 500)" in journal.iterations[0].failure
    assert journal.best_iteration is None


def test_garbage_answers_fail_a_step_and_the_run_continues(tmp_path: Path, dataset: Path, bwrap):
    server = FakeOpenAIServer(Playbook({}, default=None))  # answers text only: never a structured answer
    out = tmp_path / "run"
    with server:
        brain = _brain(server, max_retries=1)
        journal = start_run(
            load_task(dataset),
            out_dir=out,
            brain=brain,
            settings=RunSettings(brain="llm", iterations=1, time_budget_s=300, sandbox="bwrap"),
        )
    assert journal.status == "finished" and journal.iterations[0].status == "failed"
    assert "no valid answer" in journal.iterations[0].failure
