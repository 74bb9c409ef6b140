from __future__ import annotations

import os
from pathlib import Path

import pytest

from omicsagent.errors import InputError, ModelMistake, RunStateError
from omicsagent.sandbox import Workspace


def test_create_makes_layout_and_open_reopens(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "run" / "workspace")
    assert [p.name for p in (ws.inputs, ws.scratch, ws.artifacts)] == ["inputs", "scratch", "artifacts"]
    assert all(p.is_dir() for p in (ws.inputs, ws.scratch, ws.artifacts))
    assert Workspace.open(tmp_path / "run" / "workspace") == ws
    with pytest.raises(InputError, match="Workspace.open"):
        Workspace.create(ws.root)


def test_open_rejects_incomplete_workspace(tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    with pytest.raises(RunStateError, match="scratch/, artifacts/"):
        Workspace.open(tmp_path)


def test_add_input_copies_file_and_folder_not_links(tmp_path: Path, ws: Workspace) -> None:
    src = tmp_path / "train.csv"
    src.write_text("a,b\n1,2\n")
    dest = ws.add_input(src, name="data.csv")
    assert dest == ws.inputs / "data.csv" and not dest.is_symlink()
    src.write_text("changed")  # a copy does not follow the original
    assert dest.read_text() == "a,b\n1,2\n"

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "x.txt").write_text("x")
    (folder / "link.txt").symlink_to(src)
    copied = ws.add_input(folder)
    assert (copied / "x.txt").read_text() == "x"
    assert not (copied / "link.txt").is_symlink() and (copied / "link.txt").read_text() == "changed"


def test_add_input_refuses_bad_names_duplicates_and_missing(tmp_path: Path, ws: Workspace) -> None:
    src = tmp_path / "a.csv"
    src.write_text("1")
    for bad in ("../escape.csv", "/etc/x.csv", "."):
        with pytest.raises(InputError, match="plain relative name"):
            ws.add_input(src, name=bad)
    ws.add_input(src)
    with pytest.raises(InputError, match="already"):
        ws.add_input(src)
    src.write_text("2")
    assert ws.add_input(src, overwrite=True).read_text() == "2"
    with pytest.raises(InputError, match="does not exist"):
        ws.add_input(tmp_path / "missing.csv")


def test_confine_accepts_paths_inside(ws: Workspace) -> None:
    assert ws.confine("scratch/train.py") == ws.scratch / "train.py"
    assert ws.confine(ws.artifacts / "model") == ws.artifacts / "model"
    assert ws.confine("scratch/../artifacts/x") == ws.artifacts / "x"
    assert ws.confine(".") == ws.root
    (ws.scratch / "inner").symlink_to(ws.inputs)  # a link that stays inside is fine
    assert ws.confine("scratch/inner/a.csv") == ws.inputs / "a.csv"


@pytest.mark.parametrize("bad", ["..", "../other", "scratch/../../x", "/etc/passwd", "/tmp", "a\x00b"])
def test_confine_rejects_escapes(ws: Workspace, bad: str) -> None:
    with pytest.raises(ModelMistake):
        ws.confine(bad)


def test_confine_rejects_symlinks_pointing_out_and_loops(tmp_path: Path, ws: Workspace) -> None:
    (tmp_path / "secret.txt").write_text("s")
    (ws.scratch / "out").symlink_to(tmp_path)
    (ws.scratch / "file").symlink_to(tmp_path / "secret.txt")
    os.symlink("loop", ws.scratch / "loop")
    for bad in ("scratch/out/secret.txt", "scratch/file", "scratch/out"):
        with pytest.raises(ModelMistake, match="outside the workspace"):
            ws.confine(bad)
    with pytest.raises(ModelMistake):
        ws.confine("scratch/loop/x")


def test_confine_writable_only_scratch_and_artifacts(ws: Workspace) -> None:
    assert ws.confine("artifacts/m.pkl", writable=True) == ws.artifacts / "m.pkl"
    for bad in ("inputs/train.csv", "notes.txt", "."):
        with pytest.raises(ModelMistake, match="not writable"):
            ws.confine(bad, writable=True)
