"""Grading on the submission file only: validation first, a task's own grade.py in a separate process, and
normalisation to 0..1 with worked examples for every metric family (docs/bench.md has the same table)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.bench.grading import grade_submission
from omicsagent.bench.normalise import constant_baseline_error, default_normaliser, normalise
from omicsagent.bench.prepare import prepare_dataset
from omicsagent.ml.metrics import get_metric

from .conftest import cli, regression_frame, write_submission

# (metric, raw score, baseline error or None, normalised): the worked examples of docs/bench.md
WORKED = [
    ("auroc", 0.83, None, 0.83),
    ("auprc", 0.41, None, 0.41),
    ("accuracy", 0.9, None, 0.9),
    ("macro_f1", 0.62, None, 0.62),
    ("r2", 0.4, None, 0.4),
    ("r2", -0.3, None, 0.0),
    ("pearson", 0.6, None, 0.8),
    ("spearman", -0.2, None, 0.4),
    ("mcc", 0.0, None, 0.5),
    ("mcc", 1.0, None, 1.0),
    ("rmse", 0.5, 2.0, 0.75),
    ("rmse", 0.5, 0.5, 0.0),
    ("rmse", 0.5, 0.625, 0.2),
    ("rmse", 3.0, 2.0, 0.0),
    ("mae", 0.3, 1.2, 0.75),
    ("log_loss", 0.3465, 0.693, 0.5),
]


@pytest.mark.parametrize("metric,raw,baseline,expected", WORKED)
def test_worked_examples_of_every_metric_family(metric, raw, baseline, expected) -> None:
    assert normalise(raw, default_normaliser(metric), baseline_error=baseline) == pytest.approx(
        expected, abs=1e-3
    )


def test_undefined_scores_normalise_to_zero() -> None:
    assert normalise(None, "bounded") == 0.0 and normalise(float("nan"), "signed") == 0.0


def test_constant_baselines_come_from_the_training_labels() -> None:
    y_train, y_test = np.array([0.0, 2.0, 4.0, 10.0]), np.array([1.0, 3.0])
    assert constant_baseline_error("rmse", "regression", y_train, y_test) == pytest.approx(
        np.sqrt((3**2 + 1**2) / 2)
    )
    assert constant_baseline_error("mae", "regression", y_train, y_test) == pytest.approx(1.0)  # median 3
    ll = constant_baseline_error("log_loss", "binary", ["a", "a", "a", "b"], ["a", "b"], ["a", "b"])
    assert ll == pytest.approx(-(np.log(0.75) + np.log(0.25)) / 2)


def _regression_task(tmp_path: Path, scale: float):
    data = tmp_path / f"reg{scale:g}"
    data.mkdir()
    regression_frame(200, scale=scale, seed=1).to_csv(data / "train.csv", index=False)
    regression_frame(50, scale=scale, seed=2).to_csv(data / "test.csv", index=False)
    return prepare_dataset(data, tmp_path / f"task{scale:g}")


def _noisy(answers: pd.DataFrame, rmse: float) -> pd.DataFrame:
    noise = np.random.default_rng(0).normal(size=len(answers))
    noise = rmse * noise / np.sqrt(np.mean(noise**2))  # RMSE exactly ``rmse``
    return pd.DataFrame({"id": answers["id"], "prediction": answers["y"] + noise})


def test_an_rmse_of_half_does_not_map_to_half_whatever_the_scale(tmp_path: Path) -> None:
    """The reference normaliser maps RMSE 0.5 to 0.5 on any scale; ours measures the error removed."""
    small, large = _regression_task(tmp_path, 1.0), _regression_task(tmp_path, 100.0)
    assert large.baseline_error == pytest.approx(100 * small.baseline_error)
    graded = {}
    for name, task, rmse in (
        ("small", small, 0.5),
        ("large_same_quality", large, 50.0),
        ("large", large, 0.5),
    ):
        g = grade_submission(
            task, write_submission(tmp_path / f"{name}.csv", _noisy(pd.read_csv(task.answers), rmse))
        )
        assert g.valid and g.raw == pytest.approx(rmse)
        assert g.score == pytest.approx(1 - rmse / task.baseline_error)
        graded[name] = g.score
    assert graded["small"] == pytest.approx(
        graded["large_same_quality"]
    )  # same quality, same score, any units
    assert abs(graded["small"] - 0.5) > 0.1  # RMSE 0.5 is not 0.5 ...
    assert graded["large"] > 0.99  # ... and on a target 100x wider it is a near-perfect model


def _good(task) -> pd.DataFrame:
    answers = pd.read_csv(task.answers)
    p1 = np.where(answers["label"] == 1, 0.8, 0.2)
    return pd.DataFrame({"id": answers["id"], "prediction": answers["label"], "probability_0": 1 - p1,
                         "probability_1": p1})


def test_a_valid_submission_is_scored_in_any_row_order(tmp_path: Path, motif_task) -> None:
    sub = _good(motif_task).sample(frac=1.0, random_state=3)
    g = grade_submission(motif_task, write_submission(tmp_path / "s.csv", sub))
    assert g.valid and g.raw == pytest.approx(1.0) and g.score == pytest.approx(1.0)
    # flipping the scores gives AUROC 0, not an error
    flipped = sub.assign(probability_1=1 - sub["probability_1"], probability_0=sub["probability_1"])
    g = grade_submission(motif_task, write_submission(tmp_path / "f.csv", flipped))
    assert g.valid and g.raw == pytest.approx(0.0)


INVALID = {
    "missing_column": (lambda s: s.drop(columns=["probability_1"]), "lacks the column(s) 'probability_1'"),
    "too_few_rows": (lambda s: s.iloc[:-1], "rows; the test set has"),
    "duplicate_id": (lambda s: s.assign(id=[s["id"].iloc[0]] * 2 + list(s["id"].iloc[2:])), "more than once"),
    "unknown_id": (lambda s: s.assign(id=["zz"] + list(s["id"].iloc[1:])), "not test ids"),
    "nan": (
        lambda s: s.assign(probability_1=[np.nan] + list(s["probability_1"].iloc[1:])),
        "missing values (NaN)",
    ),
    "proba_range": (lambda s: s.assign(probability_1=s["probability_1"] * 3), "between 0 and 1"),
    "not_a_class": (lambda s: s.assign(prediction="maybe"), "not a class"),
    "empty": (lambda s: s.iloc[0:0], "no data rows"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_submission_scores_zero_with_the_reason(tmp_path: Path, motif_task, case: str) -> None:
    edit, reason = INVALID[case]
    g = grade_submission(motif_task, write_submission(tmp_path / "s.csv", edit(_good(motif_task))))
    assert not g.valid and g.score == 0.0 and g.raw is None
    assert reason in g.reason


def test_a_submission_that_is_a_link_or_absent_is_invalid(tmp_path: Path, motif_task) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(motif_task.answers)
    g = grade_submission(motif_task, link)
    assert not g.valid and "link" in g.reason
    g = grade_submission(motif_task, tmp_path / "none.csv")
    assert not g.valid and "no none.csv was written" in g.reason


GRADE_PY = '''
import os
import pandas as pd

def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    with open(os.environ["GRADER_PID_FILE"], "w") as fh:
        fh.write(str(os.getpid()))
    if list(submission["id"]) != list(answers["id"]):
        raise ValueError("ids out of order")
    if (submission["prediction"] == "crash").any():
        os._exit(3)
    return float((submission["prediction"].astype(str) == answers["label"].astype(str)).mean())
'''


def test_a_tasks_own_grade_py_runs_in_a_separate_process(tmp_path: Path, motif_task, monkeypatch) -> None:
    (Path(motif_task.root) / "grade.py").write_text(GRADE_PY)
    from omicsagent.bench.task import load_task_dir

    task = load_task_dir(motif_task.root)
    assert task.grader and task.grader.endswith("grade.py")
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("GRADER_PID_FILE", str(pid_file))
    sub = _good(task)
    sub.loc[sub.index[:8], "prediction"] = 1 - sub.loc[sub.index[:8], "prediction"]  # 8 wrong labels
    g = grade_submission(
        task, write_submission(tmp_path / "s.csv", sub.iloc[::-1])
    )  # reordered: aligned first
    assert g.valid and g.raw == pytest.approx(1 - 8 / len(sub)) and g.score == g.raw
    assert int(pid_file.read_text()) != os.getpid()
    crash = write_submission(
        tmp_path / "c.csv", sub.assign(prediction=["crash"] + list(sub["prediction"].iloc[1:]))
    )
    g = grade_submission(task, crash)  # the grader dies: the submission is invalid, we are not
    assert not g.valid and "grader failed" in g.reason


def test_grade_front_door(tmp_path: Path, motif_task) -> None:
    write_submission(tmp_path / "sub.csv", _good(motif_task))
    task_rel = os.path.relpath(motif_task.root, tmp_path)
    res = cli("bench", "grade", task_rel, "sub.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"valid": True, "raw": 1.0, "score": 1.0, "reason": None}
    res = cli("bench", "grade", task_rel, "missing.csv", cwd=tmp_path)
    assert (
        res.returncode == 2 and res.stderr.startswith("error:") and len(res.stderr.strip().splitlines()) == 1
    )


def test_metrics_come_from_omicsagent_ml_metrics(tmp_path: Path, motif_task) -> None:
    """One function per fact: the grader's AUROC is omicsagent.ml.metrics' AUROC."""
    sub = _good(motif_task)
    rng = np.random.default_rng(0)
    sub["probability_1"] = np.clip(sub["probability_1"] + rng.normal(scale=0.4, size=len(sub)), 0, 1)
    sub["probability_0"] = 1 - sub["probability_1"]
    g = grade_submission(motif_task, write_submission(tmp_path / "s.csv", sub))
    answers = pd.read_csv(motif_task.answers)
    want = get_metric("auroc").compute(answers["label"].astype(str), None,
                                       sub[["probability_0", "probability_1"]].to_numpy(), ["0", "1"])
    assert g.raw == pytest.approx(want)
