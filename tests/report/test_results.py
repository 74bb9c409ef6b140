"""What a colleague gets from a run: best/ rebuilt in a fresh virtual environment from best/requirements.txt
alone gives the run's predictions, and every file of the run is readable by the group."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

from omicsagent.agent.journal import RunJournal
from omicsagent.testing import tool_unusable

pytestmark = pytest.mark.slow  # the runs come from the real CLI (made once per session)

NETWORK_TROUBLE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable",
                   "Max retries exceeded", "ConnectTimeoutError", "ReadTimeoutError", "No route to host")


def _pins(requirements: str) -> dict[str, str]:
    lines = [ln.split("#")[0].strip() for ln in requirements.splitlines()]
    return dict(ln.split("==", 1) for ln in lines if ln and not ln.startswith("-"))


def _run(cmd: list[str], *, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    # a colleague's shell: no PYTHONPATH or virtual environment of ours leaks in
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def test_best_requirements_list_what_the_scripts_import(real_run: Callable[[str], Path]) -> None:
    lgbm = real_run("interaction")
    assert RunJournal.load(lgbm).best_iteration.model == "lgbm"
    text = (lgbm / "best" / "requirements.txt").read_text()
    pins = _pins(text)
    assert set(pins) == {"omicsagent", "joblib", "lightgbm", "numpy", "pandas", "scipy"}
    for name, version in pins.items():  # the versions the model was made with (all on the package index)
        if name != "omicsagent":
            assert version == metadata.version(name)
    assert "--find-links wheels" in text.splitlines()
    wheels = list((lgbm / "best" / "wheels").iterdir())
    assert [w.name for w in wheels] == [f"omicsagent-{pins['omicsagent']}-py3-none-any.whl"]
    # built once per run although best/ was promoted twice, then reused
    assert len(list((lgbm / ".harness" / "wheels").glob("*/*.whl"))) == 1

    linear = real_run("motif")
    assert RunJournal.load(linear).best_iteration.model == "linear"
    assert set(_pins((linear / "best" / "requirements.txt").read_text())) == {
        "omicsagent", "joblib", "scikit-learn", "numpy", "pandas", "scipy"}


def test_a_fresh_venv_from_best_requirements_reproduces_the_run(run_copy: Callable[..., Path], tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    run = run_copy("interaction")
    journal = RunJournal.load(run)
    venv = tmp_path / "colleague"
    start = time.monotonic()
    made = _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    pip = _run([python, "-m", "pip", "install", "-q", "-r", "best/requirements.txt"], cwd=run)
    took = time.monotonic() - start
    if pip.returncode != 0:
        output = pip.stdout + pip.stderr
        if any(marker in output for marker in NETWORK_TROUBLE):
            tool_unusable(f"the package index is unreachable, so best/requirements.txt cannot be installed: "
                          f"{output.strip().splitlines()[-1]}")
        pytest.fail(f"pip install -r best/requirements.txt failed:\n{output[-3000:]}")
    with capsys.disabled():
        print(f"\n[measured] python -m venv + pip install -r best/requirements.txt: {took:.1f} s")
    installed = _run([python, "-m", "pip", "list", "--format=freeze"], cwd=tmp_path).stdout.lower()
    for absent in ("typer", "rich", "pydantic", "openai", "pytest", "torch", "scikit-learn"):
        assert f"\n{absent}==" not in "\n" + installed, (
            f"{absent} was installed but the model does not need it"
        )

    # a colleague predicts from another folder, with relative paths
    test = pd.read_csv(Path(journal.task.test_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    test.drop(columns=[journal.task.target]).to_csv(elsewhere / "new.csv", index=False)
    best = os.path.relpath(run / "best", elsewhere)
    res = _run([python, f"{best}/inference.py", "--input", "new.csv", "--output", "fresh.csv"], cwd=elsewhere)
    assert res.returncode == 0, res.stderr[-3000:]
    fresh = pd.read_csv(elsewhere / "fresh.csv")

    # ... and gets what the run gives: `omicsagent predict` (sandboxed, our environment) and the test metric
    ref = subprocess.run(
        [
            sys.executable,
            "-m",
            "omicsagent",
            "predict",
            os.path.relpath(run, elsewhere),
            "--input",
            "new.csv",
            "--output",
            "ref.csv",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ref.returncode == 0, ref.stderr[-3000:]
    pd.testing.assert_frame_equal(fresh, pd.read_csv(elsewhere / "ref.csv"))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(test[journal.task.target], fresh["probability_1"]) == pytest.approx(
        journal.test_metrics["auroc"], abs=1e-12)

    # retraining with best/train.py in that environment gives the same model
    # (the rows best/ was fitted on: the training split, or every labelled row after a small-data refit)
    refit = journal.refit is not None and journal.refit.status == "done"
    assert not (refit and journal.task.validation_path)  # this fixture's tasks have no validation file
    fitted_on = Path(journal.task.train_path) if refit else run / journal.split.train_path
    split_train = os.path.relpath(fitted_on, elsewhere)
    res = _run([python, f"{best}/train.py", "--train", split_train, "--out", "retrained", "--seed",
                str(journal.settings.seed)], cwd=elsewhere)
    assert res.returncode == 0, res.stderr[-3000:]
    res = _run([python, f"{best}/inference.py", "--model", "retrained", "--input", "new.csv", "--output",
                "again.csv"], cwd=elsewhere)
    assert res.returncode == 0, res.stderr[-3000:]
    pd.testing.assert_frame_equal(pd.read_csv(elsewhere / "again.csv"), fresh)


def test_every_file_of_a_run_is_readable_by_the_group(real_run: Callable[[str], Path]) -> None:
    run = real_run("interaction")  # written by the CLI under the usual umask 022
    checked = 0
    for path in [run, *run.rglob("*")]:
        rel = path.relative_to(run)
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir():
            assert mode == 0o755, f"{rel}/ has mode {mode:o}"
        elif rel.parts[:2] == ("workspace", "inputs"):
            assert mode in (0o444, 0o644), f"{rel} has mode {mode:o}"  # copies of the inputs are read-only
        else:
            assert mode == 0o644, f"{rel} has mode {mode:o}"
        checked += 1
    for must in ("best", "best/model/model.joblib", "best/requirements.txt", "best/wheels", "journal.json",
                 "report.html", "report.md"):
        assert (run / must).exists()
    assert checked > 30
