"""Fixtures: a finished binary run and a finished regression run on generated data."""
from __future__ import annotations

from pathlib import Path

import pytest

from report_fixtures import build_run


@pytest.fixture
def binary_run(tmp_path: Path) -> Path:
    return build_run(tmp_path, kind="binary")


@pytest.fixture
def regression_run(tmp_path: Path) -> Path:
    return build_run(tmp_path, kind="regression", iterations=(0.5, 0.9, None))
