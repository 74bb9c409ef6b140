"""Through the real CLI and sandbox: the character n-gram floor is promoted to best/ when it wins, and a run
with iterations to spare keeps improving after the plan until the budget or the plateau rule stops it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omicsagent.brains.expert import recipes
from omicsagent.tasks import load_task
from omicsagent.testing import make_tabular_task, make_text_task

pytestmark = pytest.mark.slow
EXE = [sys.executable, "-m", "omicsagent"]


def run_in(cwd: Path, *args: str) -> tuple[dict, Path]:
    res = subprocess.run(
        [*EXE, "run", *args, "--quiet"], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert res.returncode == 0, res.stderr[-3000:]
    (run_dir,) = (cwd / "runs").iterdir()
    return json.loads((run_dir / "journal.json").read_text()), run_dir


def test_the_floor_wins_on_a_text_task_and_is_promoted_to_best(tmp_path):
    make_text_task(tmp_path / "data", n=300, n_test=100)
    # the plan (floor, linear, LightGBM, ensemble) and one refinement of the best: no need to wait out the
    # minute after that
    # on the single validation split (--cv-below 0): the checks below compare validation scores, and the
    # five fold models per iteration k-fold selection would add are not what this test is about
    journal, run_dir = run_in(tmp_path, "data", "--iterations", "5", "--time-budget", "60s",
                              "--cv-below", "0")
    ok = [it for it in journal["iterations"] if it["status"] == "succeeded"]
    assert ok
    auroc = {it["index"]: it["validation_metrics"]["auroc"] for it in ok}
    floor = [it for it in ok if it["summary"].startswith(recipes.FLOOR)]
    assert floor, [it["summary"] for it in ok]  # planned early, so it runs even in a short budget
    # it beats every other single model that does not read the text's n-grams
    singles = [it for it in ok if not it["summary"].startswith("blend") and "+bagged" not in it["summary"]
               and recipes.WITH_STRINGS not in it["summary"]]
    assert max(singles, key=lambda it: auroc[it["index"]]) in floor
    best = max(ok, key=lambda it: auroc[it["index"]])
    assert auroc[best["index"]] > 0.8  # the word in the text carries the label
    # best/ reads the n-grams: the floor alone or inside a blend built on it, or the trees given them too
    assert recipes.FLOOR in best["summary"] or recipes.WITH_STRINGS in best["summary"]
    assert json.loads((run_dir / "best" / "metrics.json").read_text())["iteration"] == best["index"]
    assert "char_ngram" in (run_dir / "best" / "train.py").read_text()
    assert journal["test_metrics"]["auroc"] > 0.75


def test_with_iterations_to_spare_the_run_keeps_improving_and_says_why_it_stopped(tmp_path):
    data = make_tabular_task(tmp_path / "data", n=200, n_test=50)
    task = load_task(data)
    n_plan = len(recipes.plan(recipes.profile_of(task, task.table("train"), time_budget_s=240)))
    # single split (--cv-below 0): the point is the search going on past the plan, which k-fold selection's
    # five fold models per iteration would only slow down
    journal, run_dir = run_in(tmp_path, "data", "--time-budget", "4m", "--iterations", "15",
                              "--cv-below", "0")
    assert len(journal["iterations"]) > n_plan  # it went on past the recipe list
    beyond = journal["iterations"][n_plan:]
    assert any(it["status"] == "succeeded" for it in beyond)
    reason = journal["status_reason"]
    assert "plateau" in reason or "time" in reason, reason
    assert reason in (run_dir / "report.md").read_text()
