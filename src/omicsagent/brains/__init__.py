"""Brains decide what to do at each step: ``expert`` (offline, default) and ``llm``."""
