"""Fixtures for the LLM brain tests: a tiny DNA task and StepContexts made by the real loop and sandbox."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.agent.context import StepContext
from omicsagent.agent.journal import RunSettings
from omicsagent.agent.runner import start_run
from omicsagent.agent.steps import (
    ArchitectureOutput,
    ExplorationOutput,
    ReflectionOutput,
    RepresentationOutput,
)
from omicsagent.errors import ModelMistake, SandboxUnavailable
from omicsagent.sandbox import probe_bwrap
from omicsagent.tasks.task import load_task
from omicsagent.testing import ScriptedBrain, tool_unusable

SECRET = "sk-test-DO-NOT-LEAK-0123456789abcdef"


def make_dataset(folder: Path, *, n: int = 160, seed: int = 0) -> Path:
    """DNA sequences whose label is 1 when GC-rich: learnable by k-mer counts in a second."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = i % 2
        p = [0.15, 0.35, 0.35, 0.15] if label else [0.35, 0.15, 0.15, 0.35]
        rows.append({"sequence": "".join(rng.choice(list("ACGT"), size=40, p=p)), "label": label})
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "train.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def bwrap():
    try:
        return probe_bwrap()
    except SandboxUnavailable as exc:
        tool_unusable(f"bubblewrap is unusable on this machine: {exc}")  # a failure under CI=true


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections for the whole test: bound by a socket that never listens.
    A port merely found free and released could be taken meanwhile by another process (a test server or Ray
    of another pytest-xdist worker)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "data")


class LogCapture:
    """A progress sink that keeps the loop's log lines (what ``ctx.log`` says)."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def event(self, kind: str, **data) -> None:
        if kind == "log":
            self.logs.append(data["message"])


@pytest.fixture
def step_ctx(tmp_path: Path, dataset: Path, bwrap, monkeypatch):
    """A factory of StepContexts made by the real loop, not by hand.

    A run is started in ``./run`` (a relative --out, from tmp_path) with a scripted brain that records the
    context the loop gives each step: the harness makes the split, the iteration stops at training. A test
    then hands ``step_ctx("training")`` (the loop's context for that step) to the LLM brain.
    """
    monkeypatch.chdir(tmp_path)
    contexts: dict[str, StepContext] = {}

    def recorded(answer):
        def step(ctx: StepContext):
            contexts[ctx.step] = ctx
            return answer(ctx)
        return step

    def stop(message: str):
        def fail(ctx: StepContext):
            raise ModelMistake(message)
        return fail

    scripted = ScriptedBrain({
        "exploration": recorded(lambda ctx: ExplorationOutput(summary="recorded")),
        "split": recorded(stop("the harness splits for this fixture")),
        "representation": recorded(lambda ctx: RepresentationOutput(name="k-mers", description="recorded")),
        "architecture": recorded(lambda ctx: ArchitectureOutput(name="linear", description="recorded")),
        "training": recorded(stop("the fixture stops here; the test drives the brain")),
        "reflection": recorded(lambda ctx: ReflectionOutput(assessment="recorded")),
    }, max_attempts=1)
    capture = LogCapture()
    start_run(load_task(Path("data")), out_dir="run", brain=scripted, progress=capture,
              settings=RunSettings(brain="llm", iterations=1, time_budget_s=900, sandbox="bwrap"))

    def make(step: str, **kw) -> StepContext:
        base = contexts.get(step) or replace(contexts["training"], step=step)
        return replace(base, **kw) if kw else base

    make.logs = capture.logs  # type: ignore[attr-defined]
    make.run_dir = tmp_path / "run"  # type: ignore[attr-defined]
    return make
