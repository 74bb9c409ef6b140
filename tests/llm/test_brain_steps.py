"""The LLM brain over scripted models (pydantic-ai FunctionModel): every step through the loop, its validator
and the retry paths; single steps get the context the real loop built (see conftest.step_ctx)."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from omicsagent.agent.journal import RunJournal, RunSettings
from omicsagent.agent.runner import start_run
from omicsagent.agent.steps import STEPS
from omicsagent.brains.llm import LLMBrain, LLMConfig
from omicsagent.errors import InternalError, ModelMistake
from omicsagent.tasks.task import load_task
from omicsagent.testing_llm import Playbook, call, final, playbook_model, raw_call, text

from .conftest import LogCapture
from .playbooks import full_playbook


def brain_for(playbook: Playbook, **cfg) -> LLMBrain:
    config = LLMConfig(model="openai:gpt-4.1", retry_base_delay_s=0.0, **cfg)
    return LLMBrain(config, chat_model=playbook_model(playbook, model_name="gpt-4.1"))


def test_all_steps_through_the_loop_with_corrections(tmp_path, dataset, bwrap, monkeypatch):
    """Every step of one iteration, run by the real loop from a relative --out, over scripted model turns."""
    monkeypatch.chdir(tmp_path)
    playbook = full_playbook()
    brain = brain_for(playbook)
    capture = LogCapture()
    # single split (cv_below_rows=0): the folds re-run the scripts without the brain; the model's scripts
    # through k-fold selection and the refit are tests/llm/test_e2e_http.py
    journal = start_run(load_task(Path("data")), out_dir="run", brain=brain, progress=capture,
                        settings=RunSettings(brain="llm", iterations=1, time_budget_s=900, sandbox="bwrap",
                                             cv_below_rows=0))
    it = journal.iterations[0]
    assert it.status == "succeeded", it.failure
    assert all(step.usage.requests >= 1 and step.usage.input_tokens > 0 for step in it.steps)
    ws = tmp_path / "run" / "workspace"
    assert (ws / "artifacts/iter_000/model/model.joblib").exists()
    pred = pd.read_csv(ws / "artifacts/iter_000/validation_predictions.csv")
    assert len(pred) == journal.split.n_validation and {
        "prediction",
        "probability_0",
        "probability_1",
    } <= set(pred.columns)
    assert (tmp_path / "run" / "best" / "inference.py").exists()
    # the inference step needed two corrections (wrong name, wrong row count) within one agent run
    inference_turns = [turn for step, turn in playbook.seen if step == "inference"]
    assert max(inference_turns) == 4
    assert any("must be 'artifacts/iter_000/inference.py'" in m for m in capture.logs)
    assert any("returned 5 rows" in m for m in capture.logs)
    # the dry-run ran once per answer the model gave: the failing one and the passing one; the loop did not
    # repeat the check that passed inside the agent run
    assert sum(m.startswith("inference dry-run") for m in capture.logs) == 2
    # the trajectory holds every request and response, no tool trajectories leak into later prompts
    lines = [json.loads(x) for x in (tmp_path / "run" / "trajectory.jsonl").read_text().splitlines()]
    assert (
        sum(r["kind"] == "request" for r in lines)
        == sum(r["kind"] == "response" for r in lines)
        == len(playbook.seen)
    )
    assert {r["step"] for r in lines} >= {"exploration", "inference", "reflection"}
    # a later step sees earlier structured outputs, never their tool trajectories
    first = next(r for r in lines if r["kind"] == "request" and r["step"] == "training")
    prompt = first["messages"][0]["parts"][0]["content"]
    assert '"name": "2-3-mer counts"' in prompt and "balanced classes" in prompt
    assert "inputs/train.csv" not in prompt.split("## Results of the earlier steps")[1]  # no bash output
    assert (
        "omicsagent.ml.pipeline" in first["messages"][0]["instructions"]
    )  # the building blocks are documented


def test_a_validator_bug_is_not_sent_to_the_model(tmp_path, dataset, bwrap, monkeypatch):
    """The LLM brain runs the loop's check inside its agent run; our bug there stops the run, it is not a
    correction for the model to chase."""
    def buggy_validator(out, ctx):
        raise ValueError("our bug, not the model's")

    monkeypatch.setitem(STEPS, "training", replace(STEPS["training"], validate=buggy_validator))
    monkeypatch.chdir(tmp_path)
    playbook = full_playbook()
    with pytest.raises(InternalError, match="ValueError"):
        start_run(load_task(Path("data")), out_dir="run", brain=brain_for(playbook),
                  settings=RunSettings(brain="llm", iterations=2, time_budget_s=900, sandbox="bwrap"))
    assert [turn for step, turn in playbook.seen if step == "training"] == [0, 1, 2]  # no fourth turn
    assert "our bug" not in (tmp_path / "run" / "trajectory.jsonl").read_text()
    assert RunJournal.load(tmp_path / "run").status == "failed"


def test_reflection_sees_history_and_budget(step_ctx):
    def reflect(values):
        return final(assessment="ok", instructions={"training": "train longer"})

    playbook = Playbook({"reflection": [reflect]})
    brain = brain_for(playbook, max_cost_usd=5.0)
    ctx = step_ctx("reflection", previous={"_iteration": {"status": "failed", "failure": "training: boom"}})
    ctx.journal.iterations.append(__import__("omicsagent.agent.journal", fromlist=["x"]).IterationRecord(
        index=0, status="failed", failure="training: boom", validation_metrics={}, duration_s=12.0))
    from omicsagent.brains.llm import prompts
    text_ = prompts.step_prompt(ctx, max_requests=10, tool_timeout_s=60, spent=0.5, max_cost=5.0)
    assert "training: boom" in text_ and "$0.5000 of a $5.00 limit" in text_ and "Time left" in text_
    out = brain.run_step(ctx).output
    assert out.instructions == {"training": "train longer"}


def test_invalid_json_and_text_answers_are_corrected(step_ctx):
    playbook = Playbook({"exploration": [text("I think the data is fine."),
                                         raw_call("final_result", '{"summary": '),
                                         final(summary="fine", findings=[])]})
    out = brain_for(playbook).run_step(step_ctx("exploration")).output
    assert out.summary == "fine"


def test_unfixable_step_fails_as_model_mistake_with_usage(step_ctx):
    playbook = Playbook(
        {"training": [final(train_script="{iter_dir}/train.py", model_dir="{iter_dir}/model")]}
    )
    brain = brain_for(playbook, max_retries=2)
    with pytest.raises(ModelMistake) as err:
        brain.run_step(step_ctx("training"))
    assert "no valid answer within 2 corrections" in str(err.value)
    assert err.value.usage.requests == 3  # first answer + 2 corrections, all counted


def test_request_limit_stops_a_step(step_ctx):
    playbook = Playbook({"exploration": [call("bash", command="true")]})  # never answers
    brain = brain_for(playbook, max_requests_per_step=3)
    with pytest.raises(ModelMistake, match="used its 3 model requests"):
        brain.run_step(step_ctx("exploration"))


def test_tools_stay_in_the_workspace(step_ctx):
    playbook = Playbook({"exploration": [
        call("read_file", path="/etc/passwd"),
        call("write_file", path="inputs/evil.py", content="x"),
        call("write_file", path="../outside.txt", content="x"),
        call("bash", command="cat /proc/1/environ; ls /work 2>&1 | head -2; echo done"),
        final(summary="done")]})
    brain = brain_for(playbook)
    brain.run_step(step_ctx("exploration"))
    lines = [json.loads(x) for x in (step_ctx.run_dir / "trajectory.jsonl").read_text().splitlines()]
    returns = [p["content"] for r in lines if r["kind"] == "request" for m in r["messages"]
               for p in m.get("parts", []) if p.get("part_kind") == "tool-return"]
    assert "outside the workspace" in returns[0]
    assert "not writable" in returns[1] and "outside the workspace" in returns[2]
    assert not (step_ctx.run_dir / "outside.txt").exists()
    assert "done" in returns[3]


def test_output_is_truncated_head_and_tail(step_ctx):
    playbook = Playbook({"exploration": [call("bash", command="seq 1 100000"), final(summary="long")]})
    brain_for(playbook).run_step(step_ctx("exploration"))
    lines = [json.loads(x) for x in (step_ctx.run_dir / "trajectory.jsonl").read_text().splitlines()]
    ret = next(p["content"] for r in lines if r["kind"] == "request" for m in r["messages"]
               for p in m.get("parts", []) if p.get("part_kind") == "tool-return")
    assert ret.startswith("[ok: exit code 0") and "characters omitted" in ret and len(ret) < 14_000


def test_tool_calls_sent_together_run_in_order(step_ctx):
    from omicsagent.testing_llm import Reply

    together = Reply(calls=(("write_file", {"path": "scratch/a.py", "content": "print('hello from a')"}),
                            ("run_python", {"script": "scratch/a.py"}),
                            ("replace_in_file", {"path": "scratch/a.py", "old": "hello", "new": "bye"}),
                            ("run_python", {"script": "scratch/a.py"})))
    playbook = Playbook({"exploration": [together, final(summary="ok")]})
    brain_for(playbook).run_step(step_ctx("exploration"))
    lines = [json.loads(x) for x in (step_ctx.run_dir / "trajectory.jsonl").read_text().splitlines()]
    returns = [p["content"] for r in lines if r["kind"] == "request" for m in r["messages"]
               for p in m.get("parts", []) if p.get("part_kind") == "tool-return"]
    assert "hello from a" in returns[1] and "bye from a" in returns[3]
