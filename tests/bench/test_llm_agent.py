"""`llm:PROVIDER:MODEL` through the arena: the LLM brain drives the real loop against a local
OpenAI-compatible server over real HTTP; tokens and cost reach the job's result; the key never reaches
a file."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omicsagent.bench.prepare import prepare_dataset
from omicsagent.testing_llm import FakeOpenAIServer

from .conftest import cli

SECRET = "sk-bench-DO-NOT-LEAK-0123456789"
PLAYBOOKS = Path(__file__).resolve().parents[1] / "llm" / "playbooks.py"


def _playbook():
    spec = importlib.util.spec_from_file_location("llm_playbooks", PLAYBOOKS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.full_playbook()


def _gc_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        p = [0.15, 0.35, 0.35, 0.15] if i % 2 else [0.35, 0.15, 0.15, 0.35]
        rows.append({"sequence": "".join(rng.choice(list("ACGT"), size=40, p=p)), "label": i % 2})
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_llm_agent_through_the_arena(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data" / "gc"
    data.mkdir(parents=True)
    _gc_frame(160, 0).to_csv(data / "train.csv", index=False)
    _gc_frame(60, 1).to_csv(data / "test.csv", index=False)
    prepare_dataset(data, tmp_path / "tasks" / "gc")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    (tmp_path / "llm.toml").write_text(
        '[llm]\nprice_model = "openai:gpt-4.1"\n'
    )  # a local server has no price
    with FakeOpenAIServer(_playbook(), usage=(1000, 100)) as server:
        res = cli(
            "bench",
            "run",
            "tasks/gc",
            "--agents",
            "llm:openai:gpt-4.1",
            "--base-url",
            server.url,
            "--llm-config",
            "llm.toml",
            "--time-limit",
            "120s",  # room for the small-data 5-fold check on a loaded 2-core machine
            "--iterations",
            "2",  # the playbook's first two: enough for tokens, cost and a graded submission
            "--out",
            "results",
            cwd=tmp_path,
            timeout=400,
        )
        assert res.returncode == 0, res.stderr
        assert server.requests, "the brain never called the server"
    rec = json.loads((tmp_path / "results" / "results" / "llm_openai_gpt-4.1__gc__seed0.json").read_text())
    assert rec["success"], rec["reason"]
    assert rec["raw_score"] > 0.8
    assert rec["llm"]["input_tokens"] >= 1000 and rec["llm"]["output_tokens"] >= 100
    assert rec["cost_usd"] > 0
    leaked = [
        p for p in (tmp_path / "results").rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    assert leaked == []
