"""LLM settings: which model, where, and the limits; keys come only from the environment or a ``.env`` file.

Keys live in ``LLMConfig.api_keys`` (``SecretStr``, excluded from every dump and repr), so the journal,
logs and reports never see them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError

from omicsagent.configfile import read_toml
from omicsagent.errors import ConfigError


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    key_env: str | None  # variable holding the key
    key_required: bool  # False for local servers
    base_url_env: str | None
    default_base_url: str | None
    openai_compatible: bool  # --base-url applies
    example: str
    price_id: str | None  # genai-prices provider id; None = unknown prices


PROVIDERS: dict[str, ProviderInfo] = {p.name: p for p in (
    ProviderInfo("openai", "OPENAI_API_KEY", True, "OPENAI_BASE_URL", None, True, "openai:gpt-4.1", "openai"),
    ProviderInfo("anthropic", "ANTHROPIC_API_KEY", True, "ANTHROPIC_BASE_URL", None, False,
                 "anthropic:claude-sonnet-4-5", "anthropic"),
    ProviderInfo("openrouter", "OPENROUTER_API_KEY", True, None, "https://openrouter.ai/api/v1", False,
                 "openrouter:openai/gpt-4.1", "openrouter"),
    ProviderInfo("ollama", "OLLAMA_API_KEY", False, "OLLAMA_BASE_URL", "http://localhost:11434/v1", True,
                 "ollama:llama3.1", None),
    ProviderInfo("vllm", "VLLM_API_KEY", False, "VLLM_BASE_URL", "http://localhost:8000/v1", True,
                 "vllm:Qwen/Qwen2.5-Coder-32B-Instruct", None),
)}

CONFIG_KEYS = (
    "model",
    "reflection_model",
    "base_url",
    "reflection_base_url",
    "max_requests_per_step",
    "max_retries",
    "provider_retries",
    "max_cost_usd",
    "request_timeout_s",
    "tool_timeout_s",
    "temperature",
    "price_model",
    "price_input_per_mtok",
    "price_output_per_mtok",
)


class LLMConfig(BaseModel):
    """Everything the LLM brain needs. ``model_dump()`` never contains keys."""

    model: str = Field(description="Step model, 'provider:name', e.g. 'openai:gpt-4.1'.")
    reflection_model: str | None = Field(None, description="Model for the reflection step (default: model).")
    base_url: str | None = Field(
        None, description="Server URL of the step model (Ollama, vLLM, llama.cpp, proxy)."
    )
    reflection_base_url: str | None = Field(
        None, description="Server URL of the reflection model, if different."
    )
    max_requests_per_step: int = Field(40, ge=1, description="Model requests one step may make.")
    max_retries: int = Field(3, ge=0, description="Corrections per step after invalid output or tool calls.")
    provider_retries: int = Field(4, ge=0, description="Retries of a request after 429/5xx/timeouts.")
    retry_base_delay_s: float = Field(2.0, ge=0, description="First backoff delay; doubles per retry.")
    max_cost_usd: float | None = Field(None, gt=0, description="Stop the run when this much is spent.")
    request_timeout_s: float = Field(300.0, gt=0)
    tool_timeout_s: float = Field(900.0, gt=0, description="Cap on one tool call (bash, run_python).")
    temperature: float | None = None
    price_model: str | None = Field(None, description="'provider:name' to price calls with when the server "
                                                      "is a proxy of a known provider.")
    price_input_per_mtok: float | None = Field(None, ge=0, description="USD per million input tokens.")
    price_output_per_mtok: float | None = Field(None, ge=0, description="USD per million output tokens.")
    api_keys: dict[str, SecretStr] = Field(default_factory=dict, exclude=True, repr=False)

    def key_for(self, provider: str) -> str | None:
        key = self.api_keys.get(provider)
        return key.get_secret_value() if key is not None else None

    def secret_values(self) -> list[str]:
        """Every key value, for redaction."""
        return [k.get_secret_value() for k in self.api_keys.values() if k.get_secret_value()]

    def endpoint(self, spec: str) -> str | None:
        """The server URL for a model spec (None: the provider's default)."""
        if spec == self.model:
            return self.base_url
        same_provider = split_model(spec)[0] == split_model(self.model)[0]
        return self.reflection_base_url or (self.base_url if same_provider else None)

    def public(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def public_url(url: str | None) -> str | None:
    """A server URL fit to print or record: no user, password, query or fragment."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def split_model(spec: str) -> tuple[str, str]:
    """'openai:gpt-4.1' -> ('openai', 'gpt-4.1'); raises ConfigError on an unknown provider."""
    provider, sep, name = spec.partition(":")
    if not sep or not name or not provider:
        raise ConfigError(f"Model {spec!r} has no provider; write it as PROVIDER:MODEL, e.g. openai:gpt-4.1 "
                          f"(providers: {', '.join(PROVIDERS)}).")
    if provider not in PROVIDERS:
        raise ConfigError(f"Unknown model provider {provider!r}; use one of {', '.join(PROVIDERS)} "
                          f"(any OpenAI-compatible server: openai:NAME with --base-url).")
    return provider, name


def read_env_file(env_file: Path | None) -> dict[str, str]:
    """Variables of a ``.env`` file, without touching ``os.environ``."""
    if env_file is None:
        return {}
    path = Path(env_file).expanduser()
    if not path.is_file():
        raise ConfigError(f"The env file {path} does not exist; check the --env-file path.")
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _env(name: str | None, dotenv: dict[str, str]) -> str | None:
    """The process environment wins over the ``.env`` file (python-dotenv's convention)."""
    if not name:
        return None
    return os.environ.get(name) or dotenv.get(name) or None


def read_config_file(config_file: Path | None) -> dict[str, Any]:
    if config_file is None:
        return {}
    path = Path(config_file).expanduser()
    raw = read_toml(path)
    section = raw.get("llm", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path} has an [llm] entry that is not a table; write it as an [llm] section.")
    secretish = [k for k in section if "key" in k.lower() or "token" in k.lower()]
    if secretish:
        raise ConfigError(f"{path} sets {secretish[0]!r}; keep keys out of config files and put them in the "
                          f"environment or a .env file given with --env-file.")
    unknown = [k for k in section if k not in CONFIG_KEYS]
    if unknown:
        raise ConfigError(
            f"{path} has unknown [llm] setting {unknown[0]!r}; use only {', '.join(CONFIG_KEYS)}."
        )
    return section


def load_llm_config(*, model: str | None = None, base_url: str | None = None, env_file: Path | None = None,
                    config_file: Path | None = None, **overrides: Any) -> LLMConfig:
    """Settings from arguments > config file ``[llm]`` > environment; keys from the environment or
    ``env_file``."""
    dotenv = read_env_file(env_file)
    data: dict[str, Any] = dict(read_config_file(config_file))
    if model:
        data["model"] = model
    if base_url:
        data["base_url"] = base_url
    data.update({k: v for k, v in overrides.items() if v is not None})
    data.setdefault("model", _env("OMICSAGENT_MODEL", dotenv))
    if not data.get("model"):
        raise ConfigError(
            "No LLM model is configured; pass --model PROVIDER:MODEL (e.g. openai:gpt-4.1) or set "
            "model in the [llm] section of the config file."
        )
    specs = [data["model"]] + ([data["reflection_model"]] if data.get("reflection_model") else [])
    providers = [split_model(s)[0] for s in specs]
    if data.get("price_model"):
        split_model(data["price_model"])
    if (data.get("price_input_per_mtok") is None) != (data.get("price_output_per_mtok") is None):
        raise ConfigError("The config file sets only one of price_input_per_mtok and price_output_per_mtok; "
                          "set both (USD per million tokens) or neither.")
    if not data.get("base_url"):
        data["base_url"] = _env(PROVIDERS[providers[0]].base_url_env, dotenv)
    if len(providers) > 1 and providers[1] != providers[0] and not data.get("reflection_base_url"):
        data["reflection_base_url"] = _env(PROVIDERS[providers[1]].base_url_env, dotenv)
    urls = {providers[0]: data.get("base_url")}
    if len(providers) > 1:
        urls.setdefault(providers[1], data.get("reflection_base_url"))
    keys: dict[str, SecretStr] = {}
    for prov in dict.fromkeys(providers):
        info = PROVIDERS[prov]
        key = _env(info.key_env, dotenv)
        local = prov == "openai" and urls.get(prov)  # an OpenAI-compatible server may need no key
        if key is None and info.key_required and not local:
            where = (
                f" or add it to {env_file}" if env_file else " or put it in a .env file given with --env-file"
            )
            raise ConfigError(f"The {prov} API key is missing; export {info.key_env}{where}.")
        if key is not None:
            keys[prov] = SecretStr(key)
    try:
        return LLMConfig(**data, api_keys=keys)
    except ValidationError as err:
        first = err.errors()[0]
        raise ConfigError(f"LLM setting {'.'.join(map(str, first['loc']))} is invalid ({first['msg']}); "
                          f"fix it in the config file or on the command line.") from None


def list_models(env_file: Path | None = None) -> list[dict[str, Any]]:
    """Configured providers and whether a key is present (never the key itself)."""
    dotenv = read_env_file(env_file)
    rows = []
    for info in PROVIDERS.values():
        has_key = _env(info.key_env, dotenv) is not None
        url = _env(info.base_url_env, dotenv) or info.default_base_url
        if has_key:
            notes = f"ready: --model {info.example}"
        elif info.key_required:
            notes = f"set {info.key_env} (environment or --env-file)"
        else:
            notes = f"local server {url}, no key needed"
        if info.price_id is None:
            notes += "; cost unknown"
        rows.append(
            {
                "provider": info.name,
                "variable": info.key_env,
                "present": "yes" if has_key else "no",
                "notes": notes,
                "key_present": has_key,
                "key_required": info.key_required,
                "base_url": url,
                "example": info.example,
                "usable": has_key or not info.key_required,
                "priced": info.price_id is not None,
            }
        )
    return rows
