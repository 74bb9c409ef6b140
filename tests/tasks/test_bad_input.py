"""Every bad input gets one sentence naming the file and the fix, exit code 2, no traceback, nothing
written."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omicsagent.cli import app
from omicsagent.errors import InputError
from omicsagent.tasks import Overrides, load_task



def seq(i: int) -> str:
    """A distinct 20-nt DNA sequence per row."""
    return "".join("ACGT"[(i * 7 + k * k * 3 + i // 4) % 4] for k in range(20))


GOOD = "sequence,label\n" + "\n".join(f"{seq(i)},{i % 2}" for i in range(40)) + "\n"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def run_cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


def assert_clean_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    text = result.output
    assert "Traceback" not in text
    assert text.strip().startswith("error:")
    for n in needles:
        assert n in text.replace("\n", " "), text


CASES = {
    "missing file": (lambda d: None, ["has no train.csv"]),
    "empty file": (lambda d: write(d, "train.csv", ""), ["is empty"]),
    "header only": (lambda d: write(d, "train.csv", "sequence,label\n"), ["no data rows"]),
    "bad encoding": (
        lambda d: write(
            d,
            "train.csv",
            "name,label\n" + "caf\xe9,1\n".encode("latin-1").decode("latin-1") * 1
            if False
            else b"name,label\nx\xe9\xff\xfe,1\ny,0\n",
        ),
        ["not UTF-8"],
    ),
    "duplicate columns": (
        lambda d: write(d, "train.csv", "a,a,label\n1,2,0\n3,4,1\n"),
        ["duplicate column names", "'a'"],
    ),
    "no target": (
        lambda d: write(d, "train.csv", "f1,f2,f3\n" + "\n".join(f"{i},{i * 2},{i % 3}" for i in range(30))),
        ["--target"],
    ),
    "one class": (
        lambda d: write(d, "train.csv", "sequence,label\n" + "\n".join(f"{seq(i)},1" for i in range(20))),
        ["single value", "label"],
    ),
    "nan targets": (
        lambda d: write(d, "train.csv", GOOD + "ACGTACGTACGTACGTAAAA,\nACGTACGTACGTACGTAAAA,\n"),
        ["2 row(s)", "--drop-missing-target"],
    ),
    "columns disagree": (
        lambda d: (
            write(d, "train.csv", GOOD),
            write(d, "validation.csv", "seq,label,extra\nACGTACGTAC,1,3\n"),
        ),
        ["validation.csv", "disagree"],
    ),
    "target missing from test": (
        lambda d: (write(d, "train.csv", GOOD), write(d, "test.csv", "sequence\nACGTACGTACGTACGTACGT\n")),
        ["test.csv", "no target column 'label'"],
    ),
    "truncated gzip": (lambda d: write(d, "train.csv.gz", gzip.compress(GOOD.encode())[:30]), ["gzip"]),
    "unknown metric": (lambda d: write(d, "train.csv", GOOD), None),
}


@pytest.mark.parametrize("case", [c for c in CASES if c != "unknown metric"])
def test_bad_input_is_one_sentence_exit_2_and_writes_nothing(case, tmp_path):
    folder = tmp_path / "data"
    make, needles = CASES[case]
    if case == "missing file":
        folder.mkdir()
    else:
        make(folder)
    before = sorted(os.listdir(tmp_path))
    result = run_cli("inspect", str(folder))
    assert_clean_error(result, *needles)
    assert sorted(os.listdir(tmp_path)) == before
    # a run refuses the same input before creating its output folder
    out = tmp_path / "run"
    result = run_cli("run", str(folder), "--out", str(out), "--quiet")
    assert_clean_error(result, *needles)
    assert not out.exists()


def test_drop_missing_target_drops_and_reports(tmp_path):
    folder = tmp_path / "d"
    write(folder, "train.csv", GOOD + "ACGTACGTACGTACGTAAAA,\n")
    task = load_task(folder, overrides=Overrides(drop_missing_target=True))
    assert task.n_train == 40 and task.n_dropped_missing_target == 1


def test_metric_must_fit_the_task(tmp_path):
    write(tmp_path / "d", "train.csv", GOOD)
    result = run_cli("inspect", str(tmp_path / "d"), "--metric", "rmse")
    assert_clean_error(result, "does not apply to a binary task")
    task = load_task(tmp_path / "d", overrides=Overrides(metric="AUPRC"))
    assert task.metric == "auprc"


def test_two_plausible_targets_ask_the_user(tmp_path):
    rows = "\n".join(f"{seq(i)},{i % 2},{(i // 2) % 2}" for i in range(40))
    write(tmp_path / "d", "train.csv", "sequence,label,target\n" + rows)
    result = run_cli("inspect", str(tmp_path / "d"))
    assert_clean_error(result, "--target")
    assert load_task(tmp_path / "d", overrides=Overrides(target="target")).target == "target"


def test_task_toml_overrides_detection(tmp_path):
    folder = tmp_path / "d"
    write(
        folder,
        "train.csv",
        "sequence,label,batch\n" + "\n".join(f"{seq(i)},{i % 2},{i % 3}" for i in range(40)),
    )
    write(folder, "task.toml", 'target = "label"\nmetric = "mcc"\ngroup_column = "batch"\n')
    task = load_task(folder)
    assert task.metric == "mcc" and task.group_column == "batch"
    write(folder, "task.toml", 'target = ["label", "batch"]\n')
    with pytest.raises(InputError, match="'batch' .* not only 0/1"):
        load_task(folder)
    write(folder, "task.toml", "target = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_task(folder)


def test_broken_h5ad_is_refused_clearly(tmp_path):
    write(tmp_path / "sc", "cells.h5ad", b"\x89HDF")
    assert_clean_error(run_cli("inspect", str(tmp_path / "sc")), "cells.h5ad", "not a readable AnnData")


def test_tsv_parquet_and_gzip_load(tmp_path):
    import pandas as pd

    df = pd.read_csv(__import__("io").StringIO(GOOD))
    (tmp_path / "a").mkdir()
    df.to_csv(tmp_path / "a" / "train.tsv", sep="\t", index=False)
    (tmp_path / "b").mkdir()
    df.to_parquet(tmp_path / "b" / "train.parquet")
    (tmp_path / "c").mkdir()
    df.to_csv(tmp_path / "c" / "train.csv.gz", index=False)
    for sub in "abc":
        task = load_task(tmp_path / sub)
        assert task.target == "label" and task.n_train == 40
        assert task.column("sequence").role == "dna"
