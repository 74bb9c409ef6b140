"""Tests that need bubblewrap or Chromium skip where the tool is unusable, but fail under CI=true: CI can
never go green without having tested isolation (or the report in a real browser)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# one test behind each guard: the sandbox fixtures, the LLM-brain fixtures, the real runs of the report tests,
# and the browser
NODES = ["tests/sandbox/test_sandbox_isolation.py::test_tmp_is_private_per_run",
         "tests/llm/test_e2e_http.py::test_a_dead_server_fails_iterations_but_not_the_run",
         "tests/report/test_report.py::test_metrics_json_is_not_required",
         "tests/report/test_browser.py::test_report_renders_offline_in_chromium"]


def _pytest_without_tools(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    bare = tmp_path / "bin"  # a PATH on which neither bwrap nor chromium is found
    bare.mkdir(exist_ok=True)
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *NODES],
                          cwd=ROOT, env={**clean, "PATH": str(bare), **env}, capture_output=True, text=True,
                          timeout=300, check=False)


def test_missing_tools_skip_locally(tmp_path: Path) -> None:
    res = _pytest_without_tools(tmp_path)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "4 skipped" in res.stdout
    assert "bubblewrap (bwrap) is not installed" in res.stdout and "chromium is not installed" in res.stdout


def test_missing_tools_fail_under_ci(tmp_path: Path) -> None:
    res = _pytest_without_tools(tmp_path, CI="true")
    assert res.returncode == 1, res.stdout[-3000:]
    assert "4 errors" in res.stdout and "skipped" not in res.stdout
    assert res.stdout.count("CI=true, so this fails instead of skipping") >= 4
