"""The LLM brain fails fast and honestly, through the real CLI: a server that is not listening or a rejected
key stops the run before its folder exists; --max-cost is enforced or refused, never silently ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omicsagent.cli import app
from omicsagent.testing_llm import FakeOpenAIServer, Playbook, fault, final

from .conftest import make_dataset

EXE = [sys.executable, "-m", "omicsagent"]
BOOK = Playbook(
    {"exploration": [final(summary="two classes of GC-rich and AT-rich sequences")]},
    default=final(summary="unused"),
)


def omicsagent(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_BASE_URL")) and k != "OMICSAGENT_MODEL"
    }
    return subprocess.run(
        [*EXE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**clean, "COLUMNS": "200", **env},
    )


def error_line(output: str) -> str:
    """The one error line of a refused command (and no traceback)."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert "Traceback" not in output, output
    assert lines and lines[-1].startswith("error: "), output
    return lines[-1]


@pytest.fixture
def work(tmp_path: Path, monkeypatch) -> Path:
    """``tmp/work`` as the working directory, the dataset in ``../data``, no LLM variables from outside."""
    make_dataset(tmp_path / "data", n=60)
    (tmp_path / "work").mkdir()
    for name in [k for k in os.environ if k.endswith(("_API_KEY", "_BASE_URL")) or k == "OMICSAGENT_MODEL"]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path / "work"


def cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_local_server_that_is_not_listening_stops_before_the_run_folder(work, refused_port):
    """As a user types it, in a subprocess: Ollama's default URL, here from the environment."""
    url = f"http://127.0.0.1:{refused_port}/v1"
    result = omicsagent(
        ["run", "../data", "--brain", "llm", "--model", "ollama:llama3.1"], cwd=work, OLLAMA_BASE_URL=url
    )
    assert result.returncode == 2
    assert error_line(result.stderr) == f"error: cannot reach {url} — is `ollama serve` running?"
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    "model, hint",
    [
        ("vllm:Qwen/Qwen2.5-Coder-7B-Instruct", "— is `vllm serve Qwen/Qwen2.5-Coder-7B-Instruct` running?"),
        (
            "openai:my-model",
            (
                "(connection refused) — is the server running, and is its URL (--base-url or the config "
                "file) right?"
            ),
        ),
    ],
)
def test_every_local_server_is_checked(work, model, hint, refused_port):
    url = f"http://127.0.0.1:{refused_port}/v1"
    code, output = cli(
        "run", "../data", "--brain", "llm", "--model", model, "--base-url", url, "--out", "run"
    )
    assert code == 2
    assert error_line(output) == f"error: cannot reach {url} {hint}"
    assert list(work.iterdir()) == []


def test_a_rejected_key_stops_before_the_run_folder(work, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-a-wrong-key")
    with FakeOpenAIServer(BOOK, api_key="sk-the-right-key") as server:
        url = server.url
        code, output = cli(
            "run", "../data", "--brain", "llm", "--model", "openai:gpt-4.1", "--base-url", url, "--out", "run"
        )
    assert code == 2
    assert (
        error_line(output) == f"error: The openai server at {url} rejected the API key; check OPENAI_API_KEY."
    )
    assert server.listings == 1 and server.requests == []  # one free check, no chat request
    assert list(work.iterdir()) == []
    assert "sk-a-wrong-key" not in output


@pytest.mark.slow
def test_a_key_rejected_during_the_run_ends_it_failed_with_the_reason(work):
    """A server that lists models without a key but rejects the chat request: the run folder exists by
    then, so the journal must say failed (and why), never running."""
    with FakeOpenAIServer(BOOK) as server:
        server.inject([fault(401)])
        result = omicsagent(
            [
                "run",
                "../data",
                "--brain",
                "llm",
                "--model",
                "openai:gpt-4.1",
                "--base-url",
                server.url,
                "--out",
                "run",
                "--time-budget",
                "60s",
            ],
            cwd=work,
            OPENAI_API_KEY="sk-x",
        )
    assert result.returncode == 2
    assert "rejected the API key; check OPENAI_API_KEY." in error_line(result.stderr)
    journal = json.loads((work / "run" / "journal.json").read_text())
    assert journal["status"] == "failed" and "rejected the API key" in journal["status_reason"]


def test_max_cost_with_an_unknown_price_is_refused(work):
    with FakeOpenAIServer(BOOK, model_name="llama3.1") as server:
        code, output = cli(
            "run",
            "../data",
            "--brain",
            "llm",
            "--model",
            "ollama:llama3.1",
            "--base-url",
            server.url,
            "--max-cost",
            "1",
            "--out",
            "run",
        )
    assert code == 2
    line = error_line(output)
    assert "--max-cost cannot be enforced because the price of ollama:llama3.1 is unknown" in line
    assert "price_model" in line and "[llm] section" in line  # printed as typed, not eaten as markup
    assert server.requests == [] and list(work.iterdir()) == []


@pytest.mark.slow
def test_once_the_cost_cap_is_reached_no_step_is_attempted(work):
    """Explicit prices make a local model priced: $0.0028 a request (1000 input tokens at $2/M, 100 output
    tokens at $8/M). With --max-cost 0.002 the first answer reaches the cap; nothing is attempted after it."""
    (work / "llm.toml").write_text("[llm]\nprice_input_per_mtok = 2.0\nprice_output_per_mtok = 8.0\n")
    with FakeOpenAIServer(BOOK, model_name="llama3.1", usage=(1000, 100)) as server:
        result = omicsagent(
            [
                "run",
                "../data",
                "--brain",
                "llm",
                "--model",
                "ollama:llama3.1",
                "--base-url",
                server.url,
                "--config",
                "llm.toml",
                "--max-cost",
                "0.002",
                "--iterations",
                "3",
                "--time-budget",
                "120s",
                "--out",
                "run",
                "--quiet",
            ],
            cwd=work,
        )
        responses = server.responses
    assert result.returncode == 1, result.stderr  # no iteration could succeed
    assert responses == 1
    journal = json.loads((work / "run" / "journal.json").read_text())
    assert journal["status"] == "finished" and journal["status_reason"].startswith("cost limit reached")
    assert len(journal["iterations"]) == 1
    steps = journal["iterations"][0]["steps"]
    assert steps[0]["name"] == "exploration" and steps[0]["status"] == "done"
    assert steps[0]["usage"]["cost_usd"] == pytest.approx(0.0028)
    later = steps[1:]
    assert later and all(s["attempts"] == 0 and s["error"].startswith("cost limit reached") for s in later)
