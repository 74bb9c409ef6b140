"""`omicsagent run --reproducible`: the expert's decisions and fits never read the clock, so the same data,
seed and --iterations give the same models whatever the machine's load (what `bench run --iterations` relies
on to give the same leaderboard serially and on Ray)."""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from omicsagent.brains.expert import brain as expert_brain
from omicsagent.testing import make_motif_task

EXE = [sys.executable, "-m", "omicsagent"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*EXE, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def models(run: Path) -> list[tuple]:
    j = json.loads((run / "journal.json").read_text())
    return [(it["representation"], it["model"], it["parent"], it["validation_metrics"])
            for it in j["iterations"]]


def _busy(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


@pytest.mark.slow
def test_the_same_models_on_a_quiet_and_on_a_loaded_machine(tmp_path):
    make_motif_task(tmp_path / "data", n=200, n_test=40, length=40)
    args = ("run", "data", "-n", "2", "--reproducible", "--cv-below", "0", "--time-budget", "5m", "--quiet")
    quiet = cli(*args, "--out", "quiet", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    j = json.loads((tmp_path / "quiet" / "journal.json").read_text())
    assert j["settings"]["reproducible"] is True and len(j["iterations"]) == 2
    # every fit ran without a time limit: train.py (the best model's, as a colleague reruns it) defaults to 0
    train = (tmp_path / "quiet" / "best" / "train.py").read_text()
    assert re.search(r'"--time-limit", type=float, default=0\b', train), train[:1500]

    # the same command while two busy threads and a busy process load the 2-core machine
    stop = threading.Event()
    hog = subprocess.Popen([sys.executable, "-c", "while True: sum(i * i for i in range(10_000))"])
    threads = [threading.Thread(target=_busy, args=(stop,), daemon=True) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        loaded = cli(*args, "--out", "loaded", cwd=tmp_path)
    finally:
        stop.set()
        hog.kill()
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert models(tmp_path / "loaded") == models(tmp_path / "quiet")


def test_the_policy_plans_without_the_clock_only_in_a_reproducible_run():
    def ctx(reproducible: bool):
        settings = SimpleNamespace(reproducible=reproducible)
        return SimpleNamespace(journal=SimpleNamespace(settings=settings), time_left=lambda: 3.0)

    assert expert_brain._time_left(ctx(False)) == 3.0
    assert expert_brain._time_left(ctx(True)) == math.inf


def test_the_llm_brain_refuses_reproducible(tmp_path):
    make_motif_task(tmp_path / "data", n=60, n_test=0, length=20)
    res = cli("run", "data", "--brain", "llm", "--model", "openai:gpt-4.1", "--reproducible", "--out", "r",
              cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "--reproducible applies to the expert brain" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "r").exists()
