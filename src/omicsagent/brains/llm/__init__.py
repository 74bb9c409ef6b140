"""The LLM brain: decisions and code from a chat model (OpenAI, Anthropic, OpenRouter, or any
OpenAI-compatible server such as Ollama, vLLM or llama.cpp), through pydantic-ai.

    config = load_llm_config(model="openai:gpt-4.1", env_file=Path(".env"))
    journal = start_run(task, out_dir=out, settings=settings, brain=LLMBrain(config))
"""
from __future__ import annotations

from omicsagent.brains.llm.brain import LLMBrain
from omicsagent.brains.llm.config import PROVIDERS, LLMConfig, list_models, load_llm_config
from omicsagent.brains.llm.trajectory import TRAJECTORY_FILE

__all__ = ["LLMBrain", "LLMConfig", "PROVIDERS", "TRAJECTORY_FILE", "list_models", "load_llm_config"]
