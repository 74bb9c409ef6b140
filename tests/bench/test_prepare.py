"""`omicsagent bench prepare`: dataset folder -> task folder with the test labels in private/ only."""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.bench.grading import grade_submission
from omicsagent.bench.prepare import prepare_dataset
from omicsagent.bench.suite import load_suite, resolve_suite
from omicsagent.bench.task import load_task_dir
from omicsagent.errors import InputError

from .conftest import cli

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "datasets"


def test_prepare_front_door_moves_test_labels_to_private(tmp_path: Path, motif_dataset: Path) -> None:
    res = cli("bench", "prepare", "data/motif", "--out", "tasks/motif", "--domain", "sequences", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    task_dir = tmp_path / "tasks" / "motif"
    public, private = task_dir / "public", task_dir / "private"
    assert sorted(p.name for p in public.iterdir()) == [
        "description.md",
        "sample_submission.csv",
        "task.toml",
        "test.csv",
        "train.csv",
    ]
    assert sorted(p.name for p in private.iterdir()) == ["answers.csv"]
    original = pd.read_csv(motif_dataset / "test.csv")
    test, answers = pd.read_csv(public / "test.csv"), pd.read_csv(private / "answers.csv")
    assert "label" not in test.columns and list(answers.columns) == ["id", "label"]
    assert (
        list(test["id"]) == list(answers["id"]) == list(original["id"])
    )  # the dataset's own unique id column
    assert list(answers["label"]) == list(original["label"])
    # no public table but the training data has the target column
    assert [f.name for f in public.glob("*.csv") if "label" in pd.read_csv(f).columns] == ["train.csv"]
    decl = tomllib.loads((task_dir / "task.toml").read_text())
    assert (decl["task"]["id"], decl["task"]["domain"], decl["task"]["modality"]) == (
        "motif",
        "sequences",
        "dna",
    )
    assert (decl["task"]["metric"], decl["task"]["direction"], decl["task"]["normaliser"]) == (
        "auroc",
        "higher",
        "bounded",
    )
    assert decl["task"]["time_limit_s"] == 900.0
    assert decl["submission"]["columns"] == ["id", "prediction", "probability_0", "probability_1"]
    assert "auroc" in (public / "description.md").read_text()
    task = load_task_dir(task_dir)
    sample = grade_submission(task, public / "sample_submission.csv")
    assert sample.valid and sample.raw == pytest.approx(0.5)  # constant probabilities


def test_prepare_adds_an_id_column_and_declares_the_error_baseline(
    tmp_path: Path, tabular_dataset: Path
) -> None:
    task = prepare_dataset(tabular_dataset, tmp_path / "task")
    test = pd.read_csv(task.public / "test.csv")
    assert test.columns[0] == "id" and list(test["id"]) == list(range(len(test)))
    assert "target" not in test.columns
    assert (task.metric, task.direction, task.normaliser) == ("rmse", "lower", "error_ratio")
    train, truth = pd.read_csv(tabular_dataset / "train.csv"), pd.read_csv(tabular_dataset / "test.csv")
    expected = ((truth["target"] - train["target"].mean()) ** 2).mean() ** 0.5
    assert task.baseline_error == pytest.approx(expected)
    # the sample submission is that constant baseline, so it scores exactly 0
    g = grade_submission(task, task.public / "sample_submission.csv")
    assert g.valid and g.raw == pytest.approx(expected) and g.score == 0.0


@pytest.mark.parametrize("case", ["missing", "no_test", "not_empty", "bad_metric"])
def test_prepare_bad_input_is_one_sentence_and_writes_nothing(
    tmp_path: Path, motif_dataset: Path, case: str
) -> None:
    args = ["bench", "prepare", "data/motif", "--out", "task"]
    if case == "missing":
        args[2] = "data/nope"
    elif case == "no_test":
        (motif_dataset / "test.csv").unlink()
    elif case == "not_empty":
        (tmp_path / "task").mkdir()
        (tmp_path / "task" / "keep.txt").write_text("mine")
    else:
        args += ["--metric", "rmse"]
    res = cli(*args, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in res.stderr
    if case == "not_empty":
        assert [p.name for p in (tmp_path / "task").iterdir()] == ["keep.txt"]
    else:
        assert not (tmp_path / "task").exists()
    assert not any(p.name.startswith(".task") for p in tmp_path.iterdir())


def test_prepare_library_refuses_a_dataset_without_test_labels(tmp_path: Path, motif_dataset: Path) -> None:
    test = pd.read_csv(motif_dataset / "test.csv").drop(columns=["label"])
    test.to_csv(motif_dataset / "test.csv", index=False)
    with pytest.raises(InputError):
        prepare_dataset(motif_dataset, tmp_path / "t")
    assert not (tmp_path / "t").exists()


@pytest.mark.datasets
def test_omics_mini_lists_every_dataset_the_loop_handles(tmp_path: Path) -> None:
    if not (SHARED / "ml").is_dir():
        pytest.skip("../shared/datasets is not here")
    suite = load_suite(ROOT / "benchmarks" / "suites" / "omics-mini.toml")
    listed = {Path(e["path"]).name for e in suite.entries}
    handled = {d.name for d in (SHARED / "ml").iterdir()
               if (d / "train.csv").exists() or any(d.glob("*.h5ad"))}
    assert listed == handled
    assert all(e.get("domain") for e in suite.entries)
    # prepared on the fly, once: a second resolve reuses the folder
    tasks = resolve_suite(suite, data_root=SHARED, work=tmp_path / "tasks", only=["esol", "heart_disease"])
    assert [(t.id, t.domain, t.normaliser) for t in tasks] == [("esol", "chemistry", "error_ratio"),
                                                               ("heart_disease", "phenotypes", "bounded")]
    stamp = (tmp_path / "tasks" / "esol" / "task.toml").stat().st_mtime_ns
    resolve_suite(suite, data_root=SHARED, work=tmp_path / "tasks", only=["esol"])
    assert (tmp_path / "tasks" / "esol" / "task.toml").stat().st_mtime_ns == stamp
    assert not list((tmp_path / "tasks" / "esol" / "public").glob("answers*"))


def test_prepare_holds_out_test_rows_of_a_table_without_a_test_file(tmp_path: Path,
                                                                    tabular_dataset: Path) -> None:
    (tabular_dataset / "test.csv").unlink()
    original = pd.read_csv(tabular_dataset / "train.csv")
    res = cli("bench", "prepare", "data/tab", "--out", "task", "--holdout", "0.25", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    public = tmp_path / "task" / "public"
    train, test = pd.read_csv(public / "train.csv"), pd.read_csv(public / "test.csv")
    answers = pd.read_csv(tmp_path / "task/private/answers.csv")
    assert (len(train), len(test), len(answers)) == (150, 50, 50)
    assert "target" not in test.columns and list(test["id"]) == list(answers["id"])
    # every original row once: the held-out rows with their labels in private/, the others public
    rebuilt = pd.concat([train, test.drop(columns=["id"]).assign(target=answers["target"])])
    a, b = (df.sort_values("x1").reset_index(drop=True) for df in (rebuilt, original))
    assert list(a["tissue"]) == list(b["tissue"])
    np.testing.assert_allclose(a[["x1", "x2", "target"]], b[["x1", "x2", "target"]], rtol=1e-12)
