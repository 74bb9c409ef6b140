"""Unit tests of the pieces: secret names, env building, output capture, choosing a sandbox."""
from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from omicsagent.errors import ConfigError, SandboxUnavailable
from omicsagent.sandbox import LocalSandbox, make_sandbox, probe_bwrap
from omicsagent.sandbox.env import build_env, is_secret_name
from omicsagent.sandbox.limits import Limits
from omicsagent.sandbox.process import OutputCapture


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "SSH_KEY", "api_key", "HF_TOKEN",
                                  "GITHUB_TOKEN_X", "CLIENT_SECRET", "DB_PASSWORD", "AZURE_CREDENTIALS",
                                  "AWS_REGION", "aws_profile"])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["OMP_NUM_THREADS", "KEYBOARD", "PATH", "MY_VAR", "SEED", "KEYS_DIR"])
def test_harmless_names(name: str) -> None:
    assert not is_secret_name(name)


def test_build_env_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOMETHING_FROM_PARENT", "1")
    env = build_env(
        {"OMP_NUM_THREADS": "1", "X_API_KEY": "k", "SEED": 3}, path="/bin", home="/h", tmpdir="/t"
    )
    assert env["PATH"] == "/bin" and env["HOME"] == "/h" and env["TMPDIR"] == "/t"
    assert env["OMP_NUM_THREADS"] == "1" and env["SEED"] == "3" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert "X_API_KEY" not in env and "SOMETHING_FROM_PARENT" not in env
    with pytest.raises(ValueError, match="not valid"):
        build_env({"A=B": "1"}, path="/bin", home="/h", tmpdir="/t")


def test_capture_keeps_all_when_small() -> None:
    cap = OutputCapture(10)
    for piece in (b"ab", b"cd", b"ef"):
        cap.feed(piece)
    assert cap.text() == "abcdef" and cap.omitted == 0 and cap.total == 6


def test_capture_keeps_head_and_tail(tmp_path: Path) -> None:
    cap = OutputCapture(10, log_path=tmp_path / "log.txt", log_limit=12)
    for i in range(100):
        cap.feed(f"{i:02d}|".encode())
    cap.close()
    assert cap.total == 300 and cap.omitted == 290
    assert cap.text() == "00|01\n[... 290 bytes omitted ...]\n8|99|"
    log = (tmp_path / "log.txt").read_text()
    assert log.startswith("00|01|02|03|\n[... log capped at 12 bytes; 288 more bytes")


def test_capture_survives_split_utf8() -> None:
    cap = OutputCapture(6)
    cap.feed("ééééééé".encode())  # 14 bytes, cut in the middle of characters
    assert "bytes omitted" in cap.text()


def test_limits_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="memory_mb"):
        Limits(memory_mb=0)


def test_make_sandbox_none_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="omicsagent.sandbox"):
        sb = make_sandbox("none")
    assert isinstance(sb, LocalSandbox) and not sb.isolated
    assert "SANDBOX DISABLED" in caplog.text


def test_make_sandbox_unknown_kind() -> None:
    with pytest.raises(ConfigError, match="auto, bwrap, none"):
        make_sandbox("docker")


def test_missing_bwrap_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    for kind in ("bwrap", "auto"):
        with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap.*--sandbox none"):
            make_sandbox(kind)


def test_broken_bwrap_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(SandboxUnavailable, match="No permissions to create new namespace.*--sandbox none"):
        probe_bwrap(str(fake))
