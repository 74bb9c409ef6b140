"""Where jobs run: ``serial`` (this process, one after another), ``process`` (a pool of local worker
processes) or ``ray`` (one Ray task per job, with its CPU and memory requirements, on a local Ray instance
started for the run or on an existing cluster via ``--ray-address``).

Every executor hands each finished record to ``on_result`` in the driver, which writes it; so results are
the same whichever executor ran them, and a kill loses only the jobs that were running.
"""
from __future__ import annotations

import os
from collections.abc import Callable

from omicsagent.bench.jobs import Job, run_job
from omicsagent.errors import ConfigError

EXECUTORS = ("serial", "process", "ray")
OnEvent = Callable[..., None]


def execute(
    jobs: list[Job],
    *,
    executor: str,
    on_start: OnEvent,
    on_result: OnEvent,
    workers: int | None = None,
    ray_address: str | None = None,
    memory_mb: int = 8192,
) -> None:
    if executor == "serial":
        for job in jobs:
            on_start(job)
            on_result(job, run_job(job))
    elif executor == "process":
        _process(jobs, on_start=on_start, on_result=on_result, workers=workers)
    elif executor == "ray":
        _ray(
            jobs,
            on_start=on_start,
            on_result=on_result,
            address=ray_address,
            workers=workers,
            memory_mb=memory_mb,
        )
    else:
        raise ConfigError(f"unknown executor {executor!r}; use {', '.join(EXECUTORS)}.")


def _process(jobs: list[Job], *, on_start: OnEvent, on_result: OnEvent, workers: int | None) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    n = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))
    pending: dict = {}
    queue = list(jobs)
    try:
        while queue or pending:
            while queue and len(pending) < n:  # submit as slots free up, so progress shows real starts
                job = queue.pop(0)
                on_start(job)
                pending[pool.submit(run_job, job)] = job
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                on_result(pending.pop(fut), fut.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _check_fits(ray, need_cpu: float, memory_mb: int) -> None:
    """Refuse requirements no node can meet (Ray would otherwise wait for them forever)."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if not any(r.get("CPU", 0) >= need_cpu and r.get("memory", 0) >= memory_mb * 1024 * 1024 for r in nodes):
        best = max(nodes, key=lambda r: r.get("memory", 0), default={})
        raise ConfigError(f"no Ray node offers {need_cpu:g} CPU and {memory_mb} MB per job (the largest has "
                          f"{best.get('CPU', 0):g} CPU, {best.get('memory', 0) / 2**20:.0f} MB); lower "
                          "--cpus-per-job or --memory-per-job.")


def ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def connect_ray(*, address: str | None, workers: int | None, cpus: float, memory_mb: int) -> bool:
    """Start a local Ray instance (or connect to ``address``) and check that a job fits on some node, so a
    sweep is refused before it writes anything. True when this call started Ray (the caller shuts it down)."""
    if not ray_available():
        raise ConfigError(
            "the ray executor needs Ray; install it with `pip install 'omicsagent[ray]'` or use "
            "--executor serial."
        )
    import ray

    if ray.is_initialized():
        return False
    kwargs = {"address": address} if address else {"num_cpus": workers or os.cpu_count() or 1}
    try:
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
    except ConnectionError as err:
        raise ConfigError(
            f"cannot connect to the Ray cluster at {address} ({err}); start it with `ray start "
            "--head` or check --ray-address."
        ) from None
    try:
        _check_fits(ray, cpus, memory_mb)
    except BaseException:
        ray.shutdown()
        raise
    return True


def _ray(jobs: list[Job], *, on_start: OnEvent, on_result: OnEvent, address: str | None, workers: int | None,
         memory_mb: int) -> None:
    cpus = max((j.cpus for j in jobs), default=1.0)
    started_here = connect_ray(address=address, workers=workers, cpus=cpus, memory_mb=memory_mb)
    import ray

    try:
        _check_fits(ray, cpus, memory_mb)
        remote = ray.remote(run_job)
        # submit as many jobs as the cluster can run at once and the next one as each finishes, so the
        # "start" progress lines are real starts (Ray still places each job on any node with room)
        total = ray.cluster_resources()
        by_memory = int(total.get("memory", 0) // (memory_mb * 2**20))
        slots = max(1, min(int(total.get("CPU", 1) // cpus), by_memory))
        pending, queue = {}, list(jobs)
        while queue or pending:
            while queue and len(pending) < slots:
                job = queue.pop(0)
                ref = remote.options(num_cpus=job.cpus, memory=int(memory_mb) * 1024 * 1024, max_retries=0,
                                     name=job.key).remote(job)
                pending[ref] = job
                on_start(job)
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                on_result(pending.pop(ref), ray.get(ref))
    finally:
        if started_here:
            ray.shutdown()
