"""Reference layouts read as they are: a BioXArena task and an MLE-bench / BioML-bench competition, each
written here in exactly its layout, run end to end and graded by its own grade.py."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.bench.suite import detect_layout, load_suite, resolve_suite
from omicsagent.testing import motif_frame

from .conftest import cli, regression_frame

UTILS = '''
"""Shared helpers of the fixture benchmark (BioXArena keeps such helpers in tasks/utils.py)."""
import os

from sklearn.metrics import roc_auc_score


class InvalidSubmissionError(Exception):
    pass


def log_call(task):
    with open(os.environ["GRADE_LOG"], "a") as fh:
        fh.write(task + "\\n")


def roc_auc(submission, answers, id_col, col):
    if list(submission[id_col]) != list(answers[id_col]):
        raise InvalidSubmissionError("ids differ from the answers")
    return roc_auc_score(answers[col], submission[col])
'''

BX_GRADE = '''
import pandas as pd

from tasks.utils import log_call, roc_auc


def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    log_call("bioxarena")
    return roc_auc(submission, answers, "id", "label")
'''

MLE_CONFIG = '''
id: toy-solubility
name: "Toy solubility"
competition_type: simple
awards_medals: false
prizes: null
description: mlebench/competitions/toy-solubility/description.md

dataset:
  answers: toy-solubility/prepared/private/test.csv
  sample_submission: toy-solubility/prepared/public/sample_submission.csv

grader:
  name: mean-absolute-error
  grade_fn: mlebench.competitions.toy-solubility.grade:grade

preparer: mlebench.competitions.toy-solubility.prepare:prepare
'''

MLE_PREPARE_3 = '''
from pathlib import Path

import pandas as pd


def prepare(raw: Path, public: Path, private: Path) -> None:
    df = pd.read_csv(raw / "measurements.csv")
    df.insert(0, "id", [f"m{i:03d}" for i in range(len(df))])
    train, test = df.iloc[:160], df.iloc[160:]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["y"]).to_csv(public / "test.csv", index=False)
    test[["id", "y"]].to_csv(private / "test.csv", index=False)
    pd.DataFrame({"id": test["id"], "y": 0.0}).to_csv(public / "sample_submission.csv", index=False)
'''

MLE_PREPARE_2 = '''
from pathlib import Path

import pandas as pd


def prepare(raw: Path, prepared: Path) -> None:
    public, private = prepared / "0" / "public", prepared / "0" / "private"
    public.mkdir(parents=True)
    private.mkdir(parents=True)
    df = pd.read_csv(raw / "measurements.csv")
    df.insert(0, "id", range(len(df)))
    train, test = df.iloc[:160], df.iloc[160:]
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["y"]).to_csv(public / "test_features.csv", index=False)
    test[["id", "y"]].to_csv(private / "answers.csv", index=False)
    pd.DataFrame({"id": test["id"], "y": 0.0}).to_csv(public / "sample_submission.csv", index=False)
'''

MLE_GRADE = '''
import os

import numpy as np
import pandas as pd


def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
    with open(os.environ["GRADE_LOG"], "a") as fh:
        fh.write("mlebench\\n")
    merged = answers.merge(submission, on="id", suffixes=("_true", "_pred"), validate="one_to_one")
    if len(merged) != len(answers):
        raise ValueError("submission ids do not match")
    return float(np.mean(np.abs(merged["y_true"] - merged["y_pred"])))
'''


def write_bioxarena(root: Path) -> None:
    """BioXArena: data under BioXArena-Data-Public/<domain>/<task>/public, graders in BioXArena/tasks/."""
    task = root / "BioXArena-Data-Public" / "sequence" / "motif-binding"
    (task / "public").mkdir(parents=True)
    (task / "private").mkdir()
    train, test = motif_frame(200, length=40, seed=5), motif_frame(60, length=40, seed=6)
    train.to_csv(task / "public" / "train.csv", index=False)
    test.drop(columns=["label"]).to_csv(task / "public" / "test.csv", index=False)
    test[["id", "label"]].to_csv(task / "private" / "answers.csv", index=False)
    pd.DataFrame({"id": test["id"], "label": 0.5}).to_csv(
        task / "public" / "sample_submission.csv", index=False
    )
    (task / "public" / "description.md").write_text(
        "Predict whether each DNA sequence binds (label 1). Metric: ROC-AUC.\n"
    )
    code = root / "BioXArena" / "tasks"
    (code / "sequence" / "motif-binding").mkdir(parents=True)
    (code / "__init__.py").write_text("")
    (code / "utils.py").write_text(UTILS)
    (code / "sequence" / "motif-binding" / "grade.py").write_text(BX_GRADE)


def write_mlebench(root: Path, name: str, prepare: str) -> None:
    comp = root / name
    (comp / "raw").mkdir(parents=True)
    regression_frame(220, seed=3).rename(columns={"x1": "logp", "x2": "weight"}).to_csv(
        comp / "raw" / "measurements.csv", index=False)
    (comp / "config.yaml").write_text(MLE_CONFIG)
    (comp / "prepare.py").write_text(prepare)
    (comp / "grade.py").write_text(MLE_GRADE)
    (comp / "description.md").write_text(
        "Predict y (a solubility) from logp and weight. Metric: mean absolute error.\n"
    )


SUITE = """
[suite]
name = "references"
time_limit = "2m"

