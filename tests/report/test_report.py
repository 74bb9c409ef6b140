"""Reports for finished and partial runs: contents checked against the journal."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from omicsagent.agent.journal import RunJournal, Usage
from omicsagent.errors import InputError, RunStateError
from omicsagent.report import write_report
from omicsagent.report.data import failure_summary, fmt_metric

EXTERNAL_LOAD = re.compile(r"""(?:src|href|action|poster)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)


def _figure_ids(html: str) -> list[str]:
    return re.findall(r'<figure id="fig-([\w-]+)"><img alt="[^"]*" src="data:image/png;base64,', html)


def _md_section(md: str, title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert m, f"section {title!r} missing"
    return m.group(1)


def test_binary_report_markdown_matches_journal(binary_run: Path) -> None:
    paths = write_report(binary_run)
    assert paths == {"html": binary_run / "report.html", "md": binary_run / "report.md"}
    md = paths["md"].read_text()
    j = RunJournal.load(binary_run)
    best = j.best_iteration
    assert best is not None and best.index == 1

    # iteration table: one row per iteration with the journal's train and validation metric
    table = [line for line in _md_section(md, "Iterations").splitlines() if line.startswith("| ")]
    assert table[0].startswith("| # | status | representation | model | hyperparameters | train AUROC | validation AUROC")
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in table[1:]]
    assert len(rows) == len(j.iterations)
    for row, it in zip(rows, j.iterations):
        assert row[0] == str(it.index) + (" (best)" if it.index == best.index else "")
        assert row[1] == it.status
        assert row[5] == fmt_metric(it.train_metrics.get("auroc"))
        assert row[6] == fmt_metric(it.validation_metrics.get("auroc"))
        assert row[8] == "-"  # offline brain: no cost column value
    failed = rows[2]
    assert failed[1] == "failed" and "timed out" in failed[9] and failed[6] == "-"
    assert rows[0][10] == "after iteration 0: add regularisation"  # the reflection's main instruction
    assert "+1 more" in rows[0][4]  # five hyperparameters, four shown

    # best model, test set kept apart, rerun commands, task card
    assert f"validation AUROC {best.validation_metrics['auroc']:.4f}" in md
    validation = _md_section(md, "Best model")
    assert f"| AUROC (higher is better) * | {best.validation_metrics['auroc']:.4f} |" in validation
    test = _md_section(md, "Test set (held out)")
    assert j.test_metrics is not None
    assert f"| AUROC (higher is better) * | {j.test_metrics['auroc']:.4f} |" in test
    assert f"{j.test_metrics['auroc']:.4f}" not in validation
    assert f"omicsagent predict {binary_run} --input new.csv --output preds.csv" in md
    assert "python best/train.py --train split/train.csv --model-dir best/model" in md
    assert "python best/inference.py --input new.csv --output preds.csv" in md
    assert "best/requirements.txt" in md
    assert "none (offline brain, no model requests)" in md
    task = _md_section(md, "Task")
    for col in j.task.excluded_columns:
        assert f"`{col.name}`: {col.role}, {col.reason}" in task
    assert "**metric**: AUROC (higher is better)" in task


def test_binary_html_is_self_contained_with_all_figures(binary_run: Path) -> None:
    html = write_report(binary_run, formats=("html",))["html"].read_text()
    assert not (binary_run / "report.md").exists()
    assert _figure_ids(html) == ["metric_history", "roc_pr", "confusion", "calibration"]
    assert not EXTERNAL_LOAD.search(html)
    assert "<script" not in html.lower()
    assert "Test set (held out)" in html and "never saw these labels" in html


def test_multiclass_and_regression_figures(tmp_path: Path, build_run: Callable[..., Path]) -> None:
    multi = build_run(tmp_path, kind="multiclass")
    html = write_report(multi)["html"].read_text()
    assert _figure_ids(html) == ["metric_history", "roc_pr", "confusion"]  # no calibration for multiclass
    assert "one-vs-rest" in html

    reg = build_run(tmp_path, kind="regression", iterations=(0.5, 0.9, None), test=False)
    paths = write_report(reg)
    html = paths["html"].read_text()
    assert _figure_ids(html) == ["metric_history", "regression"]
    md = paths["md"].read_text()
    j = RunJournal.load(reg)
    best = j.best_iteration
    assert best is not None and best.index == 1  # RMSE: lower is better
    assert f"validation RMSE {best.validation_metrics['rmse']:.4f}" in md
    assert "No test metrics" in _md_section(md, "Test set (held out)")


