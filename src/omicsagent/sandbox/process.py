"""Run one command under limits: wall time, summed RSS of its process tree, captured output size.

Shared by every sandbox: the bwrap sandbox only adds an argv prefix. One thread does everything: it
waits (selectors) on the output pipe and a pidfd of the child, polls /proc for memory every
``POLL_SECONDS``, and kills the whole tree at the first limit hit or when the main process exits.
"""
from __future__ import annotations

import os
import selectors
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from omicsagent.sandbox.limits import ExecResult, Limits
from omicsagent.sandbox.proctree import ProcessTree

POLL_SECONDS = 0.05
DRAIN_SECONDS = 2.0  # after the tree is dead, how long to wait for the pipe to close
_CHUNK = 1 << 16


class OutputCapture:
    """Keeps the first and last ``limit/2`` bytes and counts the rest; mirrors into a capped log file."""

    def __init__(self, limit: int, *, log_path: Path | None = None, log_limit: int = 20_000_000) -> None:
        self._head_cap = limit // 2
        self._tail_cap = limit - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0
        self._log_limit = log_limit
        self._logged = 0
        self._log: BinaryIO | None = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(log_path, "wb")  # noqa: SIM115 - closed in close()

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        if self._log is not None and self._logged < self._log_limit:
            part = data[: self._log_limit - self._logged]
            self._log.write(part)
            self._logged += len(part)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data[-self._tail_cap :]
            if len(self._tail) > self._tail_cap:
                del self._tail[: len(self._tail) - self._tail_cap]

    @property
    def omitted(self) -> int:
        return self.total - len(self._head) - len(self._tail)

    def text(self) -> str:
        if not self.omitted:
            return (bytes(self._head) + bytes(self._tail)).decode("utf-8", errors="replace")
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        return f"{head}\n[... {self.omitted} bytes omitted ...]\n{tail}"

    def close(self) -> None:
        if self._log is not None:
            if self.total > self._logged:
                self._log.write(f"\n[... log capped at {self._log_limit} bytes; "
                                f"{self.total - self._logged} more bytes not written ...]\n".encode())
            self._log.close()
            self._log = None


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code  # killed by signal N -> 128+N, like a shell


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    limits: Limits,
    log_path: Path | None = None,
    token: str | None = None,
    pass_fds: Sequence[int] = (),
    reported_argv: Sequence[str] | None = None,
) -> ExecResult:
    """Run ``argv`` (a list, never a shell string) and return its result; never raises for the
    command's own failures. ``token`` is an environment entry 'NAME=value' that marks the command's
    processes (see ProcessTree); ``reported_argv`` is what the result shows (without sandbox prefix)."""
    shown = tuple(reported_argv if reported_argv is not None else argv)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, pass_fds=tuple(pass_fds),
        )
    except OSError as exc:
        message = f"cannot start {argv[0]!r}: {exc.strerror or exc}\n"
        return ExecResult(shown, 127, message, False, len(message), time.monotonic() - started, 0.0)

    capture = OutputCapture(limits.output_bytes, log_path=log_path, log_limit=limits.log_bytes)
    tree = ProcessTree(proc.pid, token=token)
    assert proc.stdout is not None
    out_fd = proc.stdout.fileno()
    os.set_blocking(out_fd, False)
    pid_fd = os.pidfd_open(proc.pid)
    selector = selectors.DefaultSelector()
    selector.register(out_fd, selectors.EVENT_READ, "out")
    selector.register(pid_fd, selectors.EVENT_READ, "exit")
    deadline = started + limits.wall_seconds
    limit_bytes = limits.memory_mb * 1024 * 1024
    peak = 0
    timed_out = memory_exceeded = exited = False
    pipe_open = True
    next_poll = started
    try:
        while not exited:
            now = time.monotonic()
            if now >= next_poll:
                _, rss = tree.scan()
                peak = max(peak, rss)
                next_poll = now + POLL_SECONDS
                if rss > limit_bytes:
                    memory_exceeded = True
                    break
            if now >= deadline:
                timed_out = True
                break
            for key, _ in selector.select(max(0.0, min(next_poll, deadline) - now)):
                if key.data == "exit":
                    exited = True
                elif pipe_open and not _read_some(out_fd, capture):
                    selector.unregister(out_fd)
                    pipe_open = False
        tree.kill()  # limit hit, or leftovers of a finished command (daemons, background jobs)
        if pipe_open:
            _drain(out_fd, capture, time.monotonic() + DRAIN_SECONDS)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = _exit_code(status)  # tell Popen we reaped it ourselves
    finally:
        selector.close()
        os.close(pid_fd)
        proc.stdout.close()
        capture.close()
        if proc.returncode is None:  # an exception above: do not leave anything running
            tree.kill()
            proc.wait()
    duration = time.monotonic() - started
    # ru_maxrss (KiB) is the largest single process that was waited for; the poll sums the tree
    peak = max(peak, usage.ru_maxrss * 1024)
    return ExecResult(
        argv=shown,
        exit_code=proc.returncode,
        output=capture.text(),
        truncated=capture.omitted > 0,
        output_bytes=capture.total,
        duration_s=round(duration, 3),
        peak_memory_mb=round(peak / (1024 * 1024), 1),
        timed_out=timed_out,
        memory_exceeded=memory_exceeded,
    )


def _read_some(fd: int, capture: OutputCapture) -> bool:
    """Read what is available; False at end of file."""
    for _ in range(64):  # bounded, so limits are checked even under a flood of output
        try:
            data = os.read(fd, _CHUNK)
        except BlockingIOError:
            return True
        if not data:
            return False
        capture.feed(data)
    return True


def _drain(fd: int, capture: OutputCapture, until: float) -> None:
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while time.monotonic() < until:
            if sel.select(max(0.0, until - time.monotonic())) and not _read_some(fd, capture):
                return
