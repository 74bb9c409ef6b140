"""Where generated code runs: a workspace folder, limits, and a sandbox (bubblewrap or, unsafely, none).

    ws = Workspace.create(run_dir / "workspace")
    ws.add_input(Path("train.csv"))
    sb = make_sandbox("bwrap")
    res = sb.run(["python", "scratch/train.py"], workspace=ws, limits=Limits(wall_seconds=600))
"""
from __future__ import annotations

from omicsagent.sandbox.base import Sandbox
from omicsagent.sandbox.bwrap import BwrapSandbox, probe_bwrap
from omicsagent.sandbox.env import is_secret_name
from omicsagent.sandbox.factory import make_sandbox
from omicsagent.sandbox.limits import ExecResult, Limits
from omicsagent.sandbox.local import LocalSandbox
from omicsagent.sandbox.workspace import Workspace

__all__ = [
    "BwrapSandbox",
    "ExecResult",
    "Limits",
    "LocalSandbox",
    "Sandbox",
    "Workspace",
    "is_secret_name",
    "make_sandbox",
    "probe_bwrap",
]