[[tasks]]
id = "motif-binding"
path = "BioXArena-Data-Public/sequence/motif-binding"
grade = "BioXArena/tasks/sequence/motif-binding/grade.py"
metric = "auroc"

[[tasks]]
id = "toy-solubility"
path = "toy-solubility"
domain = "chemistry"
"""


@pytest.fixture
def refs(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "refs"
    write_bioxarena(root)
    write_mlebench(root, "toy-solubility", MLE_PREPARE_3)
    (tmp_path / "refs.toml").write_text(SUITE)
    monkeypatch.setenv("GRADE_LOG", str(tmp_path / "grade.log"))
    return root


def test_layouts_are_detected(refs: Path) -> None:
    assert detect_layout(refs / "BioXArena-Data-Public" / "sequence" / "motif-binding") == "bioxarena"
    assert detect_layout(refs / "toy-solubility") == "mlebench"


def test_mlebench_prepare_runs_once_and_declares_the_error_baseline(tmp_path: Path, refs: Path) -> None:
    suite = load_suite(tmp_path / "refs.toml")
    bx, mle = resolve_suite(suite, data_root=refs, work=tmp_path / "work")
    assert (bx.layout, bx.domain, bx.metric, bx.normaliser, bx.submission_columns) == \
        ("bioxarena", "sequence", "auroc", "bounded", ["id", "label"])
    assert (mle.layout, mle.metric, mle.direction, mle.normaliser) == (
        "mlebench",
        "mae",
        "lower",
        "error_ratio",
    )
    prepared = tmp_path / "work" / "toy-solubility"
    assert sorted(p.name for p in (prepared / "public").iterdir()) == [
        "description.md",
        "sample_submission.csv",
        "test.csv",
        "train.csv",
    ]
    assert mle.answers == str(prepared / "private" / "test.csv")
    # the baseline is the task's own grader on a constant submission (the training median, for MAE)
    train = pd.read_csv(prepared / "public" / "train.csv")
    answers = pd.read_csv(prepared / "private" / "test.csv")
    assert mle.baseline_error == pytest.approx(np.mean(np.abs(answers["y"] - train["y"].median())))
    assert "mlebench" in (tmp_path / "grade.log").read_text()
    stamp = (prepared / "public" / "train.csv").stat().st_mtime_ns
    resolve_suite(suite, data_root=refs, work=tmp_path / "work", only=["toy-solubility"])
    assert (prepared / "public" / "train.csv").stat().st_mtime_ns == stamp  # prepared once


def test_bioml_bench_two_argument_prepare(tmp_path: Path, refs: Path) -> None:
    write_mlebench(refs, "bioml-toy", MLE_PREPARE_2.replace("answers.csv", "answers.csv"))
    cfg = (refs / "bioml-toy" / "config.yaml").read_text()
    cfg = cfg.replace(
        "dataset:\n  answers: toy-solubility/prepared/private/test.csv\n"
        "  sample_submission: toy-solubility/prepared/public/sample_submission.csv",
        "datasets:\n  '0':\n    answers: answers.csv\n    sample_submission: sample_submission.csv",
    )
    (refs / "bioml-toy" / "config.yaml").write_text(cfg.replace("id: toy-solubility", "id: bioml-toy"))
    (tmp_path / "one.toml").write_text('[[tasks]]\npath = "bioml-toy"\nmetric = "mae"\n')
    (task,) = resolve_suite(load_suite(tmp_path / "one.toml"), data_root=refs, work=tmp_path / "w")
    assert task.answers.endswith("0/private/answers.csv") and task.public_dir.endswith("0/public")
    assert task.baseline_error > 0


@pytest.mark.slow
def test_reference_layouts_run_end_to_end_and_are_graded_by_their_own_grade_py(
    tmp_path: Path, refs: Path
) -> None:
    res = cli("bench", "run", "refs.toml", "--data", "refs", "--agents", "baseline:floor", "--out", "results",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    recs = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "results" / "results").glob("*.json")}
    bx, mle = recs["baseline_floor__motif-binding__seed0"], recs["baseline_floor__toy-solubility__seed0"]
    assert (
        bx["success"]
        and bx["layout"] == "bioxarena"
        and bx["raw_score"] > 0.7
        and bx["score"] == bx["raw_score"]
    )
    assert mle["success"] and mle["layout"] == "mlebench" and mle["metric"] == "mae"
    assert mle["score"] == pytest.approx(1 - mle["raw_score"] / mle["baseline_error"]) and mle["score"] > 0.5
    log = (tmp_path / "grade.log").read_text().split()
    assert log.count("bioxarena") == 1 and log.count("mlebench") == 2  # the baseline, then the submission
    # the floor's submission follows the task's own sample submission
    sub = pd.read_csv(tmp_path / "results" / bx["artifacts"]["submission"])
    assert list(sub.columns) == ["id", "label"] and sub["label"].between(0, 1).all()
