"""How cohorts and problems are run: one after another, or in a pool of processes.

An executor takes a top-level function and a list of items and calls ``on_done(item, result)`` in the
calling process as each item finishes (so the PI records finished work immediately). Progress events
of the workers come back through a queue. A Ray executor can be added behind the same interface.
An exception in a worker (our bug, or a user error such as a rejected API key) stops the run.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

Emit = Callable[..., None]


class Executor(Protocol):
    name: str

    def run(self, fn: Callable[[Any, Emit], Any], items: list[Any], on_done: Callable[[Any, Any], None],
            emit: Emit) -> None: ...


class SerialExecutor:
    name = "serial"

    def run(self, fn, items, on_done, emit) -> None:
        for item in items:
            on_done(item, fn(item, emit))


class _QueueEmit:
    """Picklable: sends events from a worker to the parent."""

    def __init__(self, q) -> None:
        self.q = q

    def __call__(self, kind: str, **data: Any) -> None:
        self.q.put((kind, data))


def _call(fn, item, q):
    return fn(item, _QueueEmit(q))


class ProcessExecutor:
    """``jobs`` worker processes (spawned, so no state leaks from the parent's threads)."""

    name = "processes"

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, int(jobs))

    def run(self, fn, items, on_done, emit) -> None:
        if not items:
            return
        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager:
            q = manager.Queue()
            stop = threading.Event()

            def drain() -> None:
                while not stop.is_set() or not q.empty():
                    try:
                        kind, data = q.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    except (EOFError, OSError):
                        return
                    emit(kind, **data)

            reader = threading.Thread(target=drain, name="team-progress", daemon=True)
            reader.start()
            try:
                with ProcessPoolExecutor(max_workers=min(self.jobs, len(items)), mp_context=ctx) as pool:
                    futures = {pool.submit(_call, fn, item, q): item for item in items}
                    pending = set(futures)
                    while pending:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for fut in done:
                            err = fut.exception()
                            if err is not None:
                                for p in pending:
                                    p.cancel()
                                raise err
                            on_done(futures[fut], fut.result())
            finally:
                stop.set()
                reader.join(timeout=5)


def make_executor(jobs: int) -> Executor:
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)
