"""The commands a new user types, through the real CLI in a subprocess, from another working directory, with
relative paths: `run .` with the default --out, a relative --out, an --out given as a quoted "~/..." through a
symlink, relative `predict` and `resume` (and its refusal when the budget is spent), `demo`, kill -9 then
`runs` (stale) and `resume`, two processes on one run, and Ctrl-C.

Every run here used to fail each iteration with "... is not in the subpath of ..." and exit 0 (issue 9).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from omicsagent.testing import make_motif_task

pytestmark = pytest.mark.slow
EXE = [sys.executable, "-m", "omicsagent"]
QUICK = ("--iterations", "1", "--time-budget", "60s", "--quiet")
# Tests whose point is not model selection run on the single validation split: these tiny tasks are below
# the k-fold threshold, where every iteration would also train five fold models. The first test keeps the
# defaults (k-fold selection and the refit included), as a user types it.
ONE_SPLIT = ("--cv-below", "0")


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*EXE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


def _as_a_shell_starts_it() -> None:
    """A command typed in a shell starts with SIGINT and SIGTERM delivered and handled by default; the test
    worker's own signal state (a library may have blocked or ignored them there) must not leak into a run."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start(*args: str, cwd: Path) -> subprocess.Popen:
    """A run in the background; its stderr goes to cwd/stderr.txt (a pipe nobody reads could fill up)."""
    with open(cwd / "stderr.txt", "w") as err:
        return subprocess.Popen([*EXE, *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True, preexec_fn=_as_a_shell_starts_it)


def signal_masks(pid: int | str) -> dict[str, str]:
    """The blocked and ignored signal masks of a process (/proc/PID/status), as hex strings."""
    status = Path(f"/proc/{pid}/status").read_text()
    return dict(re.findall(r"^(Sig(?:Blk|Ign)):\s*([0-9a-f]+)$", status, re.M))


def assert_takes_sigint(pid: int) -> None:
    """The run neither blocks nor ignores SIGINT, or a Ctrl-C test could only wait for it to finish."""
    masks = signal_masks(pid)
    sigint = 1 << (signal.SIGINT - 1)
    assert len(masks) == 2 and not any(int(m, 16) & sigint for m in masks.values()), (
        f"run {masks}; test worker {signal_masks('self')}")


def journal(run: Path) -> dict:
    return json.loads((run / "journal.json").read_text())


def interrupted(proc: subprocess.Popen, run: Path, cwd: Path) -> dict:
    """The run's journal, after checking the process ended like an interrupt: exit 130, no traceback, the
    journal `interrupted` with the resume command."""
    stderr = (cwd / "stderr.txt").read_text()
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "interrupted" in stderr
    j = journal(run)
    assert j["status"] == "interrupted" and "resume" in j["status_reason"]
    return j


def wait_for(predicate, *, timeout: float = 300, what: str = "") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except (FileNotFoundError, json.JSONDecodeError, KeyError, IndexError):
            pass  # not written yet, or written before its first iteration: look again
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def assert_good_run(run: Path, res: subprocess.CompletedProcess, *, iterations: int = 1) -> dict:
    assert res.returncode == 0, res.stderr[-3000:]
    j = journal(run)
    assert j["status"] == "finished"
    assert [it["status"] for it in j["iterations"]] == ["succeeded"] * iterations, [
        it["failure"] for it in j["iterations"]
    ]
    assert (run / "best" / "inference.py").is_file() and not (run / "best").is_symlink()
    assert (run / "report.html").exists() and j["test_metrics"]["auroc"] > 0.7
    # the journal stores relative strings only: no host path of the run folder
    assert str(run.resolve()) not in (run / "journal.json").read_text()
    assert j["iterations"][0]["dir"] == "workspace/artifacts/iter_000"
    return j


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return make_motif_task(tmp_path / "data", n=240, n_test=80, length=40)


def test_run_dot_default_out_then_relative_predict_and_resume(tmp_path, data):
    res = cli("run", ".", *QUICK, cwd=data)
    runs = sorted((data / "runs").iterdir())
    assert [p.name.rsplit("-", 2)[0] for p in runs] == ["data"], runs  # named after the real folder
    run = runs[0]
    assert_good_run(run, res)
    listed = cli("runs", "--json", cwd=data)  # default root: ./runs
    assert listed.returncode == 0 and [r["status"] for r in json.loads(listed.stdout)] == ["finished"]
    assert json.loads(cli("inspect", "./data/", "--json", cwd=tmp_path).stdout)["name"] == "data"
    rel = f"data/runs/{run.name}"
    new = tmp_path / "new.csv"
    pd.read_csv(data / "test.csv").drop(columns=["label"]).head(20).to_csv(new, index=False)
    res = cli("predict", rel, "--input", "new.csv", "--output", "preds.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert len(pd.read_csv(tmp_path / "preds.csv")) == 20
    # the budget is spent: adding iterations without new time is refused, and nothing changes
    j = journal(run)
    j["elapsed_s"] = j["settings"]["time_budget_s"]
    (run / "journal.json").write_text(json.dumps(j))
    before = (run / "journal.json").read_bytes()
    refused = cli("resume", rel, "--iterations", "1", cwd=tmp_path)
    assert refused.returncode == 2 and "--time-budget" in refused.stderr and "Traceback" not in refused.stderr
    assert (run / "journal.json").read_bytes() == before
    res = cli("resume", rel, "--iterations", "1", "--time-budget", "60s", "--quiet", cwd=tmp_path)
    j = assert_good_run(run, res, iterations=2)
    assert j["settings"]["time_budget_s"] == 120  # the spent minute plus this session's


def test_out_as_a_quoted_tilde_through_a_symlink(tmp_path, data):
    home = tmp_path / "home"
    (home / "real").mkdir(parents=True)
    (home / "link").symlink_to(home / "real")
    res = cli("run", "../data", "--out", "~/link/r", *QUICK, *ONE_SPLIT, cwd=home, env={"HOME": str(home)})
    assert not (home / "~").exists()
    assert_good_run(home / "real" / "r", res)


def test_demo_with_a_relative_out(tmp_path):
    res = cli("demo", "--out", "runs/demo", "--time-budget", "90s", "--iterations", "1", cwd=tmp_path)
    run = tmp_path / "runs" / "demo"
    assert res.returncode == 0, res.stderr[-3000:]
    assert (run / "best" / "inference.py").is_file() and (run / "report.html").exists()
    assert journal(run)["iterations"][0]["status"] == "succeeded"
    again = cli("demo", "--out", "runs/demo", cwd=tmp_path)  # refused before anything is written
    assert again.returncode == 2 and "omicsagent resume runs/demo" in again.stderr


def test_kill_9_shows_stale_then_relative_resume_finishes(tmp_path, data):
    run = tmp_path / "runs" / "r"
    proc = start(
        "run", "data", "--out", "runs/r", "--iterations", "2", "--time-budget", "5m", "--quiet", *ONE_SPLIT,
        cwd=tmp_path,
    )
    first: dict = {}

    def one_done_and_next_started() -> bool:
        its = journal(run)["iterations"]
        done = [it for it in its if it["status"] != "running"]
        if done and len(its) > len(done):
            first.update(done[0])
            return True
        return False

    try:
        wait_for(one_done_and_next_started, what="one finished iteration")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert journal(run)["status"] == "running"
    listed = cli("runs", "--json", cwd=tmp_path)
    assert [r["status"] for r in json.loads(listed.stdout)] == ["stale"]
    res = cli("resume", "runs/r", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    j = journal(run)
    assert j["status"] == "finished" and [it["index"] for it in j["iterations"]] == [0, 1]
    assert j["iterations"][0]["started_at"] == first["started_at"]  # not redone
    assert (run / "best" / "inference.py").exists() and j["test_metrics"]
    assert [r["status"] for r in json.loads(cli("runs", "--json", cwd=tmp_path).stdout)] == ["finished"]


def test_a_second_process_is_refused_and_ctrl_c_keeps_the_best(tmp_path, data):
    """While a run works, another process on its folder is refused; then Ctrl-C keeps the best model, scores
    the hidden test once with it and writes the report."""
    run = tmp_path / "r"
    # room for the three refused commands below before Ctrl-C: with a cap of 6 iterations (6 s each) a loaded
    # CI worker once saw the run finish first; uncapped, it plateaus after about 16 iterations (2.3 minutes)
    proc = start("run", "data", "--out", "r", "--iterations", "30", "--time-budget", "5m", *ONE_SPLIT,
                 cwd=tmp_path)

    def best_and_next_started() -> bool:
        its = journal(run)["iterations"]
        return (run / "best" / "inference.py").exists() and len(its) >= 2 and its[-1]["status"] == "running"

    try:
        wait_for(lambda: (run / "journal.json").exists(), what="the run to start")
        res = cli("resume", "r", "--iterations", "1", cwd=tmp_path)
        assert res.returncode == 2 and f"process {proc.pid} is already working on the run" in res.stderr
        assert "Traceback" not in res.stderr
        res = cli("run", "data", "--out", "r", cwd=tmp_path)
        assert res.returncode == 2 and "already holds a run" in res.stderr
        assert [r["status"] for r in json.loads(cli("runs", ".", "--json", cwd=tmp_path).stdout)] == [
            "running"
        ]
        wait_for(best_and_next_started, what="a best model and a second iteration")
        best_before = json.loads((run / "best" / "metrics.json").read_text())["iteration"]
        assert_takes_sigint(proc.pid)
        os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the process
        proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    j = interrupted(proc, run, tmp_path)
    assert j["iterations"][-1]["status"] == "failed" and "Ctrl-C" in j["iterations"][-1]["failure"]
    assert j["test_metrics"] and j["test_iteration"] == best_before  # scored once, with the kept best
    metrics = json.loads((run / "best" / "metrics.json").read_text())
    assert metrics["iteration"] == best_before and metrics["test"] == j["test_metrics"]
    assert (run / "report.html").exists() and "interrupted" in (run / "report.md").read_text()


def test_kill_sigterm_stops_a_run_like_ctrl_c(tmp_path, data):
    """`kill PID` (a scheduler's preemption, a closed session) ends a run the way Ctrl-C does: the journal
    says interrupted with the resume command, the report is written, exit code 130."""
    run = tmp_path / "r"
    proc = start("run", "data", "--out", "r", "--iterations", "4", "--time-budget", "5m", cwd=tmp_path)
    try:
        wait_for(lambda: journal(run)["iterations"][0]["status"] == "running", what="the first iteration")
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    interrupted(proc, run, tmp_path)
    assert (run / "report.html").exists()
