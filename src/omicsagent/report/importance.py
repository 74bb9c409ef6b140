"""Feature (or k-mer) importances of the best model, read without running code a brain wrote.

A model folder is written by code running in the sandbox. Unpickling it in the host process would run
whatever that code chose to put in the pickle, so the report prefers plain data:

1. ``feature_importances.json`` in the model folder (``{"name": value}`` or ``[[name, value], ...]``; written
   by ``TrainedModel.save``, which also records what the values mean under ``importance.meaning`` in
   ``model.json``), or a ``feature_importances`` entry in ``model.json``;
2. only for runs of the offline expert brain, whose scripts are omicsagent's own templates, when the model
   folder has no such file (a model saved by an older omicsagent):
   ``TrainedModel.load(model_dir).feature_importances()``.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def top_features(model_dir: Path, *, trusted: bool, max_features: int = 20,
                 missing: list[str]) -> list[tuple[str, float]] | None:
    """The ``max_features`` largest importances (by absolute value), or ``None`` with a note in
    ``missing``."""
    if not model_dir.exists():
        missing.append("best/model is missing, so feature importances are skipped.")
        return None
    raw = _from_files(model_dir)
    if raw is None and not trusted:
        missing.append(
            "The best model records no feature_importances.json, and models written by an LLM brain are "
            "not loaded outside the sandbox, so feature importances are skipped."
        )
        return None
    if raw is None:
        raw = _from_trained_model(model_dir, missing)
        if raw is None:
            return None
    items = []
    for name, value in raw:
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            items.append((str(name), v))
    if not items:
        missing.append("The best model reports no feature importances.")
        return None
    items.sort(key=lambda kv: abs(kv[1]), reverse=True)
    return items[:max_features]


def importance_meaning(model_dir: Path) -> str:
    """What the importance values mean, as ``TrainedModel.save`` recorded it in model.json ("" if unknown)."""
    try:
        meta = json.loads((model_dir / "model.json").read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return ""
    info = meta.get("importance") if isinstance(meta, dict) else None
    meaning = info.get("meaning") if isinstance(info, dict) else None
    return meaning if isinstance(meaning, str) else ""


def _pairs(value: Any) -> list[tuple[Any, Any]] | None:
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list) and all(isinstance(x, (list, tuple)) and len(x) == 2 for x in value):
        return [(a, b) for a, b in value]
    return None


def _from_files(model_dir: Path) -> list[tuple[Any, Any]] | None:
    for path, key in (
        (model_dir / "feature_importances.json", None),
        (model_dir / "model.json", "feature_importances"),
    ):
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            continue
        pairs = _pairs(data.get(key) if key and isinstance(data, dict) else data)
        if pairs:
            return pairs
    return None


def _from_trained_model(model_dir: Path, missing: list[str]) -> list[tuple[Any, Any]] | None:
    try:
        from omicsagent.ml.pipeline import TrainedModel
    except ImportError:
        missing.append(
            "This omicsagent cannot load saved models (omicsagent.ml.pipeline is absent), "
            "so feature importances are skipped."
        )
        return None
    try:
        model = TrainedModel.load(model_dir)
    except Exception as err:  # noqa: BLE001 - a hand-written model folder is not a TrainedModel
        log.debug("cannot load %s: %s", model_dir, err)
        missing.append(
            "The best model was not saved as an omicsagent TrainedModel, so feature importances are skipped."
        )
        return None
    getter = getattr(model, "feature_importances", None)
    if getter is None:
        missing.append("The best model does not report feature importances.")
        return None
    try:
        return _pairs(dict(getter()))
    except Exception as err:  # noqa: BLE001 - a model that cannot say is a note, not a crash
        log.debug("feature_importances failed: %s", err)
        missing.append("The best model could not compute feature importances.")
        return None
