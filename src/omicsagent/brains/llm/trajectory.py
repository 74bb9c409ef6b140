"""``<run_dir>/trajectory.jsonl``: every model request and response, one JSON object per line.

Each request line holds only the messages added since the previous request of the same agent run (the
first holds the system prompt and the user prompt), so the file grows linearly. Known key values are
replaced by ``[redacted]`` before anything is written.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omicsagent.agent.layout import TRAJECTORY_FILE

__all__ = ["TRAJECTORY_FILE", "Trajectory", "dump_messages", "redact"]


def redact(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if len(s) >= 6:
            text = text.replace(s, "[redacted]")
    return text


@dataclass
class Trajectory:
    """Appends records to one file; ``context`` (step, iteration, attempt) is added to every record."""

    path: Path | None
    secrets: list[str] = field(default_factory=list, repr=False)
    context: dict[str, Any] = field(default_factory=dict)

    def write(self, kind: str, **data: Any) -> None:
        if self.path is None:
            return
        record = {"time": round(time.time(), 3), "kind": kind, **self.context, **data}
        line = redact(json.dumps(record, default=str, ensure_ascii=False), self.secrets)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def dump_messages(messages: list[Any]) -> list[Any]:
    """pydantic-ai messages as plain JSON data."""
    from pydantic_ai.messages import ModelMessagesTypeAdapter

    try:
        return ModelMessagesTypeAdapter.dump_python(list(messages), mode="json")
    except Exception:  # noqa: BLE001 - a record is better than none
        return [repr(m) for m in messages]
