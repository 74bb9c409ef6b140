"""Find, measure and kill every process a command started, by reading /proc (Linux only).

Members of the tree are the root process, its descendants (by parent pid), processes seen in the tree
before (they stay members after being orphaned) and, when a ``token`` is given, any process whose
initial environment holds it. The token catches double-forked daemons of unisolated local runs, which
get reparented to the host's init; under bwrap they are reparented to bwrap's pid-1 and stay in the tree.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class _Stat:
    ppid: int
    start: int  # start time in clock ticks: (pid, start) names a process even if pids are reused
    rss_pages: int
    zombie: bool


def _read_stats() -> dict[int, _Stat]:
    stats: dict[int, _Stat] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                raw = fh.read()
        except OSError:  # exited while we looked
            continue
        # the command name is in parentheses and may contain anything, so split after the last ')'
        rest = raw[raw.rfind(b")") + 2 :].split()
        stats[int(entry.name)] = _Stat(
            ppid=int(rest[1]), start=int(rest[19]), rss_pages=int(rest[21]), zombie=rest[0] == b"Z"
        )
    return stats


def _has_token(pid: int, token: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return token in fh.read().split(b"\0")
    except OSError:
        return False


@dataclass
class ProcessTree:
    """The live processes of one command; ``scan()`` refreshes membership and returns the summed RSS."""

    root: int
    token: str | None = None
    _known: dict[int, int] = field(default_factory=dict)  # pid -> start time
    _not_ours: set[tuple[int, int]] = field(default_factory=set)  # environ already checked

    def __post_init__(self) -> None:
        stats = _read_stats()
        if self.root in stats:
            self._known[self.root] = stats[self.root].start

    def scan(self) -> tuple[list[int], int]:
        """Return (live member pids, summed RSS in bytes). Zombies are not counted as live."""
        stats = _read_stats()
        members = {pid for pid, start in self._known.items() if pid in stats and stats[pid].start == start}
        if self.token is not None:
            needle = self.token.encode()
            me = os.getpid()
            for pid, st in stats.items():
                key = (pid, st.start)
                if pid in members or pid == me or key in self._not_ours:
                    continue
                if _has_token(pid, needle):
                    members.add(pid)
                else:
                    self._not_ours.add(key)
        children: dict[int, list[int]] = {}
        for pid, st in stats.items():
            children.setdefault(st.ppid, []).append(pid)
        todo = list(members)
        while todo:  # add descendants
            for child in children.get(todo.pop(), ()):
                if child not in members:
                    members.add(child)
                    todo.append(child)
        members.discard(os.getpid())  # never ourselves, whatever happens
        self._known = {pid: stats[pid].start for pid in members}
        live = [pid for pid in members if not stats[pid].zombie]
        return live, sum(stats[pid].rss_pages for pid in live) * PAGE_SIZE

    def kill(self, *, attempts: int = 50) -> None:
        """SIGKILL every member, rescanning until none is left alive (a process may fork meanwhile)."""
        if self.root in self._known:  # not reaped yet, so its pid is still its process group id
            try:
                os.killpg(self.root, signal.SIGKILL)  # the command runs in its own process group
            except OSError:
                pass
        for _ in range(attempts):
            live, _ = self.scan()
            if not live:
                return
            for pid in live:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)