def test_partial_runs_say_what_is_missing(tmp_path: Path, build_run: Callable[..., Path]) -> None:
    run = build_run(tmp_path, kind="binary", iterations=(None, None), test=False)
    paths = write_report(run)
    md = paths["md"].read_text()
    assert "No iteration succeeded" in md and "best iteration**: none" in md
    assert _figure_ids(paths["html"].read_text()) == []  # no metric to plot, nothing crashes

    run2 = build_run(tmp_path, kind="binary", name="gone")
    (run2 / "iterations" / "01" / "validation_predictions.csv").unlink()
    (run2 / "best" / "inference.py").unlink()
    paths = write_report(run2)
    md = paths["md"].read_text()
    assert "validation_predictions.csv) is missing" in md
    assert "best/inference.py is missing" in md and "`best/inference.py` (MISSING)" in md
    assert _figure_ids(paths["html"].read_text()) == ["metric_history"]

    empty = build_run(tmp_path, kind="binary", name="empty", iterations=())
    assert "The run has no iterations yet." in write_report(empty)["md"].read_text()


def test_costs_known_and_unknown(tmp_path: Path, build_run: Callable[..., Path]) -> None:
    priced = build_run(tmp_path, kind="binary", name="priced", brain="llm",
                       usage=Usage(requests=3, input_tokens=1000, output_tokens=200, cost_usd=0.0125))
    md = write_report(priced, formats="md")["md"].read_text()
    assert "| $0.0125 |" in md and "**cost**: $0.0500" in md  # 4 iterations x $0.0125
    local = build_run(tmp_path, kind="binary", name="local", brain="llm",
                      usage=Usage(requests=2, cost_usd=None))
    md = write_report(local, formats=["md"])["md"].read_text()
    assert "| unknown |" in md and "**cost**: unknown" in md


def test_feature_importances_when_the_model_reports_them(binary_run: Path, monkeypatch) -> None:
    from omicsagent.ml import pipeline

    class Stub:
        def feature_importances(self) -> dict[str, float]:
            return {f"kmer_{i}": float(i) for i in range(30)} | {"nan_one": float("nan")}

    monkeypatch.setattr(pipeline.TrainedModel, "load", classmethod(lambda cls, path: Stub()))
    paths = write_report(binary_run)
    assert "importance" in _figure_ids(paths["html"].read_text())
    md = paths["md"].read_text()
    assert "| kmer_29 | 29 |" in md and "kmer_9 |" not in md  # top 10 only, largest first


def test_importances_from_plain_data_and_never_unpickled_for_llm_runs(tmp_path: Path, build_run: Callable[..., Path],
                                                                      monkeypatch) -> None:
    from omicsagent.ml import pipeline

    def refuse(cls, path):
        raise AssertionError("a model written by an LLM brain was loaded outside the sandbox")

    monkeypatch.setattr(pipeline.TrainedModel, "load", classmethod(refuse))
    run = build_run(tmp_path, kind="binary", brain="llm", usage=Usage(requests=1, cost_usd=0.01))
    assert "not loaded outside the sandbox" in write_report(run)["md"].read_text()

    (run / "best" / "model" / "model.json").write_text(json.dumps({"feature_importances": {"TATAAT": 0.7, "GC": -0.2}}))
    paths = write_report(run)
    assert "| TATAAT | 0.7 |\n| GC | -0.2 |" in paths["md"].read_text()
    assert "importance" in _figure_ids(paths["html"].read_text())
    (run / "best" / "model" / "feature_importances.json").write_text(json.dumps([["ACGT", 3], ["bad", "x"]]))
    assert "| ACGT | 3 |" in write_report(run, formats="md")["md"].read_text()


def test_model_without_importances_is_skipped_gracefully(binary_run: Path) -> None:
    md = write_report(binary_run)["md"].read_text()  # best/model holds junk bytes
    assert "not saved as an omicsagent TrainedModel, so feature importances are skipped" in md


def test_failure_summary_keeps_the_exception_line() -> None:
    text = ("training: train.py failed: Traceback (most recent call last):\n  File \"train.py\", line 1\n"
            "NameError: name 'this' is not defined\n")
    assert failure_summary(text) == "training: train.py failed: NameError: name 'this' is not defined"
    assert failure_summary("timed out after 60 s\nmore") == "timed out after 60 s"
    assert failure_summary("") == ""


def test_user_mistakes(tmp_path: Path, binary_run: Path) -> None:
    with pytest.raises(InputError, match="choose html or md"):
        write_report(binary_run, formats=("pdf",))
    with pytest.raises(RunStateError, match="not an omicsagent run"):
        write_report(tmp_path / "nothing")
    (binary_run / "journal.json").write_text("{broken")
    with pytest.raises(RunStateError, match="corrupted"):
        write_report(binary_run)


def test_metrics_json_is_not_required(binary_run: Path) -> None:
    (binary_run / "best" / "metrics.json").unlink()
    assert "`best/metrics.json` (MISSING)" in write_report(binary_run)["md"].read_text()
    assert json.loads((binary_run / "journal.json").read_text())["run_id"]
