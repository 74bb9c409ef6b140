"""One process per run folder: an advisory lock on ``RUN/.lock`` that holds the owner's pid.

The lock is a ``flock`` on the file, so the kernel releases it when the process dies, even by ``kill -9``: a
run whose journal says ``running`` while nobody holds its lock is *stale* (shown so by ``omicsagent runs``;
``omicsagent resume`` takes it over). The file itself stays (removing it would let two processes lock two
different files of the same name); its content is the owner's pid while locked, empty otherwise.
"""
from __future__ import annotations

import fcntl
import os
import time
from typing import Self

from omicsagent.agent.layout import RunLayout
from omicsagent.errors import RunStateError

ACQUIRE_WAIT_S = 1.0  # ride over a concurrent `omicsagent runs` probing the lock for a moment


class RunLock:
    def __init__(self, layout: RunLayout) -> None:
        self.layout = layout
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        path = self.layout.lock_file
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + ACQUIRE_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                owner = _read_pid(fd)
                os.close(fd)
                who = f"process {owner}" if owner else "another process"
                raise RunStateError(
                    f"{who} is already working on the run in {self.layout.root}; wait for it to "
                    "finish or stop it (Ctrl-C), then try again."
                ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def owner_pid(layout: RunLayout) -> int | None:
    """The pid of the live process working on this run, or None when nobody holds its lock."""
    try:
        fd = os.open(layout.lock_file, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def run_status(layout: RunLayout, journal_status: str) -> str:
    """The status to show: the journal's, except ``stale`` for a ``running`` run that no process holds."""
    if journal_status == "running" and owner_pid(layout) is None:
        return "stale"
    return journal_status


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
