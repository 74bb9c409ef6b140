"""Fixtures for the sandbox tests: a fresh workspace and the two real sandboxes."""
from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from omicsagent.errors import SandboxUnavailable
from omicsagent.sandbox import BwrapSandbox, LocalSandbox, Workspace, probe_bwrap
from omicsagent.testing import tool_unusable


@pytest.fixture(scope="session")
def bwrap_sandbox() -> BwrapSandbox:
    try:
        return probe_bwrap()
    except SandboxUnavailable as exc:
        tool_unusable(f"bubblewrap is unusable on this machine: {exc}")  # a failure under CI=true


@pytest.fixture(scope="session")
def local_sandbox() -> LocalSandbox:
    return LocalSandbox()


@pytest.fixture(params=["bwrap", "none"])
def sandbox(request: pytest.FixtureRequest) -> BwrapSandbox | LocalSandbox:
    """Each test using this runs once per sandbox: both must apply the same limits."""
    name = "bwrap_sandbox" if request.param == "bwrap" else "local_sandbox"
    return request.getfixturevalue(name)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path / "ws")


@pytest.fixture
def script(ws: Workspace) -> Callable[[str, str], str]:
    """``script(name, code)`` writes scratch/<name> and returns its workspace-relative path."""

    def write(name: str, code: str) -> str:
        (ws.scratch / name).write_text(textwrap.dedent(code))
        return f"scratch/{name}"

    return write
