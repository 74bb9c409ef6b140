"""Multi-label tasks (issue 12 §2): several 0/1 target columns, labels missing per row.

Units: the metric on measured rows only, detection of side-by-side label columns, task.toml list targets,
the per-label model and the prediction contract. Front door: `omicsagent run DIR --iterations 1
--time-budget 60s` (one iteration: the per-label linear model) from another working directory with
relative paths, then `best/inference.py` and `omicsagent predict`; a non-0/1 column among the targets is
one sentence and exit 2.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from omicsagent.errors import InputError, ModelMistake
from omicsagent.ml.metrics import evaluate, get_metric, per_label_scores
from omicsagent.tasks import load_task
from omicsagent.tasks.detect import multilabel_columns
from omicsagent.testing import make_multilabel_task

EXE = [sys.executable, "-m", "omicsagent"]
nan = np.nan


def cli(*args: str, cwd: Path, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*EXE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


# --- the metric --------------------------------------------------------------------------------

def test_mean_auroc_uses_each_label_on_its_measured_rows_only():
    Y = np.array([[1, 0], [0, nan], [1, 1], [0, 0], [nan, 1], [0, 1]], dtype=float)
    P = np.array([[0.9, 0.2], [0.1, 0.99], [0.4, 0.7], [0.5, 0.1], [0.0, 0.8], [0.3, 0.6]])
    m0 = ~np.isnan(Y[:, 0])
    m1 = ~np.isnan(Y[:, 1])
    a0, a1 = roc_auc_score(Y[m0, 0], P[m0, 0]), roc_auc_score(Y[m1, 1], P[m1, 1])
    assert a1 == 1.0 and a0 < 1.0  # row 1's 0.99 would spoil label 1 if its missing label counted as 0
    got = evaluate("multilabel", Y, None, P)
    assert got["mean_auroc"] == pytest.approx((a0 + a1) / 2)
    ap = (average_precision_score(Y[m0, 0], P[m0, 0]) + average_precision_score(Y[m1, 1], P[m1, 1])) / 2
    assert got["mean_auprc"] == pytest.approx(ap)
    rows = per_label_scores(Y, P)
    assert [(r["n"], r["positives"]) for r in rows] == [(5, 2), (5, 3)]


def test_a_label_with_one_class_on_its_rows_is_left_out_of_the_mean():
    Y = np.array([[1, 0], [0, 0], [1, nan], [0, 0]], dtype=float)
    P = np.array([[0.8, 0.3], [0.2, 0.5], [0.7, 0.1], [0.4, 0.2]])
    assert get_metric("mean_auroc").compute(Y, None, P) == pytest.approx(1.0)
    assert np.isnan(get_metric("mean_auroc").compute(Y[:, 1:], None, P[:, 1:]))


# --- detection and task loading -------------------------------------------------------------------

def test_side_by_side_label_columns_with_gaps_are_detected(tmp_path):
    folder = make_multilabel_task(tmp_path / "d", n_labels=4)
    df = pd.read_csv(folder / "train.csv")
    assert multilabel_columns(df) == ["label_0", "label_1", "label_2", "label_3"]
    assert multilabel_columns(df.fillna(0)) == []  # no gaps: ordinary 0/1 columns, not a label block
    task = load_task(folder)
    assert task.task_type == "multilabel" and task.metric == "mean_auroc"
    assert task.labels == ["label_0", "label_1", "label_2", "label_3"] and "detected" in task.target_reason
    assert all(c not in task.input_columns for c in task.labels)


def test_inspect_suggests_the_labels_and_how_to_predict_one(tmp_path):
    make_multilabel_task(tmp_path / "d")
    res = cli("inspect", "d", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "multilabel" in res.stdout and "label_0, label_1, label_2" in res.stdout
    assert "--target COLUMN to predict only one" in res.stdout


def test_task_toml_lists_the_labels(tmp_path):
    folder = make_multilabel_task(tmp_path / "d", n_labels=3)
    (folder / "task.toml").write_text('[task]\ntarget = ["label_2", "label_0"]\n')
    task = load_task(folder)
    assert task.labels == ["label_2", "label_0"] and task.task_type == "multilabel"
    assert task.column("label_1").role != "target"  # not a label here (flagged: its name says label)
    (folder / "task.toml").write_text('target = ["label_1"]\n')  # one listed column: a single target
    with pytest.raises(InputError, match="missing target 'label_1'"):
        load_task(folder)


def test_a_label_without_positives_is_refused(tmp_path):
    folder = make_multilabel_task(tmp_path / "d")
    df = pd.read_csv(folder / "train.csv")
    df["label_1"] = df["label_1"].where(df["label_1"].isna(), 0.0)
    df.to_csv(folder / "train.csv", index=False)
    (folder / "task.toml").write_text('target = ["label_0", "label_1", "label_2"]\n')
    with pytest.raises(InputError, match="'label_1' .* no positive row"):
        load_task(folder)


# --- the model and the prediction contract --------------------------------------------------------

def test_per_label_model_fits_each_label_on_its_measured_rows(tmp_path):
    from omicsagent.ml.pipeline import TrainedModel, build_featurizer, build_model

    folder = make_multilabel_task(tmp_path / "d", n=400, missing=0.3)
    train = pd.read_csv(folder / "train.csv")
    test = pd.read_csv(folder / "test.csv")
    labels = ["label_0", "label_1", "label_2"]
    feat = build_featurizer({"blocks": [{"kind": "tabular", "columns": ["x0", "x1", "x2", "x3"]}]})
    X = feat.fit_transform(train)
    model = build_model({"kind": "per_label", "base": {"kind": "linear"}}, task_type="multilabel")
    model.fit(X, train[labels].to_numpy(), log=lambda _m: None)
    trained = TrainedModel(featurizer=feat, model=model, task_type="multilabel", target=labels)
    trained.save(tmp_path / "model")
    pred = TrainedModel.load(tmp_path / "model").predict_frame(test.drop(columns=labels))
    assert list(pred.columns) == [f"probability_{c}" for c in labels]
    score = evaluate("multilabel", test[labels].to_numpy(float), None, pred.to_numpy(float))
    assert score["mean_auroc"] > 0.85
    with pytest.raises(InputError, match="per_label"):
        build_model({"kind": "linear"}, task_type="multilabel")


def test_predictions_need_a_probability_column_per_label(tmp_path):
    from omicsagent.agent.steps import check_predictions

    task = load_task(make_multilabel_task(tmp_path / "d"))
    path = tmp_path / "p.csv"
    pd.DataFrame({"probability_label_0": [0.1, 0.9], "probability_label_1": [0.5, 0.5]}).to_csv(
        path, index=False
    )
    with pytest.raises(ModelMistake, match="probability_label_2"):
        check_predictions(path, task, n_rows=2)
    pd.DataFrame({f"probability_label_{j}": [0.1, 1.5] for j in range(3)}).to_csv(path, index=False)
    with pytest.raises(ModelMistake, match="between 0 and 1"):
        check_predictions(path, task, n_rows=2)


# --- the front door -------------------------------------------------------------------------------

def test_a_non_zero_one_column_among_the_targets_is_one_sentence(tmp_path):
    make_multilabel_task(tmp_path / "d")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    res = cli("run", "d", "--target", "label_0", "--target", "x1", "--time-budget", "60s", "--out", "r",
              cwd=tmp_path)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "the target column 'x1'" in lines[0] and "not only 0/1" in lines[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.slow
def test_run_then_best_inference_and_predict_from_another_directory(tmp_path):
    make_multilabel_task(tmp_path / "data", n=300, n_test=100)
    work = tmp_path / "work"
    work.mkdir()
    res = cli("run", "../data", "--target", "label_0", "--target", "label_1", "--target", "label_2",
              "--iterations", "1", "--time-budget", "60s", "--cv-below", "0", "--out", "runs/ml", cwd=work)
    assert res.returncode == 0, res.stderr[-3000:]
    run = work / "runs" / "ml"
    j = json.loads((run / "journal.json").read_text())
    assert j["status"] == "finished" and j["task"]["task_type"] == "multilabel"
    assert j["test_metrics"]["mean_auroc"] > 0.8 and "mean_auprc" in j["test_metrics"]
    ok = [it for it in j["iterations"] if it["status"] == "succeeded"]
    assert ok and all("mean_auroc" in it["validation_metrics"] for it in ok)

    new = pd.read_csv(tmp_path / "data" / "test.csv").drop(columns=["label_0", "label_1", "label_2"]).head(25)
    new.to_csv(work / "new.csv", index=False)
    want = ["probability_label_0", "probability_label_1", "probability_label_2"]
    direct = subprocess.run(
        [sys.executable, "runs/ml/best/inference.py", "--input", "new.csv", "--output", "direct.csv"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert direct.returncode == 0, direct.stderr[-2000:]
    res = cli("predict", "runs/ml", "--input", "new.csv", "--output", "preds.csv", cwd=work)
    assert res.returncode == 0, res.stderr[-2000:]
    for name in ("direct.csv", "preds.csv"):
        out = pd.read_csv(work / name)
        assert list(out.columns) == want and len(out) == 25
        assert ((out >= 0) & (out <= 1)).all().all()
    report = (run / "report.md").read_text()
    assert "Validation metrics per label" in report and "| label_2 |" in report


def fit_save_predict(folder: Path, representation: dict, spec: dict, out: Path, labels: list[str]):
    """Fit ``spec`` on the task's train.csv, save it, load it back and score test.csv: (model, mean AUROC),
    after checking that the loaded model writes one probability column per label."""
    from omicsagent.ml.pipeline import TrainedModel, build_featurizer, build_model

    train, test = pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")
    feat = build_featurizer(representation)
    model = build_model(spec, task_type="multilabel")
    model.fit(feat.fit_transform(train), train[labels].to_numpy(), log=lambda _m: None)
    TrainedModel(featurizer=feat, model=model, task_type="multilabel", target=labels).save(out)
    pred = TrainedModel.load(out).predict_frame(test.drop(columns=labels))
    assert list(pred.columns) == [f"probability_{c}" for c in labels]
    score = evaluate("multilabel", test[labels].to_numpy(float), None, pred.to_numpy(float))
    return model, score["mean_auroc"]


def test_the_tree_search_blends_and_bags_per_label_models_that_then_train_and_predict(tmp_path):
    """Once the drafts are in, the search improves the best multi-label node with a blend of two families
    and with bagging, each wrapped per label; the blended spec trains, saves and predicts a probability per
    label."""
    from omicsagent.agent.journal import IterationRecord, RunJournal, RunSettings, StepRecord
    from omicsagent.brains.expert import policy, recipes

    folder = make_multilabel_task(tmp_path / "d", n=300, n_test=100)
    labels = ["label_0", "label_1", "label_2"]
    task = load_task(folder)
    assert task.labels == labels
    j = RunJournal(run_id="t", task=task, settings=RunSettings(iterations=30, time_budget_s=900,
                                                               extra={"search": "tree"}))
    profile = recipes.profile_of(task, task.table("train"), time_budget_s=900)
    moves = []
    for k in range(8):
        d = policy.decide(j, profile, time_left_s=800)
        if d.candidate is None:
            break
        assert d.candidate.model["kind"] == "per_label"
        moves.append(d)
        c = d.candidate
        it = IterationRecord(index=len(j.iterations), parent=d.parent, status="succeeded", steps=[
            StepRecord(name="representation", status="done",
                       output={"name": c.name, "spec": c.representation}),
            StepRecord(name="architecture", status="done", output={"spec": c.model}),
            StepRecord(name="training", status="done", duration_s=5)])
        # the second draft (boosted trees) stays the best, every other node is worse: the search builds on it
        it.validation_metrics = {task.metric: 0.9 if k == 1 else 0.85 - 0.01 * k}
        it.train_metrics = {task.metric: 0.95}
        j.iterations.append(it)
    bases = [d.candidate.model["base"] for d in moves if d.parent is not None]
    blends = [b for b in bases if b["kind"] == "ensemble" and b.get("member_blocks")]
    bags = [b for b in bases if b["kind"] == "ensemble" and not b.get("member_blocks")]
    assert blends and bags, [d.reason for d in moves]
    assert len({recipes.FAMILY_OF_KIND[m["kind"]] for m in blends[0]["members"]}) == 2

    blend = next(d.candidate for d in moves if d.candidate.model["base"] is blends[0])
    _, mean_auroc = fit_save_predict(folder, blend.representation, blend.model, tmp_path / "m", labels)
    assert mean_auroc > 0.85


@pytest.mark.parametrize("spec", [
    {"kind": "mlp", "hidden": 32, "epochs": 40, "patience": 8},
    {"kind": "ensemble", "members": [{"kind": "per_label", "base": {"kind": "lgbm"}},
                                     {"kind": "mlp", "hidden": 32, "epochs": 40, "patience": 8}]},
])
def test_a_multi_task_network_learns_every_label_from_the_measured_ones(tmp_path, spec):
    """A torch model fits a multi-label target itself (one output per label, the loss on measured labels
    only), alone or beside a per-label model in an ensemble; it saves, loads and predicts a probability per
    label, and the plan gives multi-label tasks such networks instead of one network per label."""
    from omicsagent.brains.expert import recipes

    folder = make_multilabel_task(tmp_path / "d", n=400, missing=0.3)
    train = pd.read_csv(folder / "train.csv")
    labels = ["label_0", "label_1", "label_2"]
    assert train[labels].isna().any().all()  # every label has unmeasured rows
    rep = {"blocks": [{"kind": "tabular", "columns": ["x0", "x1", "x2", "x3"]}]}
    model, mean_auroc = fit_save_predict(folder, rep, spec, tmp_path / "m", labels)
    assert mean_auroc > 0.85
    if spec["kind"] == "mlp":
        assert "mean_auroc" in model.history_[0]  # early stopping watched the mean AUROC of the labels

    task = load_task(folder)
    profile = recipes.profile_of(task, task.table("train"), time_budget_s=900)
    rep = {"blocks": [{"kind": "tabular", "columns": ["x0"]}]}
    wrapped = recipes._per_label([recipes.Candidate("net", "mlp", rep, {"kind": "mlp"}, "", 10),
                                  recipes.Candidate("trees", "gbm", rep, {"kind": "lgbm"}, "", 10)], profile)
    assert [c.model for c in wrapped] == [{"kind": "mlp"}, {"kind": "per_label", "base": {"kind": "lgbm"}}]
    assert wrapped[0].name == "net_multitask" and wrapped[0].time_limit_s
