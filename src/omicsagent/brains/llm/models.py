"""Chat models: build a pydantic-ai model from 'provider:name', and wrap it so every request is retried on
provider errors, priced, counted and written to the trajectory.

Retries are ours (the SDKs' own are switched off with ``max_retries=0``) so each one leaves a log line.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelQuotaExceededError,
    ModelRequestRejectedError,
    UnexpectedModelBehavior,
    UserError,
)
from pydantic_ai.models.wrapper import WrapperModel

from omicsagent.agent.journal import Usage
from omicsagent.brains.llm.config import PROVIDERS, LLMConfig, split_model
from omicsagent.brains.llm.trajectory import Trajectory, dump_messages
from omicsagent.errors import ConfigError

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.models import Model, ModelRequestParameters
    from pydantic_ai.settings import ModelSettings

log = logging.getLogger("omicsagent.llm")


class BudgetExceeded(Exception):
    """The run's --max-cost is spent; no further request is sent."""


class ProviderFailed(Exception):
    """A request still failed after every retry."""


# Where each hosted provider's client goes when no URL is configured (the SDKs' defaults).
HOSTED_URLS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}


def server_url(spec: str, config: LLMConfig) -> str | None:
    """The server a model spec talks to: configured, the provider's local default, or None (SDK default)."""
    provider, _ = split_model(spec)
    return config.endpoint(spec) or PROVIDERS[provider].default_base_url


def client_key(provider: str, config: LLMConfig) -> str | None:
    """The key the client sends: the configured one, or the placeholder a keyless local server accepts."""
    key = config.key_for(provider)
    if key is None and provider == "ollama":
        return "ollama"
    if key is None and PROVIDERS[provider].openai_compatible:
        return "not-needed"  # an OpenAI-compatible local server (vLLM, llama.cpp) usually accepts any key
    return key


def make_chat_model(spec: str, config: LLMConfig) -> "Model":
    """The pydantic-ai model for 'provider:name' with the configured endpoint and key."""
    provider, name = split_model(spec)
    key = client_key(provider, config)
    url = server_url(spec, config)
    if provider == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel(name, provider=AnthropicProvider(api_key=key, base_url=url))
    if provider == "openrouter":
        from pydantic_ai.models.openrouter import OpenRouterModel
        from pydantic_ai.providers.openrouter import OpenRouterProvider

        return OpenRouterModel(name, provider=OpenRouterProvider(api_key=key))
    from pydantic_ai.models.openai import OpenAIChatModel

    if provider == "ollama":
        from pydantic_ai.providers.ollama import OllamaProvider

        return OpenAIChatModel(name, provider=OllamaProvider(base_url=url, api_key=key))
    from pydantic_ai.providers.openai import OpenAIProvider

    return OpenAIChatModel(name, provider=OpenAIProvider(base_url=url, api_key=key))


@dataclass(frozen=True)
class Pricing:
    """How to price a response: explicit USD per million (input, output) tokens, a genai-prices provider
    id and model name, or unknown."""

    provider_id: str | None
    model_ref: str | None
    per_mtok: tuple[float, float] | None = None

    @classmethod
    def for_model(cls, spec: str, config: LLMConfig) -> "Pricing":
        if config.price_input_per_mtok is not None and config.price_output_per_mtok is not None:
            return cls(None, None, (config.price_input_per_mtok, config.price_output_per_mtok))
        if config.price_model:
            provider, name = split_model(config.price_model)
            return cls(PROVIDERS[provider].price_id, name)
        provider, name = split_model(spec)
        info = PROVIDERS[provider]
        if info.openai_compatible and config.endpoint(spec):
            return cls(None, None)  # a local or unknown server: prices unknown
        return cls(info.price_id, name)

    def cost(self, response: "ModelResponse") -> float | None:
        return self.price(response.usage)

    def price(self, usage: Any) -> float | None:
        """USD for a pydantic-ai ``RequestUsage``; None when the price is unknown."""
        if self.per_mtok is not None:
            tokens_in, tokens_out = usage.input_tokens or 0, usage.output_tokens or 0
            return (tokens_in * self.per_mtok[0] + tokens_out * self.per_mtok[1]) / 1e6
        if self.provider_id is None or self.model_ref is None:
            return None
        try:
            import warnings

            from genai_prices import calc_price

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                calc = calc_price(usage, self.model_ref, provider_id=self.provider_id)
            return float(calc.total_price)
        except Exception:  # noqa: BLE001 - an unknown price is "unknown", never a crash
            return None

    @property
    def known(self) -> bool:
        """Whether a response can be priced (checked on a sample request)."""
        from pydantic_ai.usage import RequestUsage

        return self.price(RequestUsage(input_tokens=1000, output_tokens=100)) is not None


def check_cost_limit(config: LLMConfig) -> None:
    """A cost limit is enforced only if every model can be priced: otherwise refuse to start."""
    if config.max_cost_usd is None:
        return
    for spec in dict.fromkeys(filter(None, (config.model, config.reflection_model))):
        if not Pricing.for_model(spec, config).known:
            raise ConfigError(
                f"--max-cost cannot be enforced because the price of {spec} is unknown; set price_model (a "
                f"priced model such as openai:gpt-4.1) or price_input_per_mtok and price_output_per_mtok "
                f"in the [llm] section of the --config file, or drop --max-cost.")


