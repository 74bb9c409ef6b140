from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omicsagent.expression import synthetic

REPO = Path(__file__).resolve().parents[3]
OMICSAGENT = REPO / ".venv" / "bin" / "omicsagent"


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """The real command line, as a user types it (from ``cwd``, relative paths)."""
    exe = [str(OMICSAGENT)] if OMICSAGENT.exists() else [sys.executable, "-m", "omicsagent"]
    return subprocess.run(
        [*exe, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
    )


@pytest.fixture()
def team_env(tmp_path, monkeypatch):
    """A private cache (alias tables, code memory) and a toy gene_info, like a fresh user account."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("OMICSAGENT_CACHE_DIR", str(cache))
    synthetic.write_gene_info(tmp_path / "gene_info.gz")
    return {"OMICSAGENT_CACHE_DIR": str(cache)}
