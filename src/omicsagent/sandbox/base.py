"""The Sandbox protocol and the part every implementation shares (argument checks, env, limits)."""
from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from omicsagent.errors import InputError, ModelMistake
from omicsagent.sandbox.env import build_env
from omicsagent.sandbox.limits import ExecResult, Limits
from omicsagent.sandbox.process import run_process
from omicsagent.sandbox.workspace import Workspace

PYTHON_ALIASES = ("python", "python3")


@runtime_checkable
class Sandbox(Protocol):
    """Runs a command inside a workspace under limits."""

    name: str
    isolated: bool

    def run(
        self,
        argv: Sequence[str],
        *,
        workspace: Workspace,
        cwd: str | Path = ".",
        limits: Limits | None = None,
        extra_ro_mounts: Sequence[Path] = (),
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
    ) -> ExecResult: ...


@dataclass(frozen=True)
class Prepared:
    """What an implementation contributes to one run."""

    wrap: Callable[[list[str], Mapping[str, str]], list[str]]  # (command, env) -> argv to execute
    path: str  # PATH, HOME and TMPDIR as seen by the command
    home: str
    tmpdir: str
    pass_fds: tuple[int, ...] = ()
    token: str | None = None  # 'NAME=value' added to the env to find detached processes


class ProcessSandbox:
    """Shared ``run``; subclasses implement ``_prepare``."""

    name = "base"
    isolated = False

    def run(
        self,
        argv: Sequence[str],
        *,
        workspace: Workspace,
        cwd: str | Path = ".",
        limits: Limits | None = None,
        extra_ro_mounts: Sequence[Path] = (),
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
    ) -> ExecResult:
        if isinstance(argv, (str, bytes)) or not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError("argv must be a non-empty list of strings (never a shell string).")
        workdir = workspace.confine(cwd)
        if not workdir.is_dir():
            raise ModelMistake(f"Working directory {str(cwd)!r} does not exist in the workspace.")
        mounts = []
        for extra in extra_ro_mounts:
            if not Path(extra).exists():
                raise InputError(f"Extra read-only mount {extra} does not exist; create it or drop it.")
            mounts.append(Path(extra).resolve())
        command = [sys.executable if argv[0] in PYTHON_ALIASES else argv[0], *argv[1:]]
        limits = limits or Limits()
        with self._prepare(workspace=workspace, cwd=workdir, extra_ro_mounts=mounts, limits=limits) as prep:
            full_env = build_env(env, path=prep.path, home=prep.home, tmpdir=prep.tmpdir)
            if prep.token is not None:
                name, _, value = prep.token.partition("=")
                full_env[name] = value
            return run_process(
                prep.wrap(command, full_env), cwd=workdir, env=full_env, limits=limits,
                log_path=log_path, token=prep.token, pass_fds=prep.pass_fds, reported_argv=tuple(argv),
            )

    def _prepare(
        self, *, workspace: Workspace, cwd: Path, extra_ro_mounts: Sequence[Path], limits: Limits
    ) -> AbstractContextManager[Prepared]:
        """A context manager yielding the run's ``Prepared``; it releases temporary resources."""
        raise NotImplementedError
