"""The runs listing: nested run folders, corrupted journals, the rich table."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from omicsagent.agent.journal import RunJournal, Usage
from omicsagent.errors import InputError
from omicsagent.report import list_runs, runs_table


def _render(table) -> str:
    console = Console(width=220, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_list_runs_finds_nested_and_unreadable_runs(tmp_path: Path, build_run: Callable[..., Path]) -> None:
    a = build_run(tmp_path, kind="binary", name="alpha")
    b = build_run(tmp_path, kind="regression", name="beta", iterations=(0.5, None), test=False, brain="llm",
                  usage=Usage(requests=2, cost_usd=None))
    nested = tmp_path / "runs" / "sweep" / "seed1"
    nested.mkdir(parents=True)
    (nested / "journal.json").write_text("{not json")
    too_deep = tmp_path / "runs" / "x" / "y" / "z" / "w"
    too_deep.mkdir(parents=True)
    (too_deep / "journal.json").write_text("{}")
    (tmp_path / "runs" / "notes").mkdir()

    summaries = list_runs(tmp_path / "runs")
    by_path = {s.path: s for s in summaries}
    assert set(by_path) == {a, b, nested}

    ja = RunJournal.load(a)
    sa = by_path[a]
    assert (sa.status, sa.dataset, sa.brain, sa.metric) == ("finished", "alpha", "expert", "AUROC")
    assert sa.best_iteration == ja.best_iteration.index
    assert sa.best_validation == ja.best_iteration.validation_metrics["auroc"]
    assert sa.test == ja.test_metrics["auroc"] and sa.cost_text == "-" and sa.elapsed_s == 75.0

    sb = by_path[b]
    assert sb.metric == "RMSE" and sb.test is None and sb.cost_text == "unknown" and sb.brain == "llm"

    bad = by_path[nested]
    assert bad.status == "unreadable" and "corrupted" in bad.error

    text = _render(runs_table(summaries, root=tmp_path / "runs"))
    assert "3 run(s)" in text
    assert "sweep/seed1" in text and "unreadable" in text and "seed1: " in text and "corrupted" in text
    assert f"{ja.best_iteration.validation_metrics['auroc']:.4f} (1/4)" in text
    assert f"{ja.test_metrics['auroc']:.4f}" in text and "AUROC" in text and "RMSE" in text
    assert "1m15s" in text and "unknown" in text


def test_a_run_folder_itself_is_listed(tmp_path: Path, build_run: Callable[..., Path]) -> None:
    run = build_run(tmp_path, kind="binary")
    assert [s.path for s in list_runs(run)] == [run]
    assert list_runs(tmp_path / "datasets") == []


def test_missing_root_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        list_runs(tmp_path / "nope")
