"""CPU time of everything a job started.

``getrusage(RUSAGE_CHILDREN)`` does not see processes inside a bubblewrap PID namespace (their CPU time is
not passed up to the process that started bwrap), so a thread samples ``/proc`` instead: every
``INTERVAL_S`` it adds up user + system time of every process descended from this one (a process keeps
counting after it is orphaned). A process's last interval and processes shorter than one interval can be
missed; the larger of the sample and the rusage of reaped children is reported.
"""
from __future__ import annotations

import os
import resource
import threading
from typing import Self

INTERVAL_S = 0.25
TICKS = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, start time, utime + stime in ticks)."""
    out: dict[int, tuple[int, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                raw = fh.read()
        except OSError:
            continue
        rest = raw[raw.rfind(b")") + 2:].split()
        out[int(entry.name)] = (int(rest[1]), int(rest[19]), int(rest[11]) + int(rest[12]))
    return out


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class CpuSampler:
    """``with CpuSampler() as s: ...`` then ``s.seconds``."""

    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._seen: dict[tuple[int, int], int] = {}  # (pid, start) -> last cpu ticks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)
        self.seconds = 0.0

    def _scan(self) -> None:
        stats = _stats()
        members = {pid for pid, (_, start, _) in stats.items() if (pid, start) in self._seen}
        members.add(os.getpid())
        changed = True
        while changed:  # descendants by parent links, to a fixed point
            changed = False
            for pid, (ppid, _, _) in stats.items():
                if ppid in members and pid not in members:
                    members.add(pid)
                    changed = True
        for pid in members:
            if pid == os.getpid() or pid not in stats:
                continue
            _, start, ticks = stats[pid]
            key = (pid, start)
            self._seen[key] = max(self._seen.get(key, 0), ticks)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._scan()

    def __enter__(self) -> Self:
        self._rusage0 = _children_cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._scan()
        sampled = sum(self._seen.values()) / TICKS
        self.seconds = round(max(sampled, _children_cpu() - self._rusage0), 3)
