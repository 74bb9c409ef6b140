"""Small synthetic datasets and prepared tasks for the benchmark-arena tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.bench.prepare import prepare_dataset
from omicsagent.testing import make_motif_task, make_tabular_task

OMICSAGENT = [sys.executable, "-m", "omicsagent"]


def cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """The real command line, as a user types it, from ``cwd``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLUMNS")}
    return subprocess.run(
        [*OMICSAGENT, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def regression_frame(n: int, *, scale: float = 1.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": scale * (2 * x1 - x2 + rng.normal(scale=0.3, size=n))})


@pytest.fixture
def motif_dataset(tmp_path: Path) -> Path:
    return make_motif_task(tmp_path / "data" / "motif", n=240, n_test=80, length=40)


@pytest.fixture
def tabular_dataset(tmp_path: Path) -> Path:
    return make_tabular_task(tmp_path / "data" / "tab", n=200, n_test=60, regression=True)


@pytest.fixture
def motif_task(tmp_path: Path, motif_dataset: Path):
    return prepare_dataset(motif_dataset, tmp_path / "tasks" / "motif", domain="sequences")


def write_submission(path: Path, df: pd.DataFrame) -> Path:
    df.to_csv(path, index=False)
    return path
