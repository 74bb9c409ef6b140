"""A multi-label dataset (several 0/1 label columns, some labels missing) through the arena's front door:
prepared into a task, run by the floor and the expert, graded with the mean AUROC over labels, each label on
its measured rows."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from omicsagent.bench.grading import grade_submission
from omicsagent.bench.task import load_task_dir
from omicsagent.testing import make_multilabel_task
from .conftest import cli

LABELS = ["label_0", "label_1", "label_2"]


def _mean_auroc(answers: pd.DataFrame, sub: pd.DataFrame) -> float:
    values = []
    for c in LABELS:
        known = answers[c].notna()
        values.append(roc_auc_score(answers.loc[known, c], sub.loc[known, f"probability_{c}"]))
    return float(np.mean(values))


def test_prepare_keeps_every_label_private(tmp_path: Path) -> None:
    make_multilabel_task(tmp_path / "data" / "ml3", n=200, n_test=60)
    res = cli("bench", "prepare", "data/ml3", "--out", "tasks/ml3", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "multilabel, metric mean_auroc" in res.stderr + res.stdout
    task = load_task_dir(tmp_path / "tasks" / "ml3")
    assert task.labels == LABELS and task.normaliser == "bounded"
    assert task.submission_columns == ["id"] + [f"probability_{c}" for c in LABELS]
    public_test = pd.read_csv(tmp_path / "tasks" / "ml3" / "public" / "test.csv")
    assert not set(LABELS) & set(public_test.columns)
    answers = pd.read_csv(task.answers)
    assert list(answers.columns) == ["id", *LABELS] and answers[LABELS].isna().any().all()

    # a submission scored by hand on the measured rows of each label gives the grader's figure
    rng = np.random.default_rng(0)
    sub = answers[["id"]].copy()
    for c in LABELS:
        sub[f"probability_{c}"] = np.clip(answers[c].fillna(0.5) * 0.6 + rng.random(len(sub)) * 0.4, 0, 1)
    sub.to_csv(tmp_path / "sub.csv", index=False)
    grade = grade_submission(task, tmp_path / "sub.csv")
    assert grade.valid and grade.raw == pytest.approx(_mean_auroc(answers, sub)) and grade.score == grade.raw
    sub["probability_label_1"] = 1.5
    sub.to_csv(tmp_path / "bad.csv", index=False)
    bad = grade_submission(task, tmp_path / "bad.csv")
    assert not bad.valid and bad.score == 0 and "between 0 and 1" in bad.reason


@pytest.mark.slow
def test_floor_and_expert_on_a_multilabel_task(tmp_path: Path) -> None:
    make_multilabel_task(tmp_path / "data" / "ml3", n=240, n_test=80)
    (tmp_path / "suite.toml").write_text(
        '[suite]\nname = "ml"\n\n[[tasks]]\nid = "ml3"\npath = "ml3"\ndomain = "phenotypes"\n'
    )
    res = cli("bench", "run", "suite.toml", "--data", "data", "--agents", "baseline:floor,expert",
              "--time-limit", "120s", "--iterations", "1", "--out", "results", cwd=tmp_path, timeout=400)
    assert res.returncode == 0, res.stderr
    answers = pd.read_csv(tmp_path / "results" / "tasks" / "ml3" / "private" / "answers.csv")
    for agent in ("baseline_floor", "expert"):
        rec = json.loads((tmp_path / "results" / "results" / f"{agent}__ml3__seed0.json").read_text())
        assert rec["success"], rec["reason"]
        sub = pd.read_csv(tmp_path / "results" / rec["artifacts"]["submission"])
        assert rec["raw_score"] == pytest.approx(_mean_auroc(answers, sub))
        assert rec["raw_score"] > 0.75  # each label is a noisy threshold of its own feature
