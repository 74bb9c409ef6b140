"""The runs listing on runs the real CLI wrote: nested folders, corrupted journals, the table at 80
columns."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from omicsagent.agent.journal import RunJournal, Usage
from omicsagent.errors import InputError
from omicsagent.report import list_runs, runs_table

pytestmark = pytest.mark.slow  # the runs come from the real CLI (made once per session)


def _render(table, width: int = 220) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_list_runs_finds_nested_and_unreadable_runs(tmp_path: Path, run_copy: Callable[..., Path]) -> None:
    root = tmp_path / "runs"
    a = run_copy("motif", root / "motif")
    b = run_copy("regression", root / "sweep" / "regression")
    jb = RunJournal.load(b)  # as if an LLM brain with an unknown price had made it
    jb.settings.brain = "llm"
    for it in jb.iterations:
        it.usage = Usage(requests=2, cost_usd=None)
    jb.save(b)
    broken = root / "sweep" / "seed1"
    broken.mkdir(parents=True)
    (broken / "journal.json").write_text("{not json")
    too_deep = root / "x" / "y" / "z" / "w"
    too_deep.mkdir(parents=True)
    (too_deep / "journal.json").write_text("{}")
    (root / "notes").mkdir()

    summaries = list_runs(root)
    by_path = {s.path: s for s in summaries}
    assert set(by_path) == {a, b, broken}

    ja = RunJournal.load(a)
    sa = by_path[a]
    assert (sa.status, sa.dataset, sa.brain, sa.metric) == ("finished", "motif", "expert", "AUROC")
    assert sa.best_iteration == ja.best_iteration.index
    assert sa.best_validation == ja.primary(ja.best_iteration)  # the k-fold mean on small data
    assert sa.test == ja.test_metrics["auroc"] and sa.cost_text == "-" and sa.elapsed_s == ja.elapsed_s

    sb = by_path[b]
    assert sb.metric == "RMSE" and sb.test == jb.test_metrics["rmse"] and sb.cost_text == "unknown"
    assert sb.brain == "llm"

    bad = by_path[broken]
    assert bad.status == "unreadable" and "corrupted" in bad.error

    text = _render(runs_table(summaries, root=root))
    assert "3 run(s)" in text
    assert "sweep/seed1" in text and "unreadable" in text and "seed1: " in text and "corrupted" in text
    assert (
        f"{ja.primary(ja.best_iteration):.4f} "
        f"({ja.best_iteration.index}/{len(ja.iterations)})"
        in text
    )
    assert f"{ja.test_metrics['auroc']:.4f}" in text and "AUROC" in text and "RMSE" in text
    assert "unknown" in text


def test_runs_keeps_the_run_name_whole_at_80_columns(tmp_path: Path, run_copy: Callable[..., Path]) -> None:
    long_name = "gue_prom_core_all_kmer_sweep-20260101-120000"  # 44 characters, as `run` names its folders
    run_copy("motif", tmp_path / "runs" / long_name)
    run_copy("interaction", tmp_path / "runs" / "interaction-20260101-130000")

    def listing(columns: int) -> str:
        res = subprocess.run(
            [sys.executable, "-m", "omicsagent", "runs", "runs"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": str(columns)},
            timeout=120,
            check=False,
        )
        assert res.returncode == 0, res.stderr
        return res.stdout

    narrow = listing(80)
    assert long_name in narrow and "interaction-20260101-130000" in narrow  # each on one line, untruncated
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert "finished" in narrow and "left out to fit 80 columns" in narrow
    motif = RunJournal.load(tmp_path / "runs" / long_name)
    assert f"{motif.primary(motif.best_iteration):.4f}" in narrow  # the numbers that matter stay

    wide = listing(160)  # room for everything: no column is left out
    assert long_name in wide and "expert" in wide and "AUROC" in wide and "left out" not in wide


def test_a_run_folder_itself_is_listed(run_copy: Callable[..., Path], tmp_path: Path) -> None:
    run = run_copy("motif")
    assert [s.path for s in list_runs(run)] == [run]
    assert list_runs(tmp_path / "runs" / "motif" / "workspace") == []


def test_missing_root_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        list_runs(tmp_path / "nope")
