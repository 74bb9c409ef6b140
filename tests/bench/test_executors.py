"""The process and Ray executors give the serial executor's results; Ray runs each job as a Ray task on a real
local Ray instance (one per module: Ray takes seconds to start)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from omicsagent.bench.agents import parse_agents
from omicsagent.bench.agents.run import RunOptions
from omicsagent.bench.suite import load_suite, resolve_suite
from omicsagent.bench.sweep import Sweep, run_sweep
from omicsagent.testing import make_motif_task, make_tabular_task

from .conftest import cli

ray = pytest.importorskip("ray", reason="the Ray extra is not installed; `make venv` installs it")
# the tests share the module's serial sweep (a module fixture, made by each worker that runs one of them):
# under pytest-xdist they go to one worker, so the sweep is made once and the two Ray sweeps (two jobs at a
# time each, on a 2-core machine) run one after the other
pytestmark = pytest.mark.xdist_group("ray")

SUITE = """
[suite]
name = "exec"
time_limit = "2m"

[[tasks]]
path = "motif"
domain = "sequences"

[[tasks]]
path = "tab"
domain = "phenotypes"
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exec")
    make_motif_task(root / "data" / "motif", n=240, n_test=80, length=40)
    make_tabular_task(root / "data" / "tab", n=200, n_test=60)
    (root / "exec.toml").write_text(SUITE)
    return root


def _sweep(root: Path, executor: str) -> dict[str, dict]:
    suite = load_suite(root / "exec.toml")
    out = root / executor
    tasks = resolve_suite(suite, data_root=root / "data", work=out / "tasks")
    sweep = Sweep(suite=suite.name, tasks=tasks, agents=parse_agents(["baseline:floor"], {}), seeds=[0],
                  results_root=out, options=RunOptions(memory_mb=2048))
    counts = run_sweep(sweep, executor=executor, workers=2)
    assert counts == {"jobs": 2, "skipped": 0, "succeeded": 2, "failed": 0}
    return {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}


def _scores(results: dict[str, dict]) -> dict[str, tuple]:
    return {k: (r["status"], r["raw_score"], r["score"]) for k, r in results.items()}


@pytest.fixture(scope="module")
def serial(root: Path) -> dict[str, dict]:
    return _sweep(root, "serial")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_serial_runs_in_this_process(serial) -> None:
    assert {r["worker_pid"] for r in serial.values()} == {os.getpid()}
    assert len(serial) == 2 and all(0 < r["score"] <= 1 for r in serial.values())


@pytest.mark.slow
def test_process_executor_matches_serial(root: Path, serial) -> None:
    got = _sweep(root, "process")
    assert os.getpid() not in {r["worker_pid"] for r in got.values()}
    assert _scores(got) == _scores(serial)


@pytest.mark.slow
def test_ray_executor_matches_serial(root: Path, serial, local_ray) -> None:
    got = _sweep(root, "ray")
    assert os.getpid() not in {r["worker_pid"] for r in got.values()}  # ran in Ray workers
    assert _scores(got) == _scores(serial)
    assert ray.is_initialized()  # the executor used the running instance and left it running


@pytest.mark.slow
def test_ray_front_door_starts_a_local_instance(root: Path, serial) -> None:
    res = cli("bench", "run", "exec.toml", "--data", "data", "--agents", "baseline:floor",
              "--executor", "ray", "--workers", "2", "--memory-per-job", "2G", "--out", "ray-cli", cwd=root)
    assert res.returncode == 0, res.stderr
    got = {p.stem: json.loads(p.read_text()) for p in (root / "ray-cli" / "results").glob("*.json")}
    assert _scores(got) == _scores(serial)
    res = cli(
        "bench",
        "run",
        "exec.toml",
        "--data",
        "data",
        "--agents",
        "baseline:floor",
        "--executor",
        "ray",
        "--memory-per-job",
        "100000G",
        "--out",
        "ray-too-big",
        cwd=root,
    )
    assert res.returncode == 2 and "no Ray node offers" in res.stderr, res.stderr
    assert not (root / "ray-too-big").exists()  # refused before anything was written
