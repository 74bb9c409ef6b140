"""LLM configuration: model strings, keys from the environment or a .env file (never dumped), config files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from omicsagent.brains.llm import LLMBrain, list_models, load_llm_config
from omicsagent.brains.llm.models import Pricing, make_chat_model
from omicsagent.errors import ConfigError

from .conftest import SECRET

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OLLAMA_API_KEY", "VLLM_API_KEY",
            "OPENAI_BASE_URL", "OLLAMA_BASE_URL", "VLLM_BASE_URL", "OMICSAGENT_MODEL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)


def test_missing_key_names_the_variable():
    with pytest.raises(ConfigError, match="export OPENAI_API_KEY") as err:
        load_llm_config(model="openai:gpt-4.1")
    assert str(err.value).count(".") <= 2  # one sentence
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        load_llm_config(model="anthropic:claude-sonnet-4-5")


def test_bad_model_strings():
    with pytest.raises(ConfigError, match="PROVIDER:MODEL"):
        load_llm_config(model="gpt-4.1")
    with pytest.raises(ConfigError, match="Unknown model provider 'foo'"):
        load_llm_config(model="foo:bar")
    with pytest.raises(ConfigError, match="No LLM model"):
        load_llm_config()


def test_key_from_env_file_is_never_dumped(tmp_path: Path):
    env = tmp_path / "keys.env"
    env.write_text(f"OPENAI_API_KEY={SECRET}\n")
    cfg = load_llm_config(model="openai:gpt-4.1", env_file=env)
    assert cfg.key_for("openai") == SECRET
    brain = LLMBrain(cfg)
    for text in (
        cfg.model_dump_json(),
        repr(cfg),
        str(cfg),
        json.dumps(cfg.public()),
        json.dumps(brain.describe()),
    ):
        assert SECRET not in text
    with pytest.raises(ConfigError, match="does not exist"):
        load_llm_config(model="openai:gpt-4.1", env_file=tmp_path / "missing.env")


def test_environment_wins_over_env_file(tmp_path: Path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("OPENAI_API_KEY=from-file-123456\n")
    monkeypatch.setenv("OPENAI_API_KEY", "from-env-123456")
    assert load_llm_config(model="openai:gpt-4.1", env_file=env).key_for("openai") == "from-env-123456"


def test_config_file_sets_step_and_reflection_models(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET + "-a")
    cfg_file = tmp_path / "omicsagent.toml"
    cfg_file.write_text(
        '[llm]\nmodel = "openai:gpt-4.1-mini"\nreflection_model = "anthropic:claude-sonnet-4-5"\n'
        "max_requests_per_step = 12\n"
    )
    cfg = load_llm_config(config_file=cfg_file)
    assert (cfg.model, cfg.reflection_model, cfg.max_requests_per_step) == \
        ("openai:gpt-4.1-mini", "anthropic:claude-sonnet-4-5", 12)
    assert (
        load_llm_config(model="openai:gpt-4.1", config_file=cfg_file).model == "openai:gpt-4.1"
    )  # flag wins
    cfg_file.write_text('[llm]\nmodel = "openai:gpt-4.1"\napi_key = "sk-oops"\n')
    with pytest.raises(ConfigError, match="keep keys out of config files"):
        load_llm_config(config_file=cfg_file)
    cfg_file.write_text('[llm]\nmodle = "openai:gpt-4.1"\n')
    with pytest.raises(ConfigError, match="unknown \\[llm\\] setting 'modle'"):
        load_llm_config(config_file=cfg_file)
    cfg_file.write_text('[llm]\nmodel = "openai:gpt-4.1"\nmax_requests_per_step = 0\n')
    with pytest.raises(ConfigError, match="max_requests_per_step"):
        load_llm_config(config_file=cfg_file)


def test_local_servers_need_no_key_and_have_unknown_prices(monkeypatch):
    cfg = load_llm_config(model="ollama:llama3.1")
    assert Pricing.for_model(cfg.model, cfg).provider_id is None
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    cfg = load_llm_config(model="openai:qwen2.5-coder")  # any OpenAI-compatible server
    assert cfg.base_url == "http://127.0.0.1:9/v1"
    model = make_chat_model(cfg.model, cfg)
    assert model.base_url.startswith("http://127.0.0.1:9/v1")
    assert Pricing.for_model(cfg.model, cfg).provider_id is None


def test_every_provider_builds_a_model(monkeypatch):
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.setenv(var, SECRET)
    for spec in (
        "openai:gpt-4.1",
        "anthropic:claude-sonnet-4-5",
        "openrouter:openai/gpt-4.1",
        "ollama:llama3.1",
        "vllm:qwen",
    ):
        cfg = load_llm_config(
            model=spec, base_url="http://127.0.0.1:9/v1" if spec.startswith("vllm") else None
        )
        assert make_chat_model(spec, cfg).model_name == spec.partition(":")[2]


def test_list_models_reports_presence_never_keys(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    rows = {r["provider"]: r for r in list_models()}
    assert rows["anthropic"]["key_present"] and not rows["openai"]["key_present"]
    assert rows["ollama"]["usable"] and not rows["openai"]["usable"]
    assert SECRET not in json.dumps(list(rows.values()))


def test_reflection_model_on_another_server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:7/v1")
    cfg = load_llm_config(model="openai:gpt-4.1", reflection_model="ollama:llama3.1")
    assert cfg.endpoint("openai:gpt-4.1") is None  # the real OpenAI endpoint
    assert cfg.endpoint("ollama:llama3.1") == "http://127.0.0.1:7/v1"
    assert Pricing.for_model("openai:gpt-4.1", cfg).provider_id == "openai"
    assert "127.0.0.1:7" in make_chat_model("ollama:llama3.1", cfg).base_url


def test_describe_hides_credentials_in_urls():
    cfg = load_llm_config(model="openai:m", base_url="http://user:pw@127.0.0.1:8000/v1")
    assert LLMBrain(cfg).describe()["base_url"] == "http://127.0.0.1:8000/v1"
