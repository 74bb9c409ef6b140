"""One check before a run starts: is every model server reachable, and does it accept the key?

A run whose first request would fail on a server that is not listening or a rejected key stops here, with
one sentence and no run folder. The check lists the server's models (``GET .../models``; OpenRouter:
``GET .../key``), which costs nothing. Any other answer (404 from a server without that route, 5xx) counts
as reachable: the run's own requests and their retries take it from there.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from omicsagent.brains.llm.config import PROVIDERS, LLMConfig, public_url, split_model
from omicsagent.brains.llm.models import HOSTED_URLS, client_key, server_url
from omicsagent.errors import ConfigError, command

TIMEOUT_S = 10.0
ANTHROPIC_VERSION = "2023-06-01"


def _probe(provider: str, url: str) -> str:
    """The URL of a free request that needs the key."""
    base = url.rstrip("/")
    if provider == "anthropic":
        return base + ("/models" if base.endswith("/v1") else "/v1/models")
    if provider == "openrouter":
        return base + "/key"
    return base + "/models"


def _headers(provider: str, key: str | None) -> dict[str, str]:
    if key is None:
        return {}
    if provider == "anthropic":
        return {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}
    return {"Authorization": f"Bearer {key}"}


def unreachable(spec: str, url: str, configured: bool, why: str) -> ConfigError:
    """The sentence for a server that does not answer, with the command that would start it."""
    provider, name = split_model(spec)
    shown = public_url(url)
    if provider == "ollama":
        return ConfigError(f"cannot reach {shown} — is `ollama serve` running?")
    if provider == "vllm":
        return ConfigError(f"cannot reach {shown} — is `{command('vllm', 'serve', name)}` running?")
    if configured:
        return ConfigError(
            f"cannot reach {shown} ({why}) — is the server running, and is its URL "
            f"(--base-url or the config file) right?"
        )
    return ConfigError(f"cannot reach {shown} ({why}); check the network connection and any proxy settings.")


def _reason(err: BaseException) -> str:
    inner = getattr(err, "reason", err)
    if isinstance(inner, (socket.timeout, TimeoutError)):
        return f"no answer within {TIMEOUT_S:g} s"
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror.lower()
    return str(inner) or type(inner).__name__


def check_server(spec: str, config: LLMConfig) -> None:
    """Raise ``ConfigError`` when the server of ``spec`` cannot be reached or rejects the key."""
    provider, _ = split_model(spec)
    configured = server_url(spec, config)
    url = configured or HOSTED_URLS.get(provider)
    if url is None:
        return
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise ConfigError(
            f"the server URL {public_url(url)!r} of {spec} is not an http(s) address; write it like "
            f"http://localhost:8000/v1."
        )
    request = urllib.request.Request(
        _probe(provider, url), headers=_headers(provider, client_key(provider, config))
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            response.read(1 << 16)
    except urllib.error.HTTPError as err:
        err.close()
        if err.code in (401, 403):
            var = PROVIDERS[provider].key_env
            raise ConfigError(
                f"The {provider} server at {public_url(url)} rejected the API key; check {var}."
            ) from None
        return  # reachable; a route it lacks or a passing error is for the run's own requests to meet
    except (urllib.error.URLError, OSError) as err:
        raise unreachable(
            spec, url, configured is not None and provider != "openrouter", _reason(err)
        ) from None


def check_servers(config: LLMConfig) -> None:
    for spec in dict.fromkeys(filter(None, (config.model, config.reflection_model))):
        check_server(spec, config)
