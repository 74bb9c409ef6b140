"""Limits, output capture and env scrubbing: the same behaviour under bwrap and --sandbox none."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omicsagent.errors import ModelMistake
from omicsagent.sandbox import Limits, Sandbox, Workspace

DAEMON = """
import os, sys, time
marker, main_sleeps = sys.argv[1], float(sys.argv[2])
if os.fork() == 0:
    os.setsid()  # leave the session and process group
    if os.fork() == 0:  # double fork: reparented away from the command
        fd = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(fd, std)  # does not hold the output pipe either
        while True:
            with open(marker, "a") as fh:
                fh.write("x")
            time.sleep(0.1)
    os._exit(0)
print("main started", flush=True)
time.sleep(main_sleeps)
"""


@pytest.fixture
def marker(ws: Workspace) -> Iterator[Path]:
    """The daemon's marker file; if a test fails, kill any daemon still writing it."""
    path = ws.scratch / "marker.txt"
    yield path
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:
            pass


def _growth_after_return(marker: Path) -> int:
    before = marker.stat().st_size
    time.sleep(0.5)
    return marker.stat().st_size - before


def test_timeout_kills_detached_grandchildren(ws: Workspace, script: Callable[[str, str], str],
                                              sandbox: Sandbox, marker: Path) -> None:
    res = sandbox.run(["python", script("daemon.py", DAEMON), str(marker), "60"], workspace=ws,
                      limits=Limits(wall_seconds=1.5))
    assert res.timed_out and not res.ok and res.exit_code == 137
    assert 1.5 <= res.duration_s < 4
    assert "main started" in res.output and "wall-time" in res.status
    assert marker.stat().st_size >= 3  # the grandchild really ran
    assert _growth_after_return(marker) == 0


def test_leftover_daemons_are_killed_when_main_exits(ws: Workspace, script: Callable[[str, str], str],
                                                     sandbox: Sandbox, marker: Path) -> None:
    res = sandbox.run(["python", script("daemon.py", DAEMON), str(marker), "0.5"], workspace=ws,
                      limits=Limits(wall_seconds=20))
    assert res.ok and res.duration_s < 3, res.output
    assert marker.exists() and _growth_after_return(marker) == 0


def test_memory_hog_is_killed_at_its_limit(ws: Workspace, script: Callable[[str, str], str],
                                           sandbox: Sandbox) -> None:
    hog = script("hog.py", """
        import time
        chunks = []
        while True:
            chunks.append(b"\\x01" * (10 << 20))  # written, so really resident
            print(len(chunks) * 10, flush=True)
            time.sleep(0.01)
    """)
    res = sandbox.run(["python", hog], workspace=ws, limits=Limits(wall_seconds=20, memory_mb=200))
    assert res.memory_exceeded and not res.timed_out and not res.ok and res.exit_code == 137
    assert res.peak_memory_mb >= 200 and "memory" in res.status
    assert int(res.output.split()[-1]) < 400  # stopped near the limit, not at the wall time
    assert res.duration_s < 10


def test_memory_is_summed_over_the_process_tree(ws: Workspace, script: Callable[[str, str], str],
                                                sandbox: Sandbox) -> None:
    forker = script("forker.py", """
        import os, time
        for _ in range(3):  # three children of 100 MB each: none alone exceeds 250 MB
            if os.fork() == 0:
                block = b"\\x01" * (100 << 20)
                time.sleep(30)
                os._exit(0)
        time.sleep(30)
    """)
    res = sandbox.run(["python", forker], workspace=ws, limits=Limits(wall_seconds=15, memory_mb=250))
    assert res.memory_exceeded and res.peak_memory_mb > 250 and res.duration_s < 10


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_huge_output_keeps_head_and_tail_with_little_memory(tmp_path: Path, ws: Workspace,
                                                            script: Callable[[str, str], str],
                                                            sandbox: Sandbox) -> None:
    flood = script("flood.py", """
        import sys
        print("HEAD-MARK", flush=True)
        sys.stdout.buffer.write(b"x" * 50_000_000)
        sys.stdout.flush()
        print("\\nTAIL-MARK", file=sys.stderr)
    """)
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.005)

    baseline = _rss_bytes()
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        res = sandbox.run(["python", flood], workspace=ws, log_path=tmp_path / "logs" / "out.log",
                          limits=Limits(output_bytes=10_000, log_bytes=1_000_000))
    finally:
        stop.set()
        sampler.join()
    assert res.ok and res.truncated and res.output_bytes > 50_000_000
    assert res.output.startswith("HEAD-MARK\n") and res.output.rstrip().endswith("TAIL-MARK")
    assert "bytes omitted ...]" in res.output and len(res.output) < 10_200
    assert (peak[0] - baseline) < 10 * 1024 * 1024, f"parent grew by {(peak[0] - baseline) >> 20} MB"
    log = (tmp_path / "logs" / "out.log").read_bytes()
    assert log.startswith(b"HEAD-MARK\n") and 1_000_000 < len(log) < 1_000_200 and b"log capped" in log


