"""Our bugs are not the model's mistakes: a validator or harness exception stops the run loudly (status
failed, traceback in RUN/omicsagent.log, report written, exit 1) and is never fed back to the brain; what a
brain itself raises or answers wrongly still counts against the brain."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omicsagent.agent import harness
from omicsagent.agent.journal import RunJournal, RunSettings
from omicsagent.agent.runner import start_run
from omicsagent.agent.steps import (
    STEPS,
    ArchitectureOutput,
    ExplorationOutput,
    ReflectionOutput,
    RepresentationOutput,
    TrainingOutput,
)
from omicsagent.cli import app
from omicsagent.errors import InternalError, ModelMistake
from omicsagent.report import list_runs
from omicsagent.tasks import load_task
from omicsagent.testing import ScriptedBrain, make_motif_task


def quick_brain(**overrides) -> ScriptedBrain:
    """Answers without running anything: the harness splits, training names files that need not exist."""
    def split(ctx):
        raise ModelMistake("let the harness split")

    steps = {
        "exploration": lambda ctx: ExplorationOutput(summary="motifs"),
        "split": split,
        "representation": lambda ctx: RepresentationOutput(name="k-mers", description="counts"),
        "architecture": lambda ctx: ArchitectureOutput(name="linear", description="baseline"),
        "training": lambda ctx: TrainingOutput(train_script=ctx.rel(ctx.files.train_script),
                                               model_dir=ctx.rel(ctx.files.model_dir)),
        "reflection": lambda ctx: ReflectionOutput(assessment="-"),
    }
    steps.update(overrides)
    return ScriptedBrain(steps, max_attempts=3)


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    make_motif_task(tmp_path / "data", n=200, n_test=60, length=40)
    return tmp_path


def test_a_validator_bug_stops_the_run_and_is_never_fed_back(here, monkeypatch):
    def buggy_validator(out, ctx):  # what the relative-path bug of issue 9 looked like
        raise ValueError(
            "'runs/x/workspace/artifacts/iter_000/train.py' is not in the subpath of '/abs/runs/x'"
        )

    monkeypatch.setitem(STEPS, "training", replace(STEPS["training"], validate=buggy_validator))
    seen_feedback: list[str] = []

    def training(ctx):
        seen_feedback.append(ctx.feedback)
        return TrainingOutput(
            train_script=ctx.rel(ctx.files.train_script), model_dir=ctx.rel(ctx.files.model_dir)
        )

    brain = quick_brain(training=training)
    with pytest.raises(InternalError) as err:
        start_run(
            load_task("data"),
            out_dir="run",
            settings=RunSettings(iterations=3, time_budget_s=300),
            brain=brain,
        )
    message = str(err.value)
    assert "internal error, not a model mistake" in message and "ValueError" in message
    assert str(here / "run" / "omicsagent.log") in message and "\n" not in message
    assert seen_feedback == [""]  # one attempt; our error was never shown to the brain as a correction
    assert [c for c in brain.calls if c[0] in ("training", "reflection")] == [("training", 0, 1)]
    j = RunJournal.load("run")
    assert j.status == "failed" and j.status_reason.startswith("internal error: ValueError")
    assert len(j.iterations) == 1 and j.iterations[0].failure.startswith("run stopped: internal error")
    log = (here / "run" / "omicsagent.log").read_text()
    assert "Traceback" in log and "buggy_validator" in log and "ValueError" in log
    assert (here / "run" / "report.html").exists() and "failed" in (here / "run" / "report.md").read_text()
    assert [s.status for s in list_runs(here)] == ["failed"]


@pytest.mark.slow
def test_a_harness_bug_through_the_cli_exits_1_with_one_sentence(here, monkeypatch):
    """The expert brain's first iteration trains for real; then the harness's scoring breaks."""
    def broken_scoring(*args, **kwargs):
        raise KeyError("probability_1")

    monkeypatch.setattr(harness, "score_predictions", broken_scoring)
    res = CliRunner().invoke(
        app, ["run", "data", "--out", "r", "--iterations", "3", "--time-budget", "90s", "--quiet"]
    )
    assert res.exit_code == 1, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: omicsagent stopped on an internal error"), (
        res.stderr
    )
    assert "KeyError" in lines[0] and "omicsagent.log" in lines[0] and "Traceback" not in res.stderr
    j = RunJournal.load(here / "r")
    assert j.status == "failed" and "KeyError" in j.status_reason
    # the run stopped at the bug: the brain did not go on to a "cheaper" retry after a failure it did not make
    assert len(j.iterations) == 1 and j.iterations[0].status == "failed"
    assert "broken_scoring" in (here / "r" / "omicsagent.log").read_text()
    assert (here / "r" / "report.html").exists()


def test_what_the_brain_raises_or_answers_wrongly_still_counts_against_it(here):
    def malformed(ctx):
        if ctx.attempt == 1:
            return {"name": "linear"}  # no description: the brain's own mistake, corrected by feedback
        return ArchitectureOutput(name="linear", description=f"fixed after: {ctx.feedback[:60]}")

    def crashing(ctx):
        raise RuntimeError("a bug in the brain")

    brain = quick_brain(architecture=malformed, training=crashing)
    j = start_run(
        load_task("data"), out_dir="run", settings=RunSettings(iterations=2, time_budget_s=300), brain=brain
    )
    assert j.status == "finished" and [it.status for it in j.iterations] == ["failed", "failed"]
    assert "internal error in the scripted brain: RuntimeError" in j.iterations[0].failure
    arch = j.iterations[0].step("architecture")
    assert (
        arch.status == "done"
        and arch.attempts == 2
        and "does not fit its schema" in arch.output["description"]
    )
    assert (here / "run" / "workspace/artifacts/iter_000/training.error.txt").exists()


def test_run_resume_and_demo_exit_1_when_no_iteration_succeeded(here, monkeypatch):
    import omicsagent.brains.expert as expert
    from omicsagent import cli

    def never_trains(ctx):
        raise ModelMistake("train.py failed: the scripted brain never trains")

    monkeypatch.setattr(cli, "_make_brain", lambda *a, **k: quick_brain(training=never_trains))
    monkeypatch.setattr(expert, "ExpertBrain", lambda: quick_brain(training=never_trains))
    runner = CliRunner()
    res = runner.invoke(
        app, ["run", "data", "--out", "r", "--iterations", "1", "--time-budget", "60s", "--quiet"]
    )
    assert res.exit_code == 1 and "No iteration succeeded" in res.stderr, res.output
    assert RunJournal.load(here / "r").status == "finished"
    res = runner.invoke(app, ["resume", "r", "--iterations", "1", "--time-budget", "60s", "--quiet"])
    assert res.exit_code == 1 and len(RunJournal.load(here / "r").iterations) == 2, res.output
    res = runner.invoke(app, ["demo", "--out", "d", "--iterations", "1", "--time-budget", "60s"])
    assert res.exit_code == 1 and "No iteration succeeded" in res.stderr, res.output
