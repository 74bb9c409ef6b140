"""Bad options and files through the real CLI: exit code 2, one sentence without a traceback, nothing written.

Errors that depend on nothing relative are checked with typer's CliRunner on the real app (fast); paths are
checked by running ``omicsagent`` in a subprocess from another working directory with relative paths.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from omicsagent.agent.progress import ConsoleProgress
from omicsagent.agent.runner import MIN_ITERATION_S
from omicsagent.cli import app
from omicsagent.ml.metrics import metrics_for

EXE = [sys.executable, "-m", "omicsagent"]


def seq(i: int) -> str:
    return "".join("ACGT"[(i * 7 + k * k * 3 + i // 4) % 4] for k in range(20))


def write_dataset(folder: Path, *, rows: int = 40, label=lambda i: i % 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["sequence,label,score,batch"]
    lines += [f"{seq(i)},{label(i)},{(i * 37 % 101) / 7:.4f},{i % 3}" for i in range(rows)]
    (folder / "train.csv").write_text("\n".join(lines) + "\n")
    return folder


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def one_sentence(text: str) -> str:
    """The error line; fails unless the output is exactly one line 'error: ... .' with no traceback."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert "Traceback" not in text, text
    assert len(lines) == 1, text
    assert lines[0].startswith("error: ") and lines[0].endswith("."), text
    return lines[0]


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def shell(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*EXE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200", **env},
    )


# (extra arguments, what the sentence must say); each is refused by both inspect and run
OPTION_CASES = {
    "all-NaN target dropped": (
        ["--target", "label", "--drop-missing-target"],
        ["every row", "missing target 'label'"],
    ),
    "unknown task type": (
        ["--task-type", "foo"],
        ["--task-type 'foo' is not a task type", "binary, multiclass, regression or multilabel"],
    ),
    "continuous target forced binary": (
        ["--target", "score", "--task-type", "binary"],
        ["'score' has", "cannot be a binary task", "--task-type regression"],
    ),
    "continuous target forced multiclass": (
        ["--target", "score", "--task-type", "multiclass"],
        ["continuous numbers", "--task-type regression"],
    ),
    "ignore the target": (["--ignore", "label"], ["'label' given to --ignore", "is the target"]),
    "ignore a missing column": (
        ["--ignore", "nope"],
        ["'nope' given to --ignore", "not in the training data", "columns: sequence, label, score, batch"],
    ),
    "group a missing column": (["--group", "nope"], ["'nope' given to --group"]),
    "several targets, one not 0/1": (
        ["--target", "label", "--target", "score"],
        ["the target column 'score'", "not only 0/1", "cannot be one of several labels"],
    ),
    "unknown metric": (
        ["--metric", "foo"],
        ["unknown metric 'foo'", ", ".join(m.name for m in metrics_for("binary"))],
    ),
}


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_bad_options_are_one_sentence_and_write_nothing(case, tmp_path):
    args, needles = OPTION_CASES[case]
    data = write_dataset(
        tmp_path / "data", label=(lambda i: "") if case == "all-NaN target dropped" else (lambda i: i % 2)
    )
    before = tree(tmp_path)
    for command in (["inspect", str(data)], ["run", str(data), "--out", str(tmp_path / "run"), "--quiet"]):
        result = cli(*command, *args)
        assert result.exit_code == 2, result.output
        line = one_sentence(result.output)
        for needle in needles:
            assert needle in line, line
        assert tree(tmp_path) == before


@pytest.mark.parametrize(
    "toml, needles",
    [
        ('target = "label"\nfoo = 1\n', ["unknown key 'foo'", "use only target, task_type"]),
        ('[task]\ntask_type = "foo"\n', ["sets task_type to 'foo', which is not a task type"]),
        ("[task]\nid_columns = 3\n", ["sets id_columns to 3, which is invalid"]),
        ('metric = "auroc"\n[task]\ntarget = "label"\n', ["'metric' outside its [task] section"]),
        (
            'ignore_columns = ["label"]\n',
            ["'label' given to --ignore (or ignore_columns in task.toml) is the target"],
        ),
    ],
)
def test_bad_task_toml_is_one_sentence(toml, needles, tmp_path):
    data = write_dataset(tmp_path / "data")
    (data / "task.toml").write_text(toml)
    before = tree(tmp_path)
    result = cli("inspect", str(data))
    assert result.exit_code == 2, result.output
    line = one_sentence(result.output)
    for needle in needles:
        assert needle in line, line  # "[task]" is printed as typed, not swallowed as markup
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--seed", "-1"], "--seed -1 is out of range"),
        (["--seed", str(2**32)], "out of range"),
        (["--time-budget", "0"], f"shorter than the {MIN_ITERATION_S:g} s one iteration needs"),
        (["--time-budget", "5"], f"--time-budget 5 is shorter than the {MIN_ITERATION_S:g} s"),
        (["--time-budget", f"{MIN_ITERATION_S - 1:g}s"], "shorter than"),
        (["--time-budget", "soon"], "is not a duration"),
    ],
)
def test_bad_run_options_are_refused_before_anything_is_written(args, needle, tmp_path, monkeypatch):
    data = write_dataset(tmp_path / "data")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = cli("run", "../data", "--quiet", *args)  # default --out: runs/<name>-<time>
    assert result.exit_code == 2, result.output
    assert needle in one_sentence(result.output)
    assert tree(work) == [] and tree(data) == ["train.csv"]


