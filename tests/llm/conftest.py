"""Fixtures for the LLM brain tests: a tiny DNA task, a workspace, and a StepContext over the real sandbox."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.agent.context import StepContext
from omicsagent.agent.journal import RunJournal, RunSettings
from omicsagent.errors import SandboxUnavailable
from omicsagent.sandbox import Workspace, probe_bwrap
from omicsagent.tasks.task import load_task
from omicsagent.testing import tool_unusable

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
def dataset(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "data")


@pytest.fixture
def step_ctx(tmp_path: Path, dataset: Path, bwrap):
    """A factory of StepContexts over one run directory with a real workspace and the bwrap sandbox."""
    task = load_task(dataset)
    run_dir = tmp_path / "run"
    ws = Workspace.create(run_dir / "workspace")
    ws.add_input(dataset / "train.csv", name="train.csv")
    journal = RunJournal(run_id="test", settings=RunSettings(brain="llm"), task=task)
    iter_dir = ws.artifacts / "iter_000"
    iter_dir.mkdir()
    logs: list[str] = []

    def make(step: str, **kw) -> StepContext:
        base = dict(step=step, iteration=0, task=task, journal=journal, workspace=ws, sandbox=bwrap,
                    iter_dir=iter_dir, train_file="inputs/train.csv", validation_file=None,
                    validation_features=None, n_validation=0, deadline=time.monotonic() + 600, seed=0,
                    log=logs.append)
        base.update(kw)
        return StepContext(**base)

    make.logs = logs  # type: ignore[attr-defined]
    make.run_dir = run_dir  # type: ignore[attr-defined]
    return make
