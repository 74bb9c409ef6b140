"""Choose a sandbox by name: "bwrap", "none" or "auto"."""
from __future__ import annotations

from omicsagent.errors import ConfigError
from omicsagent.sandbox.base import Sandbox
from omicsagent.sandbox.bwrap import probe_bwrap
from omicsagent.sandbox.local import LocalSandbox

KINDS = ("auto", "bwrap", "none")


def make_sandbox(kind: str = "auto", *, bwrap: str | None = None) -> Sandbox:
    """"bwrap" and "auto" return a checked BwrapSandbox or raise SandboxUnavailable (auto never falls
    back silently to no isolation); "none" returns a LocalSandbox and logs a loud warning."""
    if kind == "none":
        return LocalSandbox()
    if kind in ("auto", "bwrap"):
        return probe_bwrap(bwrap)
    raise ConfigError(f"Unknown sandbox {kind!r}; choose one of {', '.join(KINDS)}.")