def test_a_budget_at_the_minimum_is_accepted(tmp_path):
    data = write_dataset(tmp_path / "data")
    # refused only for a reason later than the budget check: the dataset's target is asked for
    result = cli(
        "run",
        str(data),
        "--time-budget",
        f"{MIN_ITERATION_S:g}s",
        "--target",
        "nope",
        "--out",
        str(tmp_path / "run"),
    )
    assert result.exit_code == 2 and "target column 'nope' is not in" in one_sentence(result.output)


def test_demo_refuses_a_short_budget_before_writing_its_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("demo", "--time-budget", "5")
    assert result.exit_code == 2 and "--time-budget 5 is shorter" in one_sentence(result.output)
    assert tree(tmp_path) == []


def test_out_that_is_a_file_or_cannot_be_created(tmp_path, monkeypatch):
    write_dataset(tmp_path / "data")
    work = tmp_path / "work"
    work.mkdir()
    (work / "afile").write_text("keep me\n")
    before = tree(tmp_path)
    result = shell(["run", "../data", "--out", "afile", "--quiet"], cwd=work)
    assert result.returncode == 2
    assert (
        one_sentence(result.stderr)
        == "error: --out afile is an existing file; give a folder that does not exist yet."
    )
    result = shell(["run", "../data", "--out", "afile/run", "--quiet"], cwd=work)
    assert result.returncode == 2
    assert f"--out afile/run cannot be created because {work / 'afile'} is a file" in one_sentence(
        result.stderr
    )
    if Path("/proc").is_dir():  # not creatable even by root
        monkeypatch.chdir(work)
        result = cli("run", "../data", "--out", "/proc/omicsagent-run", "--quiet")
        assert result.exit_code == 2 and "cannot be created in /proc" in one_sentence(result.output)
    assert tree(tmp_path) == before and (work / "afile").read_text() == "keep me\n"


def test_user_text_prints_as_typed_and_commands_are_shell_quoted(tmp_path, monkeypatch):
    """A path like 'runs/my run [v1]' is neither swallowed as markup nor pasted unquoted."""
    write_dataset(tmp_path / "data")
    work = tmp_path / "work"
    (work / "runs" / "my run [v1]").mkdir(parents=True)
    (work / "runs" / "my run [v1]" / "journal.json").write_text("{}")
    result = shell(["run", "../data", "--out", "runs/my run [v1]", "--quiet"], cwd=work)
    assert result.returncode == 2
    line = one_sentence(result.stderr)
    assert "runs/my run [v1] already holds a run" in line
    assert "`omicsagent resume 'runs/my run [v1]'`" in line
    # a folder name that looks like markup, and a closing tag that would crash rich
    monkeypatch.chdir(work)
    for name in ("data [v1]", "data [/x]"):
        result = cli("inspect", name)
        assert result.exit_code == 2 and f"{name} does not exist" in one_sentence(result.output)


def test_config_section_names_print_as_typed(tmp_path):
    data = write_dataset(tmp_path / "data")
    (tmp_path / "bad.toml").write_text("llm = 3\n")
    result = cli(
        "run",
        str(data),
        "--brain",
        "llm",
        "--config",
        str(tmp_path / "bad.toml"),
        "--out",
        str(tmp_path / "run"),
    )
    assert result.exit_code == 2
    assert "has an [llm] entry that is not a table; write it as an [llm] section." in one_sentence(
        result.output
    )
    assert not (tmp_path / "run").exists()


def test_task_card_shows_column_names_as_typed(tmp_path, monkeypatch):
    folder = tmp_path / "d"
    folder.mkdir()
    rows = [f"{seq(i)},{i % 2},{i * 3 % 7}" for i in range(40)]
    (folder / "train.csv").write_text("sequence,label,[bold]depth[/bold]\n" + "\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    result = cli("inspect", "d")
    assert result.exit_code == 0, result.output
    assert "[bold]depth[/bold]" in result.output


def test_progress_lines_print_names_and_errors_as_typed():
    buf = io.StringIO()
    progress = ConsoleProgress(Console(file=buf, width=300, highlight=False))
    progress.event(
        "run_start",
        run_id="r1",
        task="my data [v1]",
        brain="expert",
        iterations=2,
        budget_s=60,
        sandbox="bwrap",
        elapsed_s=0.0,
    )
    progress.event(
        "step_failed", step="training", error="KeyError: [/x] not found", elapsed_s=1.0, budget_s=60
    )
    progress.event("log", message="wrote runs/my run [v1]/best", elapsed_s=2.0, budget_s=60)
    text = buf.getvalue()
    assert "my data [v1]" in text and "KeyError: [/x] not found" in text and "runs/my run [v1]/best" in text
