"""The workspace: the only folder a brain's code can see (besides read-only extras the harness adds).

Layout: ``inputs/`` (copies of what the agent may read; read-only inside the sandbox), ``scratch/`` and
``artifacts/`` (writable). The root itself is read-only inside the sandbox.
"""
from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from omicsagent.errors import InputError, ModelMistake, RunStateError

SUBDIRS = ("inputs", "scratch", "artifacts")


@dataclass(frozen=True)
class Workspace:
    """A workspace folder; ``root`` is absolute and free of symlinks."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def writable_dirs(self) -> tuple[Path, Path]:
        return (self.scratch, self.artifacts)

    @classmethod
    def create(cls, root: Path | str) -> Workspace:
        """Make a new workspace at ``root`` (which must be absent or an empty folder)."""
        root = Path(root).expanduser().resolve()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise InputError(
                f"Workspace folder {root} already exists and is not empty; "
                "use Workspace.open to resume it or choose a new run directory."
            )
        for sub in SUBDIRS:
            (root / sub).mkdir(parents=True, exist_ok=True)
        return cls(root)

    @classmethod
    def open(cls, root: Path | str) -> Workspace:
        """Reopen an existing workspace (for resume)."""
        root = Path(root).expanduser().resolve()
        missing = [sub for sub in SUBDIRS if not (root / sub).is_dir()]
        if missing:
            raise RunStateError(
                f"{root} is not a complete workspace (missing {', '.join(m + '/' for m in missing)}); "
                "check the run directory or start a new run."
            )
        return cls(root)

    def add_input(self, src: Path | str, *, name: str | None = None, overwrite: bool = False) -> Path:
        """Copy a file or folder into ``inputs/`` (a real copy, never a link) and return its new path."""
        src = Path(src).expanduser()
        if not src.exists():
            raise InputError(f"Input {src} does not exist; check the path.")
        rel = Path(name if name is not None else src.name)
        dest = (self.inputs / rel).resolve()
        if rel.is_absolute() or not dest.is_relative_to(self.inputs) or dest == self.inputs:
            raise InputError(f"Input name {str(rel)!r} must be a plain relative name such as 'train.csv'.")
        if dest.exists() or dest.is_symlink():
            if not overwrite:
                raise InputError(f"Input {rel} is already in the workspace; pick another name.")
            _remove(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, symlinks=False)  # symlinks=False: copy the targets' contents
        else:
            shutil.copyfile(src, dest)
        _make_read_only(dest)  # a hint for --sandbox none; the bwrap mount is what enforces it
        return dest

    def confine(self, path: str | Path, *, writable: bool = False) -> Path:
        """Resolve a model-given path (relative to ``root`` or absolute) that must stay in the workspace.

        Symlinks are followed, so a link pointing outside is an escape. With ``writable=True`` the path
        must also be under ``scratch/`` or ``artifacts/``. Raises ``ModelMistake`` otherwise.
        """
        text = os.fspath(path)
        if "\x00" in text:
            raise ModelMistake(f"Path {text!r} contains a NUL byte.")
        try:
            resolved = (self.root / text).resolve()
        except (OSError, RuntimeError) as exc:  # e.g. a symlink loop
            raise ModelMistake(f"Path {text!r} cannot be resolved: {exc}.") from exc
        if not resolved.is_relative_to(self.root):
            raise ModelMistake(
                f"Path {text!r} is outside the workspace {self.root}; use a path inside it "
                "(inputs/, scratch/ or artifacts/)."
            )
        if writable and not any(resolved.is_relative_to(d) for d in self.writable_dirs):
            raise ModelMistake(f"Path {text!r} is not writable; write under scratch/ or artifacts/.")
        return resolved


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _make_read_only(path: Path) -> None:
    paths = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for p in paths:
        mode = p.stat().st_mode
        p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
