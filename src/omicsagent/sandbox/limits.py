"""What a run may use (``Limits``) and what it did (``ExecResult``)."""
from __future__ import annotations

from dataclasses import dataclass

from omicsagent.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    """Per-command limits. ``output_bytes`` is what is kept in memory (head + tail); ``log_bytes`` caps
    the optional log file."""

    wall_seconds: float = 600.0
    memory_mb: int = 8192
    output_bytes: int = 100_000
    log_bytes: int = 20_000_000

    def __post_init__(self) -> None:
        for field in ("wall_seconds", "memory_mb", "output_bytes", "log_bytes"):
            value = getattr(self, field)
            if not value > 0:
                raise ConfigError(f"Sandbox limit {field} must be positive, got {value!r}; fix the setting.")


@dataclass(frozen=True)
class ExecResult:
    """The outcome of one command.

    ``exit_code`` follows the shell convention: 128+N when the process died of signal N (137 when the
    sandbox killed it). ``output`` is stdout and stderr interleaved, with the middle cut out when longer
    than ``Limits.output_bytes``; ``output_bytes`` is the full size that was produced.
    """

    argv: tuple[str, ...]
    exit_code: int
    output: str
    truncated: bool
    output_bytes: int
    duration_s: float
    peak_memory_mb: float
    timed_out: bool = False
    memory_exceeded: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.memory_exceeded

    @property
    def status(self) -> str:
        """One line for a log or for the brain, e.g. 'killed: wall-time limit exceeded after 600.0 s'."""
        if self.timed_out:
            return f"killed: wall-time limit exceeded after {self.duration_s:.1f} s"
        if self.memory_exceeded:
            return f"killed: memory limit exceeded (peak {self.peak_memory_mb:.0f} MB)"
        return f"exit code {self.exit_code} after {self.duration_s:.1f} s"
