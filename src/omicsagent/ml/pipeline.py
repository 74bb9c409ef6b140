"""What generated ``train.py``/``inference.py`` scripts import.

    featurizer = build_featurizer(REPRESENTATION); X = featurizer.fit_transform(train)
    model = build_model(MODEL, task_type="binary", seed=0); model.fit(X, y, time_limit_s=600, log=print)
    TrainedModel(featurizer=..., model=..., ...).save("model/")  ->  TrainedModel.load("model/")
    trained.predict_frame(df)  # prediction (+ probability_<class>) per input row
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet, Featurizer, build_featurizer
from omicsagent.ml.io import read_table, write_table
from omicsagent.ml.models.base import Model, build_model

__all__ = [
    "FeatureSet",
    "Featurizer",
    "Model",
    "TrainedModel",
    "build_featurizer",
    "build_model",
    "read_table",
    "write_table",
]

FORMAT_VERSION = 1
MODEL_FILE = "model.joblib"
META_FILE = "model.json"
IMPORTANCES_FILE = "feature_importances.json"  # plain data: the report reads it without unpickling


@dataclass
class TrainedModel:
    """A fitted featurizer + model with what is needed to predict on a new table."""

    featurizer: Featurizer
    model: Model
    task_type: str
    target: str | list[str]  # a list of label columns for a multilabel task
    input_columns: list[str] = field(default_factory=list)
    representation: dict[str, Any] = field(default_factory=dict)
    model_spec: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.input_columns:
            self.input_columns = self.featurizer.input_columns

    @property
    def classes(self) -> list:
        if self.task_type == "multilabel":
            return []
        return [] if self.model.classes_ is None else list(self.model.classes_)

    def check_input(self, df: pd.DataFrame) -> None:
        needed = list(dict.fromkeys(list(self.input_columns) + self.featurizer.input_columns))
        missing = [c for c in needed if c not in df.columns]
        if missing:
            raise InputError(f"The input table lacks column(s) {', '.join(map(repr, missing))}; "
                             f"add them (the model was trained on them).")

    def predict_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """One row per input row: ``prediction`` plus ``probability_<class>`` for classification."""
        self.check_input(df)
        X = self.featurizer.transform(df)
        if self.task_type == "multilabel":  # ``target`` is the list of labels
            proba = self.model.predict_proba(X)
            return pd.DataFrame({f"probability_{label}": proba[:, j] for j, label in enumerate(self.target)})
        if self.task_type == "regression":
            return pd.DataFrame({"prediction": self.model.predict(X)})
        proba = self.model.predict_proba(X)
        classes = self.model.classes_
        out = {"prediction": classes[proba.argmax(axis=1)]}
        for i, c in enumerate(classes):
            out[f"probability_{c}"] = proba[:, i]
        return pd.DataFrame(out)

    def feature_importances(self) -> dict[str, float]:
        """``{feature name: importance}`` for the flat features (k-mers such as ``sequence:TATA``,
        descriptor or column names), largest absolute value first, zeros left out; empty for models
        that report none (the neural networks). ``model.importance_kind`` says what the values mean."""
        values = self.model.feature_importances()
        if values is None:
            return {}
        values = np.asarray(values, dtype=float).ravel()
        names = self.featurizer.flat_feature_names()
        if len(names) != len(values):
            names = [f"feature_{i}" for i in range(len(values))]
        order = np.argsort(-np.abs(values), kind="stable")
        return {
            names[i]: float(f"{values[i]:.6g}") for i in order if np.isfinite(values[i]) and values[i] != 0
        }

    # --- persistence ------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``path`` (a ``.joblib`` file) or ``path/model.joblib`` + readable ``model.json``."""
        import joblib

        p = Path(path)
        file = p if p.suffix in (".joblib", ".pkl") else p / MODEL_FILE
        file.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"format_version": FORMAT_VERSION, "trained": self}, file, compress=3)
        meta = {"format_version": FORMAT_VERSION, "task_type": self.task_type, "target": self.target,
                "input_columns": self.input_columns, "classes": [_jsonable(c) for c in self.classes],
                "representation": self.representation, "model": self.model_spec,
                "fit_seconds": round(self.model.fit_seconds_, 2), "extra": self.extra}
        importances = self.feature_importances()
        if importances:
            meta["importance"] = {"file": IMPORTANCES_FILE, "meaning": self.model.importance_kind}
            file.with_name(IMPORTANCES_FILE).write_text(json.dumps(importances, indent=0))
        file.with_name(file.stem + ".json").write_text(json.dumps(meta, indent=2, default=str))
        return file

    @classmethod
    def load(cls, path: str | Path) -> TrainedModel:
        import joblib

        from omicsagent.ml.runtime import prefer_passive_openmp

        prefer_passive_openmp()  # before unpickling loads LightGBM/torch (see ml/runtime.py)
        p = Path(path)
        file = p / MODEL_FILE if p.is_dir() else p
        if not file.is_file():
            raise InputError(f"No saved model at {str(p)!r}; pass the directory or .joblib file written by "
                             f"TrainedModel.save().")
        blob = joblib.load(file)
        if not isinstance(blob, dict) or blob.get("format_version") != FORMAT_VERSION:
            raise InputError(f"{str(file)!r} is not a model saved by this omicsagent version; retrain it.")
        return blob["trained"]


def _jsonable(v):
    return v.item() if isinstance(v, np.generic) else v
