"""`omicsagent bench run`: one result file per (agent, task, seed), written atomically; a killed sweep
resumes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from .conftest import OMICSAGENT

SUITE = """
[suite]
name = "two-small"
time_limit = "2m"

[[tasks]]
id = "motif"
path = "motif"
domain = "sequences"

[[tasks]]
id = "tab"
path = "tab"
domain = "phenotypes"
"""


@pytest.fixture
def small_suite(tmp_path: Path, motif_dataset: Path, tabular_dataset: Path) -> Path:
    (tmp_path / "two.toml").write_text(SUITE)
    return tmp_path / "two.toml"


def _results(folder: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((folder / "results").glob("*.json"))}


@pytest.mark.slow
def test_a_killed_sweep_resumes_with_only_the_missing_jobs(tmp_path: Path, small_suite: Path) -> None:
    args = [
        *OMICSAGENT,
        "bench",
        "run",
        "two.toml",
        "--data",
        "data",
        "--agents",
        "baseline:floor",
        "--out",
        "results",
    ]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    results = tmp_path / "results" / "results"
    deadline = time.monotonic() + 300
    while not list(results.glob("*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole sweep, jobs included, half-way
    proc.communicate()
    first = _results(tmp_path / "results")
    assert len(first) == 1, f"expected one finished job at the kill, got {list(first)}"
    (key, rec), = first.items()
    mtime = (results / f"{key}.json").stat().st_mtime_ns
    assert not list(results.glob(".*.tmp"))  # never a half-written result

    res = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    assert "2 jobs: 1 already finished (skipped), 1 to run" in res.stderr and "[1/1]" in res.stderr
    final = _results(tmp_path / "results")
    assert sorted(final) == ["baseline_floor__motif__seed0", "baseline_floor__tab__seed0"]
    assert (results / f"{key}.json").stat().st_mtime_ns == mtime and final[key] == rec  # not redone
    assert all(r["success"] and 0 < r["score"] <= 1 for r in final.values())
    # and a third run has nothing left to do
    res = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0 and "2 jobs: 2 already finished (skipped), 0 to run" in res.stderr


def _running(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def _start_then_terminate(args: list[str], cwd: Path, marker: str) -> tuple[int, str, bool]:
    """Start a sweep, wait until a process showing ``marker`` runs, send SIGTERM; (exit code, stderr, whether
    the marked process had started)."""
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _running(marker) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    started = bool(_running(marker))
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err, started


@pytest.mark.slow
def test_a_terminated_sweep_stops_its_job_and_the_rerun_redoes_it(tmp_path: Path, small_suite: Path) -> None:
    """`kill PID` (SIGTERM) on a sweep ends it like Ctrl-C: the job it was running (in its own session, in the
    sandbox) is killed with it, no result is written for it, and the rerun runs it again."""
    # `ps` sees every process on the machine: a marker of this test's own (86.<9 random digits> s) is not
    # found in another run of this test (another pytest session on the machine)
    marker = f"time.sleep(86.{uuid.uuid4().int % 10**9:09d})"
    nap = f"nap=python -c 'import time; {marker}' {{public}} {{out}}"
    args = [*OMICSAGENT, "bench", "run", "two.toml", "--data", "data", "--tasks", "motif", "--agents", "nap",
            "--agent", nap, "--out", "results"]
    code, err, started = _start_then_terminate(args, tmp_path, marker)
    assert started, "the agent never started"
    assert code == 130 and "interrupted" in err and "Traceback" not in err, err[-2000:]
    time.sleep(1)
    assert _running(marker) == []  # nothing left running
    assert _results(tmp_path / "results") == {}
    _, err, started = _start_then_terminate(args, tmp_path, marker)
    assert started, "the rerun did not run the job again"
    assert "1 jobs: 0 already finished (skipped), 1 to run" in err or "1 job: 0 already" in err, err


@pytest.mark.parametrize("args,message", [
    (["two.toml", "--agents", "baseline:floor"], "pass --data ROOT"),
    (["missing.toml", "--data", "data"], "does not exist"),
    (["two.toml", "--data", "data", "--tasks", "motif,zzz"], "--tasks names zzz"),
    (["two.toml", "--data", "data", "--time-limit", "soon"], "is not a duration"),
])
def test_bad_input_is_one_sentence_exit_2_and_nothing_written(
    tmp_path: Path, small_suite: Path, args, message
) -> None:
    from .conftest import cli

    res = cli("bench", "run", *args, "--out", "results", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in res.stderr
    assert not (tmp_path / "results").exists()
