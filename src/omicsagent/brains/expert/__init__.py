"""The offline expert brain: a deterministic planner with an ML recipe book (no LLM, no key)."""
from __future__ import annotations


def __getattr__(name: str):
    if name == "ExpertBrain":  # lazy: importing the package must not import the ML stack
        from omicsagent.brains.expert.brain import ExpertBrain

        return ExpertBrain
    raise AttributeError(name)
