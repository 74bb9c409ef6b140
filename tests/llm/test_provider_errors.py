"""Provider failures: transient ones are retried with a log line, permanent ones stop the run with the fix."""
from __future__ import annotations

import logging

import pytest

from omicsagent.brains.llm import LLMBrain, load_llm_config
from omicsagent.errors import ConfigError, ModelMistake
from omicsagent.testing_llm import FakeOpenAIServer, Playbook, fault, final, slow

BOOK = Playbook({"exploration": [final(summary="ok")]})


def _brain(url: str, **kw) -> LLMBrain:
    return LLMBrain(load_llm_config(model="openai:gpt-4.1", base_url=url, retry_base_delay_s=0.0, **kw))


def test_rejected_key_is_a_config_error(step_ctx):
    with FakeOpenAIServer(BOOK) as server:
        server.inject([fault(401)])
        with pytest.raises(ConfigError, match="rejected the API key; check OPENAI_API_KEY"):
            _brain(server.url).run_step(step_ctx("exploration"))
        assert len(server.requests) == 1  # not retried


def test_unknown_model_is_a_config_error(step_ctx):
    with FakeOpenAIServer(BOOK) as server:
        server.inject([fault(404)])
        with pytest.raises(ConfigError, match="does not know the model"):
            _brain(server.url).run_step(step_ctx("exploration"))


def test_timeouts_are_retried(step_ctx, caplog):
    caplog.set_level(logging.WARNING, logger="omicsagent.llm")
    with FakeOpenAIServer(BOOK) as server:
        server.inject([slow(1.5)])
        out = _brain(server.url, request_timeout_s=0.5).run_step(step_ctx("exploration"))
    assert out.output.summary == "ok"
    assert any("retrying in" in r.getMessage() for r in caplog.records)


def test_connection_refused_fails_the_step_not_the_process(step_ctx, caplog, refused_port):
    caplog.set_level(logging.WARNING, logger="omicsagent.llm")
    with pytest.raises(ModelMistake, match="failed after 3 attempt"):
        _brain(f"http://127.0.0.1:{refused_port}/v1", provider_retries=2).run_step(step_ctx("exploration"))
    assert sum("retrying in" in r.getMessage() for r in caplog.records) == 2
