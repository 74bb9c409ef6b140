"""``--sandbox none``: the same limits, env scrubbing and output handling, but NO isolation."""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from omicsagent.sandbox.base import Prepared, ProcessSandbox
from omicsagent.sandbox.limits import Limits
from omicsagent.sandbox.workspace import Workspace

log = logging.getLogger("omicsagent.sandbox")
TOKEN_NAME = "OMICSAGENT_RUN_TOKEN"


class LocalSandbox(ProcessSandbox):
    """Runs commands directly on the host: generated code can read, write and connect anywhere the
    current user can. Only for machines without bubblewrap, on data you are willing to expose."""

    name = "none"
    isolated = False

    def __init__(self) -> None:
        log.warning(
            "SANDBOX DISABLED (--sandbox none): generated code runs unisolated with your user's "
            "permissions; it can read your files and secrets on disk, write anywhere you can and use the "
            "network. Only limits and environment scrubbing apply."
        )

    def __repr__(self) -> str:
        return "LocalSandbox()"

    @contextmanager
    def _prepare(
        self, *, workspace: Workspace, cwd: Path, extra_ro_mounts: Sequence[Path], limits: Limits
    ) -> Iterator[Prepared]:
        # a private HOME and TMPDIR per run, removed afterwards
        private = Path(tempfile.mkdtemp(prefix="omicsagent-run-"))
        (private / "home").mkdir()
        (private / "tmp").mkdir()
        path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
        try:
            yield Prepared(
                wrap=_no_wrap,
                path=path,
                home=str(private / "home"),
                tmpdir=str(private / "tmp"),
                token=f"{TOKEN_NAME}={uuid.uuid4().hex}",
            )
        finally:
            shutil.rmtree(private, ignore_errors=True)


def _no_wrap(command: list[str], env: Mapping[str, str]) -> list[str]:
    return command
