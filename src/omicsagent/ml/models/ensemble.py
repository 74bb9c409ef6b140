"""Weighted average of member models' probabilities (or regression predictions)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from omicsagent.errors import InputError
from omicsagent.ml.features import FeatureSet
from omicsagent.ml.models.base import Log, Model


@dataclass
class Ensemble(Model):
    """``members``: model specs (each uses the parts of the FeatureSet it needs); ``weights``: one per
    member (default equal). The time limit is shared in proportion to ``time_shares`` (default equal).
    ``member_blocks``: for each member, the positions of the representation's blocks it reads (a blend of
    two candidates: each member sees its own candidate's features, not the union); default: all. Members
    that differ all get the ensemble's seed, as each had when fitted alone; identical members (a bag) get
    seed, seed + 1, ... Inside a run, a member fitted before is read back (``ml.fitcache``)."""

    kind = "ensemble"
    multilabel = True  # when every member is (each member is built for the task and refuses otherwise)
    members: list[dict] = field(default_factory=list)
    weights: list[float] | None = None
    time_shares: list[float] | None = None
    member_blocks: list[list[int]] | None = None
    _models: list = field(default_factory=list, init=False, repr=False)
    _member_columns: list = field(default_factory=list, init=False, repr=False)  # flat columns per member
    _width: int = field(default=0, init=False, repr=False)

    def check(self) -> None:
        if len(self.members) < 2:
            raise InputError("An ensemble needs at least two member specs in \"members\"; add another model.")
        if any(isinstance(m, dict) and m.get("kind") == "ensemble" for m in self.members):
            raise InputError("Ensembles cannot be nested; list the member models directly.")
        for name in ("weights", "time_shares"):
            v = getattr(self, name)
            if v is not None and (len(v) != len(self.members) or any(w < 0 for w in v) or sum(v) <= 0):
                raise InputError(f"{name} needs one non-negative number per member; fix the ensemble spec.")
        mb = self.member_blocks
        if mb is not None and (len(mb) != len(self.members) or not all(
                isinstance(b, list) and b and all(isinstance(i, int) and i >= 0 for i in b) for b in mb)):
            raise InputError("member_blocks needs one non-empty list of block positions (0, 1, ...) per "
                             "member; fix the ensemble spec.")
        from omicsagent.ml.models.base import build_model

        # identical members (a bag) get seeds seed, seed+1, ...; different members all get the ensemble's
        # seed, as each had when fitted alone, so that inside a run their earlier fits are reused (fitcache)
        self._models = [build_model(m, task_type=self.task_type, seed=self.seed + self.members[:i].count(m))
                        for i, m in enumerate(self.members)]

    def _fit(self, X: FeatureSet, y: np.ndarray, *, time_limit_s: float | None, log: Log) -> None:
        shares = np.asarray(self.time_shares or [1.0] * len(self._models), dtype=float)
        start = time.monotonic()
        labels = y if self.task_type in ("regression", "multilabel") else self.classes_[y]
        if self.member_blocks is not None:
            if max(i for b in self.member_blocks for i in b) >= len(X.flat_blocks):
                raise InputError(f"member_blocks names a block beyond the representation's "
                                 f"{len(X.flat_blocks)}; fix the ensemble spec.")
            self._width = 0 if X.flat is None else X.flat.shape[1]
            self._member_columns = [np.concatenate([X.flat_blocks[i] for i in b]) for b in self.member_blocks]
        for i, m in enumerate(self._models):
            limit = None
            if time_limit_s is not None:
                left = time_limit_s - (time.monotonic() - start)
                limit = max(1.0, left * shares[i] / shares[i:].sum())
            log(f"ensemble: member {i + 1}/{len(self._models)} {m.kind}"
                + (f" (time limit {limit:.0f}s)" if limit else ""))
            m.fit(self._member_view(X, i), labels, time_limit_s=limit, log=log)

    def _member_view(self, X: FeatureSet, i: int) -> FeatureSet:
        return X if self.member_blocks is None else X.of_blocks(self.member_blocks[i])

    importance_kind = ("weighted mean over the members that report importances of each member's absolute "
                       "importances scaled to sum to 1")

    def feature_importances(self) -> np.ndarray | None:
        w = np.asarray(self.weights or [1.0] * len(self._models), dtype=float)
        total, weight = None, 0.0
        for i, (wi, m) in enumerate(zip(w, self._models)):
            imp = m.feature_importances()
            if imp is None or wi <= 0 or not np.abs(imp).sum() > 0:
                continue
            share = np.abs(imp) / np.abs(imp).sum()
            if self.member_blocks is not None:  # a member's columns, placed among the ensemble's
                full = np.zeros(self._width)
                full[self._member_columns[i]] = share
                share = full
            total = wi * share if total is None else total + wi * share
            weight += wi
        return None if total is None else total / weight

    def _predict_raw(self, X: FeatureSet) -> np.ndarray:
        w = np.asarray(self.weights or [1.0] * len(self._models), dtype=float)
        w = w / w.sum()
        return sum(wi * m._output(self._member_view(X, i)) for i, (wi, m) in enumerate(zip(w, self._models)))
