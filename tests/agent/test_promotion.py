"""Promotion to best/ is atomic: the new folder replaces the old one in one rename (renameat2
RENAME_EXCHANGE), best/ is always a whole real folder, and a promotion that fails midway leaves the old best/
as it was."""
from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pytest

from omicsagent.agent import harness
from omicsagent.agent.journal import IterationRecord, RunJournal, RunSettings
from omicsagent.agent.layout import RunLayout
from omicsagent.tasks import load_task
from omicsagent.testing import make_motif_task


@pytest.fixture
def run(tmp_path: Path):
    """A run folder with iterations whose files say which iteration they are; add them with ``add(score)``."""
    task = load_task(make_motif_task(tmp_path / "data", n=60, n_test=0))
    layout = RunLayout.at(tmp_path / "run")
    journal = RunJournal(run_id="t", settings=RunSettings(), task=task)

    def add(score: float) -> int:
        i = len(journal.iterations)
        files = layout.iteration_files(i)
        files.model_dir.mkdir(parents=True)
        files.train_script.write_text(f"# train {i}\n")
        files.inference_script.write_text(f"# inference {i}\n")
        for k in range(5):
            (files.model_dir / f"part{k}.bin").write_bytes(bytes([i]) * 10_000)
        journal.iterations.append(IterationRecord(index=i, status="succeeded", dir=layout.run_rel(files.dir),
                                                  validation_metrics={task.metric: score}))
        return i

    return layout, journal, add


def shown(layout: RunLayout) -> tuple[int, str, set[bytes]]:
    """(metrics.json's iteration, inference.py, the distinct model bytes): all must agree."""
    best = layout.best
    parts = {p.read_bytes()[:1] for p in (best / "model").iterdir()}
    return (
        json.loads((best / "metrics.json").read_text())["iteration"],
        (best / "inference.py").read_text(),
        parts,
    )


def leftovers(layout: RunLayout) -> list[str]:
    return sorted(p.name for p in layout.root.iterdir() if p.name.startswith(".best"))


def test_promotion_swaps_in_the_new_best(run):
    layout, journal, add = run
    add(0.7)
    harness.promote(layout, journal)
    assert shown(layout) == (0, "# inference 0\n", {b"\x00"})
    add(0.9)
    harness.promote(layout, journal)
    assert shown(layout) == (1, "# inference 1\n", {b"\x01"})
    assert layout.best.is_dir() and not layout.best.is_symlink() and leftovers(layout) == []


def test_a_promotion_that_fails_midway_leaves_the_old_best_intact(run, monkeypatch):
    layout, journal, add = run
    add(0.7)
    harness.promote(layout, journal)
    add(0.9)

    def copy_half_then_fail(src, dst, **kwargs):
        Path(dst).mkdir()
        shutil.copy2(Path(src) / "part0.bin", Path(dst) / "part0.bin")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(harness.shutil, "copytree", copy_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        harness.promote(layout, journal)
    assert shown(layout) == (0, "# inference 0\n", {b"\x00"}) and leftovers(layout) == []


def test_a_failed_swap_leaves_the_old_best_intact(run, monkeypatch):
    layout, journal, add = run
    add(0.7)
    harness.promote(layout, journal)
    add(0.9)

    def io_error(a, b):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(harness, "exchange_paths", io_error)
    with pytest.raises(OSError, match="Input/output"):
        harness.promote(layout, journal)
    assert shown(layout) == (0, "# inference 0\n", {b"\x00"}) and leftovers(layout) == []


def test_without_an_atomic_exchange_two_renames_and_recovery(run, monkeypatch):
    layout, journal, add = run
    add(0.7)
    harness.promote(layout, journal)
    add(0.9)

    def unsupported(a, b):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(harness, "exchange_paths", unsupported)
    harness.promote(layout, journal)
    assert shown(layout) == (1, "# inference 1\n", {b"\x01"}) and leftovers(layout) == []
    # a process killed between the two renames: best/ absent, the old one aside, a half-built new one
    layout.best.rename(layout.best_previous)
    layout.best_staging("dead").mkdir()
    add(0.8)  # not better: the best stays iteration 1, restored from the aside copy and promoted again
    harness.promote(layout, journal)
    assert shown(layout) == (1, "# inference 1\n", {b"\x01"}) and leftovers(layout) == []


def test_best_exists_whole_after_every_step_of_a_promotion(run, monkeypatch):
    """Each rename or exchange a promotion makes is followed by a check that best/ is there and whole; with
    two renames instead of the exchange this fails (best/ is absent between them)."""
    layout, journal, add = run
    add(0.5)
    harness.promote(layout, journal)
    add(0.6)
    states: list[tuple] = []
    real_rename, real_exchange = harness.os.rename, harness.exchange_paths

    def rename(a, b):
        real_rename(a, b)
        states.append(shown(layout) if layout.best.exists() else "missing")

    def exchange(a, b):
        real_exchange(a, b)
        states.append(shown(layout) if layout.best.exists() else "missing")

    monkeypatch.setattr(harness.os, "rename", rename)
    monkeypatch.setattr(harness, "exchange_paths", exchange)
    harness.promote(layout, journal)
    assert states == [(1, "# inference 1\n", {b"\x01"})]