def is_transient(err: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, timeouts, dropped connections, unreadable responses."""
    if isinstance(err, (ModelAuthenticationError, ModelNotFoundError, ModelQuotaExceededError, UserError)):
        return False
    if isinstance(err, ModelHTTPError):
        return err.status_code in (408, 409, 425, 429) or err.status_code >= 500
    if isinstance(err, ModelRequestRejectedError):
        return False
    return isinstance(err, (ModelAPIError, UnexpectedModelBehavior, ValueError, OSError, TimeoutError)) or \
        type(err).__module__.split(".")[0] in ("openai", "anthropic", "httpx", "httpx2", "httpcore")


def permanent_error(err: BaseException, spec: str) -> ConfigError | None:
    """A ConfigError for mistakes only the user can fix (bad key, unknown model, no credit)."""
    provider = spec.partition(":")[0]
    var = PROVIDERS[provider].key_env if provider in PROVIDERS else "the API key"
    if isinstance(err, ModelAuthenticationError):
        return ConfigError(f"The {provider} server rejected the API key; check {var}.")
    if isinstance(err, ModelNotFoundError):
        return ConfigError(f"The {provider} server does not know the model {spec!r}; check the model name.")
    if isinstance(err, ModelQuotaExceededError):
        return ConfigError(
            f"The {provider} account has no quota or credit left; top it up or choose another model."
        )
    return None


def describe_error(err: BaseException) -> str:
    if isinstance(err, ModelHTTPError):
        return f"HTTP {err.status_code}"
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}{': ' + text[:160] if text else ''}"


class RecordedModel(WrapperModel):
    """Retries, prices, counts and records every request of one step (one instance per step attempt)."""

    def __init__(self, wrapped: "Model", *, spec: str, config: LLMConfig, pricing: Pricing,
                 trajectory: Trajectory, spent_before: float = 0.0) -> None:
        super().__init__(wrapped)
        self.spec = spec
        self.config = config
        self.pricing = pricing
        self.trajectory = trajectory
        self.spent_before = spent_before  # cost of the run before this step (for --max-cost)
        self.usage = Usage()
        self._logged = 0  # messages already written to the trajectory
        self._instructions: str | None = None

    def _add(self, response: "ModelResponse") -> float | None:
        cost = self.pricing.cost(response)
        u = response.usage
        self.usage = self.usage.add(Usage(requests=1, input_tokens=u.input_tokens or 0,
                                          output_tokens=u.output_tokens or 0, cost_usd=cost))
        return cost

    def _check_budget(self) -> None:
        limit = self.config.max_cost_usd
        if limit is not None and self.usage.cost_usd is not None and \
                self.spent_before + self.usage.cost_usd >= limit:
            raise BudgetExceeded(f"the cost limit of ${limit:g} is reached")

    async def request(self, messages: list["ModelMessage"], model_settings: "ModelSettings | None",
                      model_request_parameters: "ModelRequestParameters") -> "ModelResponse":
        self._check_budget()
        new = dump_messages(messages[self._logged:] if self._logged <= len(messages) else messages)
        for m in new:  # the system prompt rides on every request: write it once per step
            if isinstance(m, dict) and m.get("instructions"):
                if m["instructions"] == self._instructions:
                    m["instructions"] = "(unchanged)"
                else:
                    self._instructions = m["instructions"]
        self.trajectory.write("request", model=self.spec, messages=new)
        self._logged = len(messages)
        attempts = self.config.provider_retries + 1
        for attempt in range(1, attempts + 1):
            start = time.monotonic()
            try:
                response = await self.wrapped.request(messages, model_settings, model_request_parameters)
            except Exception as err:  # noqa: BLE001 - sorted into retry / user error / give up below
                self.trajectory.write("error", model=self.spec, attempt=attempt, error=describe_error(err))
                fatal = permanent_error(err, self.spec)
                if fatal is not None:
                    raise fatal from None
                if not is_transient(err) or attempt == attempts:
                    raise ProviderFailed(f"the {self.spec} request failed after {attempt} attempt(s) "
                                         f"({describe_error(err)})") from err
                retry_after = getattr(err, "retry_after", None)
                delay = min(60.0, self.config.retry_base_delay_s * 2 ** (attempt - 1))
                delay = max(delay, min(float(retry_after or 0), 120.0))
                log.warning("%s request failed (%s); retrying in %.1f s (attempt %d of %d).",
                            self.spec, describe_error(err), delay, attempt + 1, attempts)
                await asyncio.sleep(delay)
                continue
            cost = self._add(response)
            self.trajectory.write("response", model=self.spec, attempt=attempt,
                                  duration_s=round(time.monotonic() - start, 3),
                                  response=dump_messages([response])[0],
                                  usage={"input_tokens": response.usage.input_tokens,
                                         "output_tokens": response.usage.output_tokens, "cost_usd": cost})
            self._logged += 1
            return response
        raise AssertionError("unreachable")  # pragma: no cover


def model_settings(config: LLMConfig) -> dict[str, Any]:
    settings: dict[str, Any] = {"max_retries": 0, "timeout": config.request_timeout_s}
    if config.temperature is not None:
        settings["temperature"] = config.temperature
    return settings
