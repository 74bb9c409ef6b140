"""Code memory: approved unit scripts, per role and unit, with the cohorts they were approved on.

    <root>/<role>/<unit>/<sha12>.json
        {"role", "unit", "sha", "code", "approved": [{cohort, trait, run, ...}]}

Offered to the author of the same unit on the next cohort (most recently approved first). Reuse is judged
by the harness, not claimed by the brain: ``as_is`` when the code is identical to an offered entry,
``adapted`` when it starts from one (the brain says which) and stays close to it, ``new`` otherwise.
Default root: ``~/.cache/omicsagent/expression/code_memory`` (``OMICSAGENT_CACHE_DIR`` moves it).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from omicsagent.errors import InputError
from omicsagent.expression.pp.symbols import default_cache_dir

ADAPTED_MIN_SIMILARITY = 0.5


def default_memory_dir() -> Path:
    return default_cache_dir() / "code_memory"


def code_sha(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()[:12]


@dataclass
class MemoryEntry:
    role: str
    unit: str
    sha: str
    code: str
    approved: list[dict] = field(default_factory=list)  # one per approval: cohort, trait, run, brain, time

    @property
    def last_approved(self) -> float:
        return max((a.get("time", 0.0) for a in self.approved), default=0.0)

    @property
    def cohorts(self) -> list[str]:
        return list(dict.fromkeys(f"{a.get('trait')}/{a.get('cohort')}" for a in self.approved))

    def to_dict(self) -> dict:
        return {
            "role": self.role,
            "unit": self.unit,
            "sha": self.sha,
            "code": self.code,
            "approved": self.approved,
        }


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False).ratio()


def classify_reuse(code: str, offers: list[MemoryEntry], based_on: str | None) -> tuple[str, str | None]:
    """(``as_is`` | ``adapted`` | ``new``, sha of the entry it came from)."""
    sha = code_sha(code)
    for entry in offers:
        if entry.sha == sha:
            return "as_is", entry.sha
    base = next((e for e in offers if e.sha == based_on), None)
    if base is not None and similarity(code, base.code) >= ADAPTED_MIN_SIMILARITY:
        return "adapted", base.sha
    return "new", None


class CodeMemory:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_memory_dir()

    def _dir(self, role: str, unit: str) -> Path:
        return self.root / role / unit

    def entries(self, role: str | None = None, unit: str | None = None) -> list[MemoryEntry]:
        if not self.root.is_dir():
            return []
        out = []
        for path in sorted(self.root.glob(f"{role or '*'}/{unit or '*'}/*.json")):
            try:
                data = json.loads(path.read_text())
                out.append(
                    MemoryEntry(
                        data["role"], data["unit"], data["sha"], data["code"], data.get("approved", [])
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged entry is skipped, never offered
        return sorted(out, key=lambda e: (e.role, e.unit, -e.last_approved))

    def offers(self, role: str, unit: str, limit: int = 3) -> list[MemoryEntry]:
        return self.entries(role, unit)[:limit] if limit > 0 else []

    def store(self, role: str, unit: str, code: str, *, approval: dict) -> MemoryEntry:
        """Add an approval of ``code`` (same code: one entry, more approvals)."""
        sha = code_sha(code)
        folder = self._dir(role, unit)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{sha}.json"
        approved = []
        if path.is_file():
            try:
                approved = json.loads(path.read_text()).get("approved", [])
            except (OSError, ValueError):
                approved = []
        entry = MemoryEntry(role, unit, sha, code, [*approved, {**approval, "time": time.time()}])
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(entry.to_dict(), fh, indent=1)
        os.replace(tmp, path)
        return entry

    def find(self, key: str) -> list[MemoryEntry]:
        """Entries whose sha starts with ``key`` or whose ``role/unit`` is ``key``."""
        if "/" in key:
            role, _, unit = key.partition("/")
            return self.entries(role, unit)
        return [e for e in self.entries() if e.sha.startswith(key)]

    def clear(self, role: str | None = None) -> int:
        """Delete every entry (of ``role``); returns how many were removed."""
        entries = self.entries(role)
        if role is None:
            if self.root.is_dir():
                for child in self.root.iterdir():
                    if child.is_dir():
                        shutil.rmtree(child)
        elif self._dir(role, "x").parent.is_dir():
            shutil.rmtree(self._dir(role, "x").parent)
        return len(entries)


def check_memory_dir(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise InputError(f"{path} is a file; pass a folder for the code memory (--memory).")
    return path