def test_exit_codes_and_durations(ws: Workspace, sandbox: Sandbox) -> None:
    res = sandbox.run(["python", "-c", "import sys, time; time.sleep(0.3); print('bye'); sys.exit(3)"],
                      workspace=ws)
    assert res.exit_code == 3 and not res.ok and res.output == "bye\n" and not res.truncated
    assert 0.3 <= res.duration_s < 3 and res.status.startswith("exit code 3")
    segv = sandbox.run(["python", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],
                       workspace=ws)
    assert segv.exit_code == 128 + 11  # same convention with and without bwrap
    ok = sandbox.run(["python", "-c", "print('hi')"], workspace=ws, cwd="scratch")
    assert ok.ok and ok.output == "hi\n" and ok.argv == ("python", "-c", "print('hi')")
    assert ok.peak_memory_mb > 1


def test_missing_program_is_reported_not_raised(ws: Workspace, sandbox: Sandbox) -> None:
    res = sandbox.run(["no-such-program-xyz"], workspace=ws)
    assert not res.ok and res.exit_code != 0 and "no-such-program-xyz" in res.output


def test_secret_variables_never_reach_the_command(ws: Workspace, sandbox: Sandbox,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-parent-7f3a")
    monkeypatch.setenv("HF_TOKEN", "hf-parent-7f3a")
    monkeypatch.setenv("HARMLESS_PARENT_VAR", "1")
    passed = {"OPENAI_API_KEY": "sk-passed-7f3a", "GITHUB_TOKEN": "t", "AWS_REGION": "eu",
              "DB_PASSWORD": "p", "MY_SECRET_THING": "s", "OMP_NUM_THREADS": "1", "GOOD_VAR": "yes"}
    with caplog.at_level(logging.WARNING, logger="omicsagent.sandbox"):
        res = sandbox.run(["python", "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
                          workspace=ws, env=passed)
    seen = json.loads(res.output)
    assert "7f3a" not in res.output and "HARMLESS_PARENT_VAR" not in seen
    for name in (
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "AWS_REGION",
        "DB_PASSWORD",
        "MY_SECRET_THING",
        "HF_TOKEN",
    ):
        assert name not in seen
    assert seen["GOOD_VAR"] == "yes" and seen["OMP_NUM_THREADS"] == "1"
    assert seen["PYTHONUNBUFFERED"] == "1" and seen["HOME"] and seen["TMPDIR"]
    assert "Refusing to pass OPENAI_API_KEY" in caplog.text


def test_home_and_tmpdir_are_writable(ws: Workspace, sandbox: Sandbox) -> None:
    code = ("import os, tempfile; open(os.path.join(os.environ['HOME'], 'h'), 'w').write('1');"
            "print(tempfile.mkstemp()[1].startswith(os.environ['TMPDIR']))")
    res = sandbox.run(["python", "-c", code], workspace=ws)
    assert res.ok and res.output.strip() == "True", res.output


def test_python_means_the_running_interpreter(ws: Workspace, sandbox: Sandbox) -> None:
    res = sandbox.run(["python", "-c", "import sys, omicsagent; print(sys.executable)"], workspace=ws)
    assert res.output.strip() == sys.executable


def test_bad_arguments_raise(ws: Workspace, sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="list of strings"):
        sandbox.run("python -c 'print(1)'", workspace=ws)  # type: ignore[arg-type]
    with pytest.raises(ModelMistake):
        sandbox.run(["python", "-c", "1"], workspace=ws, cwd="..")
    with pytest.raises(ModelMistake, match="does not exist"):
        sandbox.run(["python", "-c", "1"], workspace=ws, cwd="scratch/nope")
