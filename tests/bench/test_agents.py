"""Agents turn public/ into submission.csv; they never see private/ (nor the data, the results, secrets)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from omicsagent.bench.agents import parse_agents, parse_external
from omicsagent.errors import ConfigError

from .conftest import cli

SPY = r"""
import json, os, shutil, sys

public, out, limit = sys.argv[1], sys.argv[2], sys.argv[3]
report = {"time_limit": limit}

def attempt(name, fn):
    try:
        fn()
        report[name] = "READ"
    except Exception as err:
        report[name] = type(err).__name__

up = os.path.join(public, "..")
attempt("answers", lambda: open(os.path.join(up, "private", "answers.csv")).read())
attempt("task_toml", lambda: open(os.path.join(up, "task.toml")).read())
attempt("host_answers", lambda: open("HOST_ANSWERS").read())  # the real path on the host
attempt("data_test", lambda: open("HOST_DATA_TEST").read())  # the original labelled test table
attempt("write_public", lambda: open(os.path.join(public, "x.csv"), "w").write("x"))
report["next_to_public"] = sorted(os.listdir(up))
report["answers_found"] = []
for r, ds, fs in os.walk("/"):  # everything it can see but the system folders, which are not descended
    ds[:] = [d for d in ds if os.path.join(r, d) not in ("/proc", "/sys", "/usr", "/dev")]
    report["answers_found"] += [os.path.join(r, f) for f in fs
                                if f in ("answers.csv", "test.csv") and "public" not in r]
report["secret"] = os.environ.get("SPY_SECRET")
shutil.copyfile(os.path.join(public, "sample_submission.csv"), os.path.join(out, "submission.csv"))
with open(os.path.join(out, "solution.py"), "w") as fh:
    fh.write("# copied the sample submission\n")
json.dump({"input_tokens": 12, "output_tokens": 3, "cost_usd": 0.25},
          open(os.path.join(out, "metrics.json"), "w"))
json.dump(report, open(os.path.join(out, "spy.json"), "w"))
"""


@pytest.mark.slow
def test_an_external_agent_cannot_read_private_answers(tmp_path: Path, motif_task, motif_dataset: Path,
                                                      monkeypatch) -> None:
    (tmp_path / "spy.py").write_text(SPY.replace("HOST_ANSWERS", motif_task.answers)
                                     .replace("HOST_DATA_TEST", str(motif_dataset / "test.csv")))
    monkeypatch.setenv("SPY_SECRET", "s3cr3t")
    res = cli(
        "bench",
        "run",
        "tasks/motif",
        "--agents",
        "spy",
        "--agent",
        "spy=python spy.py {public} {out} {time_limit}",
        "--time-limit",
        "2m",
        "--out",
        "results",
        cwd=tmp_path,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    rec = json.loads((tmp_path / "results" / "results" / "spy__motif__seed0.json").read_text())
    assert rec["status"] == "succeeded" and rec["raw_score"] == pytest.approx(0.5)  # the sample submission
    spy = json.loads(next((tmp_path / "results" / "jobs").rglob("spy.json")).read_text())
    assert (
        spy["answers"] == spy["task_toml"] == spy["host_answers"] == spy["data_test"] == "FileNotFoundError"
    )
    assert spy["write_public"] in ("OSError", "PermissionError")  # read-only
    assert spy["next_to_public"] == ["public"]
    assert spy["answers_found"] == [] and spy["secret"] is None and spy["time_limit"] == "120"
    # what the job recorded
    assert rec["llm"] == {"input_tokens": 12, "output_tokens": 3, "cost_usd": 0.25, "self_reported": True}
    assert any(p.endswith("solution.py") for p in rec["artifacts"]["solution"])
    assert rec["wall_s"] > 0 and rec["peak_memory_mb"] > 0 and rec["cpu_s"] >= 0
    assert "[1/1] spy on motif (seed 0): auroc 0.5" in res.stderr


def test_an_agent_command_naming_benchmark_data_is_refused(tmp_path: Path, motif_task) -> None:
    res = cli("bench", "run", "tasks/motif", "--agent", "cheat=cat tasks/motif/private/answers.csv {out}",
              "--agents", "cheat", "--out", "results", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "benchmark data or answers" in res.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("names,defs,message", [
    (["nope"], [], "unknown agent 'nope'"),
    (["llm:gpt"], [], "llm:PROVIDER:MODEL"),
    (["x"], ["x=python a.py {public}"], "must contain {out}"),
    (["x"], ["x=run {public} {out} {secret}"], "unknown placeholder {secret}"),
    (["expert", "expert"], [], "listed twice"),
])
def test_agent_names_are_checked(names, defs, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("(", r"\(")):
        parse_agents(names, parse_external(defs))


def test_builtin_agent_names() -> None:
    specs = parse_agents(["expert", "baseline:floor", "llm:openai:gpt-4.1"], parse_external(["mine=a {out}"]))
    assert [(s.name, s.kind, s.model) for s in specs] == [
        ("expert", "expert", None),
        ("baseline:floor", "floor", None),
        ("llm:openai:gpt-4.1", "llm", "openai:gpt-4.1"),
        ("mine", "external", None),
    ]


def test_floor_public_view_builds_the_submission_columns(tmp_path: Path, motif_task) -> None:
    from omicsagent.bench.agents.floor import fit_predict

    pub, preds, rep, model = fit_predict(motif_task.public, seed=0, log=lambda _: None)
    assert pub.target == "label" and pub.id_column == "id"
    assert [b["kind"] for b in rep["blocks"]] == ["kmer"] and model["kind"] == "linear"
    assert len(preds) == len(pd.read_csv(motif_task.public / "test.csv"))


@pytest.mark.slow
def test_the_autogluon_baseline_runs_when_installed_and_is_skipped_with_the_fix_when_not(
        tmp_path: Path, tabular_dataset: Path) -> None:
    from omicsagent.bench.agents import autogluon_available
    from omicsagent.bench.prepare import prepare_dataset

    prepare_dataset(tabular_dataset, tmp_path / "tasks" / "tab", domain="tables")
    res = cli("bench", "run", "tasks/tab", "--agents", "baseline:autogluon,baseline:floor", "--time-limit",
              "60s", "--out", "results", cwd=tmp_path, timeout=400)
    assert res.returncode == 0, res.stderr[-2000:]
    results = {p.name for p in (tmp_path / "results" / "results").iterdir()}
    if not autogluon_available():
        assert "skipping baseline:autogluon" in res.stderr and "requirements-autogluon.lock" in res.stderr
        assert results == {"baseline_floor__tab__seed0.json"}
        return
    rec = json.loads((tmp_path / "results" / "results" / "baseline_autogluon__tab__seed0.json").read_text())
    assert rec["success"], rec["reason"]
    assert rec["raw_score"] < 1.0 and rec["score"] > 0.5  # RMSE well below the constant baseline's
    assert rec["wall_s"] <= 60 + 30
