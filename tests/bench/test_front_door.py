"""The benchmark as a user types it, from another working directory with relative paths: prepare two tasks,
run the floor on both over two seeds and one short expert job, then the leaderboard."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from .conftest import cli

SUITE = """
[suite]
name = "mini"

[[tasks]]
path = "motif"
domain = "sequences"

[[tasks]]
path = "tab"
domain = "phenotypes"
"""


def _no_test_labels_under(folder: Path, answers: pd.DataFrame, test_inputs: pd.DataFrame, target: str) -> int:
    """Check every table under ``folder``: none pairs a test row (by id or by sequence) with the target."""
    assert not list(folder.rglob("answers.csv"))
    checked = 0
    for path in folder.rglob("*.csv"):
        df = pd.read_csv(path)
        checked += 1
        if target not in df.columns:
            continue
        if "id" in df.columns:
            assert not set(df["id"].astype(str)) & set(answers["id"].astype(str)), f"{path} holds test labels"
        if "sequence" in df.columns:
            assert not set(df["sequence"]) & set(test_inputs["sequence"]), f"{path} holds test labels"
    return checked


@pytest.mark.slow
def test_prepare_run_and_leaderboard_from_another_directory(tmp_path: Path, motif_dataset: Path,
                                                            tabular_dataset: Path) -> None:
    for name in ("motif", "tab"):
        res = cli("bench", "prepare", f"data/{name}", "--out", f"tasks/{name}", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    (tmp_path / "mini.toml").write_text(SUITE)

    res = cli("bench", "run", "mini.toml", "--data", "tasks", "--agents", "baseline:floor", "--seeds", "2",
              "--out", "results", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "4 jobs: 0 already finished (skipped), 4 to run" in res.stderr and "[4/4]" in res.stderr

    res = cli("bench", "run", "mini.toml", "--data", "tasks", "--agents", "expert", "--tasks", "motif",
              "--time-limit", "120s", "--iterations", "1", "--out", "results", cwd=tmp_path, timeout=400)
    assert res.returncode == 0, res.stderr
    expert = json.loads((tmp_path / "results" / "results" / "expert__motif__seed0.json").read_text())
    assert expert["success"], expert["reason"]
    assert expert["raw_score"] > 0.7 and expert["wall_s"] < 120 + 30 and expert["cpu_s"] > 0
    assert expert["llm"]["input_tokens"] == 0 and expert["cost_usd"] == 0.0
    for kind in ("journal", "solution", "report"):
        assert all((tmp_path / "results" / p).is_file() for p in expert["artifacts"][kind]), kind
    job = tmp_path / "results" / "jobs" / "expert__motif__seed0"
    journal = json.loads((job / "run" / "journal.json").read_text())
    assert journal["task"]["test_path"] is None and journal["task"]["target"] == "label"
    assert journal["settings"]["iterations"] == 1  # the cap reached the loop
    assert journal["settings"]["reproducible"] is True  # fits and decisions never read the clock
    answers = pd.read_csv(tmp_path / "tasks" / "motif" / "private" / "answers.csv")
    test_inputs = pd.read_csv(tmp_path / "tasks" / "motif" / "public" / "test.csv")
    assert (
        _no_test_labels_under(job, answers, test_inputs, "label") >= 3
    )  # the run's tables were all looked at

    res = cli("bench", "leaderboard", "results", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "| 1 | expert |" in res.stdout or "| 2 | expert |" in res.stdout
    assert "| motif | sequences | auroc | baseline:floor |" in res.stdout
    assert "| tab | phenotypes | rmse | baseline:floor |" in res.stdout
    res = cli("bench", "leaderboard", "results", "--format", "html", "--out", "board.html", cwd=tmp_path)
    assert res.returncode == 0 and (tmp_path / "board.html").read_text().startswith("<!DOCTYPE html>")
