"""Reports of runs the real loop wrote: contents checked against the journal and the files beside it."""
from __future__ import annotations

import json
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from omicsagent.agent.journal import RunJournal, Usage
from omicsagent.errors import InputError, RunStateError
from omicsagent.report import write_report
from omicsagent.report.data import failure_summary, fmt_metric

pytestmark = pytest.mark.slow  # the runs come from the real CLI (made once per session)

EXTERNAL_LOAD = re.compile(r"""(?:src|href|action|poster)\s*=\s*["']?\s*(?:https?:)?//"""
                           r"""|url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)


def _figure_ids(html: str) -> list[str]:
    return re.findall(r'<figure id="fig-([\w-]+)"><img alt="[^"]*" src="data:image/png;base64,', html)


def _md_section(md: str, title: str, level: str = "##") -> str:
    m = re.search(
        rf"^{level} {re.escape(title)}\n(.*?)(?=^#{{2,{len(level)}}} |\Z)", md, re.DOTALL | re.MULTILINE
    )
    assert m, f"section {title!r} missing in:\n{md}"
    return m.group(1)


def _table_rows(text: str) -> list[list[str]]:
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    return [[c.strip() for c in ln.strip().strip("|").split(" | ")] for ln in lines]


def _saved_importances(run: Path) -> dict[str, float]:
    return json.loads((run / "best" / "model" / "feature_importances.json").read_text())


def test_report_of_a_real_run_matches_its_journal(run_copy: Callable[..., Path]) -> None:
    run = run_copy("motif")
    paths = write_report(run)
    assert paths == {"html": run / "report.html", "md": run / "report.md"}
    md = paths["md"].read_text()
    j = RunJournal.load(run)
    best = j.best_iteration
    assert best is not None and j.split is not None and j.test_metrics

    # iteration table: one row per iteration with the journal's metrics and the reflection's instruction
    table = _table_rows(_md_section(md, "Iterations"))
    assert table[0][:7] == ["#", "status", "representation", "model", "hyperparameters", "train AUROC",
                            "validation AUROC"]
    rows = table[1:]
    assert len(rows) == len(j.iterations) == 2
    for row, it in zip(rows, j.iterations):
        assert row[0] == str(it.index) + (" (best)" if it.index == best.index else "")
        assert row[1] == it.status == "succeeded"
        assert (row[2], row[3]) == (it.representation, it.model)
        assert row[5] == fmt_metric(it.train_metrics["auroc"]) and row[6] == fmt_metric(
            it.validation_metrics["auroc"]
        )
        assert row[8] == "-"  # the offline brain costs nothing
        said = [v for v in it.instructions.values() if v.strip()] or [
            it.step("reflection").output["assessment"]
        ]
        assert said[0].strip().splitlines()[0].startswith(row[10].removesuffix("...").replace("\\|", "|"))
        assert len(row[10]) > 10

    # best model, the held-out test kept apart, the rerun commands, the task card
    validation = _md_section(md, "Best model")
    assert f"| AUROC (higher is better) * | {best.validation_metrics['auroc']:.4f} |" in validation
    test = _md_section(md, "Test set (held out)")
    assert f"| AUROC (higher is better) * | {j.test_metrics['auroc']:.4f} |" in test
    assert f"{j.test_metrics['auroc']:.4f}" not in validation
    assert f"omicsagent predict {run} --input new.csv --output preds.csv" in md
    refit = j.refit is not None and j.refit.status == "done"  # small data: refit on every labelled row
    trained_on = j.task.train_path if refit else j.split.train_path
    assert f"python best/train.py --train {trained_on} --out best/model --seed {j.settings.seed}" in md
    assert (run / j.split.train_path).is_file()
    assert "pip install -r best/requirements.txt" in md and "none (offline brain, no model requests)" in md
    task = _md_section(md, "Task")
    assert j.task.excluded_columns
    for col in j.task.excluded_columns:
        assert f"`{col.name}`: {col.role}, {col.reason}" in task

    # named importances: the top (at most 20) of what the model saved beside itself, k-mers by their letters
    saved = list(_saved_importances(run).items())[:20]
    top = _md_section(md, f"Top {len(saved)} features", level="###")
    assert [r[0] for r in _table_rows(top)[1:]] == [name for name, _ in saved]
    assert all(re.fullmatch(r"sequence:[ACGTU]{1,8}", name) for name, _ in saved)
    assert "coefficient on the standardised feature" in top


def test_html_is_self_contained_and_lists_the_importances(run_copy: Callable[..., Path]) -> None:
    run = run_copy("interaction")
    for name in ("report.html", "report.md"):  # the ones the run wrote at its end
        (run / name).unlink()
    html = write_report(run, formats=("html",))["html"].read_text()
    assert not (run / "report.md").exists()
    assert _figure_ids(html) == ["metric_history", "roc_pr", "confusion", "calibration", "importance"]
    assert not EXTERNAL_LOAD.search(html)
    assert "<script" not in html.lower()
    assert "Test set (held out)" in html and "never saw these labels" in html
    j = RunJournal.load(run)
    assert j.best_iteration is not None and j.best_iteration.model == "lgbm"
    table = re.search(r'<table class="importances">(.*?)</table>', html, re.DOTALL)
    assert table, "no importance table"
    names = re.findall(r"<tr><td>([^<]+)</td>", table.group(1))
    assert names == list(_saved_importances(run))[:20]
    assert names[:2] in (["x1", "x2"], ["x2", "x1"])  # the XOR of x1 and x2 is the whole signal
    assert "share of the total split gain" in html


def test_multiclass_and_regression_figures(run_copy: Callable[..., Path]) -> None:
    multi = run_copy("multiclass")
    paths = write_report(multi)
    assert _figure_ids(paths["html"].read_text()) == ["metric_history", "roc_pr", "confusion", "importance"]
    assert "one-vs-rest" in paths["html"].read_text()  # and no calibration plot for multiclass
    assert "No test metrics" in _md_section(paths["md"].read_text(), "Test set (held out)")  # no test.csv

    reg = run_copy("regression")
    paths = write_report(reg)
    assert _figure_ids(paths["html"].read_text()) == ["metric_history", "regression", "importance"]
    md = paths["md"].read_text()
    j = RunJournal.load(reg)
    rmse = {it.index: j.primary(it) for it in j.iterations if it.status == "succeeded"}  # k-fold mean if any
    assert len(rmse) == 2 and j.best_iteration.index == min(rmse, key=rmse.get)  # RMSE: lower is better
    best = j.best_iteration
    shown = "cross-validation RMSE" if best.cv_metrics else "validation RMSE"
    assert f"{shown} {rmse[best.index]:.4f}" in md


def test_partial_runs_say_what_is_missing(failed_run: Path, run_copy: Callable[..., Path]) -> None:
    paths = write_report(failed_run)
    md = paths["md"].read_text()
    assert "No iteration succeeded" in md and "best iteration**: none" in md
    rows = _table_rows(_md_section(md, "Iterations"))[1:]
    assert [r[1] for r in rows] == ["failed", "failed"] and all("MemoryError" in r[9] for r in rows)
    assert _figure_ids(paths["html"].read_text()) == []  # no metric to plot, nothing crashes

    damaged = run_copy("motif")
    best = RunJournal.load(damaged).best_iteration
    (damaged / best.dir / "validation_predictions.csv").unlink()
    (damaged / "best" / "inference.py").unlink()
    paths = write_report(damaged)
    md = paths["md"].read_text()
    assert "validation_predictions.csv) is missing" in md
    assert "best/inference.py is missing" in md and "`best/inference.py` (MISSING)" in md
    assert _figure_ids(paths["html"].read_text()) == ["metric_history", "importance"]

    # a run stopped before its first iteration finished
    j = RunJournal.load(damaged)
    j.iterations, j.status = [], "interrupted"
    j.save(damaged)
    assert "The run has no iterations yet." in write_report(damaged)["md"].read_text()


def test_costs_known_and_unknown(run_copy: Callable[..., Path], tmp_path: Path) -> None:
    cases = (
        (
            "priced",
            Usage(requests=3, input_tokens=1000, output_tokens=200, cost_usd=0.0125),
            "| $0.0125 |",
            "**cost**: $0.0250",
        ),  # two iterations
        ("local", Usage(requests=2, cost_usd=None), "| unknown |", "**cost**: unknown"),
    )
    for name, usage, cell, total in cases:
        run = run_copy("motif", tmp_path / name)
        j = RunJournal.load(run)  # the usage an LLM brain would have recorded on each iteration
        for it in j.iterations:
            it.usage = usage
        j.save(run)
        md = write_report(run, formats="md")["md"].read_text()
        assert cell in md and total in md


def test_importances_fall_back_to_the_expert_model_itself(run_copy: Callable[..., Path]) -> None:
    run = run_copy("motif")
    saved = list(_saved_importances(run))[:20]
    (run / "best" / "model" / "feature_importances.json").unlink()  # as written by an older omicsagent
    md = write_report(run, formats="md")["md"].read_text()
    top = _md_section(md, f"Top {len(saved)} features", level="###")
    assert [r[0] for r in _table_rows(top)[1:]] == saved  # TrainedModel.load(...).feature_importances()


class _Tripwire:
    """A pickle that leaves a file behind when it is loaded: what a malicious model could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_llm_models_are_never_unpickled_and_plain_importances_are_shown(run_copy: Callable[..., Path],
                                                                        tmp_path: Path) -> None:
    run = run_copy("motif")
    j = RunJournal.load(run)
    j.settings.brain = "llm"  # the same run as if an LLM brain had written its scripts and model
    j.save(run)
    model = run / "best" / "model"
    (model / "feature_importances.json").unlink()
    (model / "model.json").unlink()
    marker = tmp_path / "unpickled"
    (model / "model.joblib").write_bytes(pickle.dumps(_Tripwire(marker)))
    assert "not loaded outside the sandbox" in write_report(run)["md"].read_text()
    assert not marker.exists()
    pickle.loads((model / "model.joblib").read_bytes())  # the tripwire works: it is the report that refrains
    assert marker.exists()

    (model / "model.json").write_text(json.dumps({"feature_importances": {"TATAAT": 0.7, "GC": -0.2}}))
    paths = write_report(run)
    assert "| TATAAT | 0.7 |\n| GC | -0.2 |" in paths["md"].read_text()
    assert "importance" in _figure_ids(paths["html"].read_text())
    (model / "feature_importances.json").write_text(json.dumps([["ACGT", 3], ["bad", "x"]]))
    assert "| ACGT | 3 |" in write_report(run, formats="md")["md"].read_text()


def test_a_model_folder_that_is_not_a_trained_model(run_copy: Callable[..., Path]) -> None:
    run = run_copy("motif")
    model = run / "best" / "model"
    (model / "feature_importances.json").unlink()
    (model / "model.joblib").write_bytes(b"not a real model")
    md = write_report(run)["md"].read_text()
    assert "not saved as an omicsagent TrainedModel, so feature importances are skipped" in md
    assert not re.search(r"^### Top \d+ features", md, re.MULTILINE)


def test_failure_summary_keeps_the_exception_line() -> None:
    text = ("training: train.py failed: Traceback (most recent call last):\n  File \"train.py\", line 1\n"
            "NameError: name 'this' is not defined\n")
    assert failure_summary(text) == "training: train.py failed: NameError: name 'this' is not defined"
    assert failure_summary("timed out after 60 s\nmore") == "timed out after 60 s"
    assert failure_summary("") == ""


def test_user_mistakes(tmp_path: Path, run_copy: Callable[..., Path]) -> None:
    run = run_copy("motif")
    with pytest.raises(InputError, match="choose html or md"):
        write_report(run, formats=("pdf",))
    with pytest.raises(RunStateError, match="not an omicsagent run"):
        write_report(tmp_path / "nothing")
    (run / "journal.json").write_text("{broken")
    with pytest.raises(RunStateError, match="corrupted"):
        write_report(run)


def test_metrics_json_is_not_required(run_copy: Callable[..., Path]) -> None:
    run = run_copy("motif")
    (run / "best" / "metrics.json").unlink()
    assert "`best/metrics.json` (MISSING)" in write_report(run)["md"].read_text()
