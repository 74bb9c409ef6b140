"""The run folder's layout: every path of a run, derived once from one resolved folder.

``RunLayout.at(out)`` is built at the boundary (the CLI, ``start_run``/``resume_run``, the report readers)
from ``Path(out).expanduser().resolve()``: a relative ``--out``, ``~``, ``.`` or a path through a symlink all
become one absolute, link-free root, whatever the working directory is later. Nothing else joins run paths:
the loop, the harness, the brains and the report ask the layout, and the journal stores only the relative
strings it hands out (run-relative such as ``workspace/artifacts/iter_000``, or workspace-relative POSIX
strings such as ``artifacts/iter_000/train.py``, which is what scripts in the sandbox see).

::

    RUN/
      journal.json  omicsagent.log  .lock  report.html  report.md  trajectory.jsonl
      best/                      the promoted model (a real folder; replaced in one rename)
      .harness/                  private labels and test features: never mounted into the sandbox
      workspace/                 the sandbox's root
        inputs/  scratch/  artifacts/iter_NNN/  scoring/
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

JOURNAL_FILE = "journal.json"
LOG_FILE = "omicsagent.log"
LOCK_FILE = ".lock"
PRIVATE_DIR = ".harness"  # in the run folder, never mounted into the sandbox
BEST_DIR = "best"
WORKSPACE_DIR = "workspace"
TRAJECTORY_FILE = "trajectory.jsonl"


@dataclass(frozen=True)
class IterationFiles:
    """The files of one iteration the harness relies on (it promotes them to ``best/``)."""

    dir: Path

    @property
    def train_script(self) -> Path:
        return self.dir / "train.py"

    @property
    def inference_script(self) -> Path:
        return self.dir / "inference.py"

    @property
    def model_dir(self) -> Path:
        return self.dir / "model"

    @property
    def validation_predictions(self) -> Path:
        return self.dir / "validation_predictions.csv"

    @property
    def train_predictions(self) -> Path:
        return self.dir / "train_predictions.csv"

    def step_log(self, step: str) -> Path:
        return self.dir / f"{step}.log"

    def error_file(self, step: str) -> Path:
        return self.dir / f"{step}.error.txt"


@dataclass(frozen=True)
class RunLayout:
    """Every path of one run folder; ``root`` is absolute and free of symlinks."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(os.fspath(self.root)).expanduser().resolve())

    @classmethod
    def at(cls, folder: str | os.PathLike[str] | RunLayout) -> RunLayout:
        return folder if isinstance(folder, RunLayout) else cls(Path(folder))

    # ----- the run folder -----
    @property
    def journal(self) -> Path:
        return self.root / JOURNAL_FILE

    @property
    def log_file(self) -> Path:
        return self.root / LOG_FILE

    @property
    def lock_file(self) -> Path:
        return self.root / LOCK_FILE

    @property
    def best(self) -> Path:
        return self.root / BEST_DIR

    def best_staging(self, tag: str) -> Path:
        """Where a new best/ is built before it replaces the old one in one rename."""
        return self.root / f".best-new-{tag}"

    def best_stagings(self) -> list[Path]:
        return sorted(self.root.glob(".best-new-*"))

    @property
    def best_previous(self) -> Path:
        """The old best/ during a two-rename promotion (filesystems without an atomic exchange)."""
        return self.root / ".best-old"

    @property
    def private(self) -> Path:
        return self.root / PRIVATE_DIR

    @property
    def report_html(self) -> Path:
        return self.root / "report.html"

    @property
    def report_md(self) -> Path:
        return self.root / "report.md"

    @property
    def trajectory(self) -> Path:
        return self.root / TRAJECTORY_FILE

    def private_labels(self, which: str) -> Path:
        """The harness's labelled copy of a split (``train`` or ``validation``)."""
        return self.private / f"{which}_labeled.csv"

    @property
    def test_features(self) -> Path:
        return self.private / "test_features.csv"

    @property
    def test_predictions(self) -> Path:
        return self.private / "test_predictions.csv"

    @property
    def refit_model(self) -> Path:
        """The best iteration's model refit on every labelled row (small data), promoted into best/."""
        return self.private / "refit" / "model"

    # ----- the workspace (the sandbox's root) -----
    @property
    def workspace(self) -> Path:
        return self.root / WORKSPACE_DIR

    @property
    def inputs(self) -> Path:
        return self.workspace / "inputs"

    @property
    def artifacts(self) -> Path:
        return self.workspace / "artifacts"

    @property
    def scoring(self) -> Path:
        return self.workspace / "scoring"

    def scoring_features(self, which: str) -> Path:
        """Label-free inputs of a split the harness scores inference scripts on."""
        return self.scoring / f"{which}_features.csv"

    @property
    def split_dir(self) -> Path:
        """Where the split files go when the expert brain or the harness's fallback makes them."""
        return self.artifacts / "split"

    def split_file(self, which: str) -> Path:
        return self.split_dir / f"{which}.csv"

    def iteration_dir(self, index: int) -> Path:
        return self.artifacts / f"iter_{index:03d}"

    def iteration_files(self, index: int) -> IterationFiles:
        return IterationFiles(self.iteration_dir(index))

    def files_at(self, run_rel: str) -> IterationFiles:
        """The files of an iteration recorded in the journal (``IterationRecord.dir``, run-relative)."""
        return IterationFiles(self.run_path(run_rel))

    # ----- host paths <-> relative strings -----
    def ws_rel(self, path: str | os.PathLike[str]) -> str:
        """Workspace-relative POSIX string of a host path (a relative path is taken as workspace-relative)."""
        return _relative(self.workspace, path)

    def ws_path(self, rel: str) -> Path:
        """Host path of a workspace-relative string."""
        return self.workspace / PurePosixPath(rel)

    def run_rel(self, path: str | os.PathLike[str]) -> str:
        """Run-relative POSIX string of a host path (a relative path is taken as run-relative)."""
        return _relative(self.root, path)

    def run_path(self, rel: str) -> Path:
        """Host path of a run-relative string (as the journal stores them)."""
        return self.root / PurePosixPath(rel)

    def ws_to_run(self, ws_rel: str) -> str:
        return self.run_rel(self.ws_path(ws_rel))

    def run_to_ws(self, run_rel: str) -> str:
        return self.ws_rel(self.run_path(run_rel))

    def display(self) -> str:
        """The run folder as a person would type it here: relative to the working directory when inside it."""
        try:
            here = Path.cwd().resolve()
        except OSError:
            return str(self.root)
        return os.path.relpath(self.root, here) if self.root.is_relative_to(here) else str(self.root)


def _relative(base: Path, path: str | os.PathLike[str]) -> str:
    p = Path(os.fspath(path))
    full = Path(os.path.normpath(p if p.is_absolute() else base / p))
    if not full.is_relative_to(base):
        raise ValueError(f"{os.fspath(path)} is not inside {base}")
    return full.relative_to(base).as_posix() or "."
