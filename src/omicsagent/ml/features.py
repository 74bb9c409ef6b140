"""Featurizers: a representation spec (JSON-able dict) -> blocks -> one ``FeatureSet``.

A representation is ``{"blocks": [{"kind": ..., "column": ..., ...}, ...]}``. Each block reads named
input columns (never the target) and writes one of three kinds of output:

* ``flat``: a 2-D matrix (dense or sparse), for linear models, gradient boosting and MLPs;
* ``seq``: a 3-D one-hot tensor ``(n, channels, length)`` for 1-D CNNs;
* ``grid``: a 4-D tensor ``(n, channels, height, width)`` (a miRNA-target pairing matrix) for 2-D CNNs;
* ``graph``: one molecular graph per row (an object array of ``molgraph.MolGraph``) for message passing
  networks; a representation has at most one graph block.

Blocks of the same output kind are concatenated (flat: by columns; seq: along the length; grid: by
channels). Models take the parts they need.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import sparse

from omicsagent.errors import InputError

OUTPUT_KINDS = ("flat", "seq", "grid", "graph")


@dataclass
class FeatureSet:
    """Model inputs for ``n`` rows; any part may be ``None``."""

    flat: np.ndarray | sparse.csr_matrix | None = None
    seq: np.ndarray | None = None
    grid: np.ndarray | None = None
    graph: np.ndarray | None = None  # object array: one molgraph.MolGraph per row
    flat_names: list[str] = field(default_factory=list)
    dense_columns: np.ndarray | None = None  # flat columns that came from dense blocks (not k-mers)
    column_groups: dict[str, np.ndarray] = field(default_factory=dict)  # named sets of flat columns
    # each block's flat columns (none for seq, grid and graph blocks), and each block's output kind
    flat_blocks: list[np.ndarray] = field(default_factory=list)
    block_outputs: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        for part in (self.flat, self.seq, self.grid, self.graph):
            if part is not None:
                return part.shape[0]
        return 0

    def subset(self, idx: np.ndarray) -> FeatureSet:
        return FeatureSet(flat=None if self.flat is None else self.flat[idx],
                          seq=None if self.seq is None else self.seq[idx],
                          grid=None if self.grid is None else self.grid[idx],
                          graph=None if self.graph is None else self.graph[idx],
                          flat_names=self.flat_names, dense_columns=self.dense_columns,
                          column_groups=self.column_groups, flat_blocks=self.flat_blocks,
                          block_outputs=self.block_outputs)

    def of_blocks(self, which: list[int]) -> FeatureSet:
        """The features some blocks wrote (by their position in the representation): their flat columns,
        with names, dense columns and groups renumbered; the seq, grid and graph parts are kept whole when
        one of the blocks wrote to them, and dropped otherwise. What an ensemble member reads when it was
        chosen on a representation of its own (``Ensemble.member_blocks``): the same features as on that
        representation alone."""
        if not self.flat_blocks:
            return self
        known = len(self.block_outputs) == len(self.flat_blocks)
        kinds = {self.block_outputs[i] for i in which} if known else set(OUTPUT_KINDS)
        width = 0 if self.flat is None else self.flat.shape[1]
        cols = (np.concatenate([self.flat_blocks[i] for i in which]) if which else np.zeros(0, dtype=int))
        pos = np.full(width, -1)
        pos[cols] = np.arange(len(cols))

        def renumber(a: np.ndarray) -> np.ndarray:
            p = pos[np.asarray(a, dtype=int)]
            return p[p >= 0]

        flat = self.flat[:, cols] if len(cols) else None
        names = [self.flat_names[i] for i in cols] if len(self.flat_names) == width else []
        dense = None if self.dense_columns is None else renumber(self.dense_columns)
        groups = {k: g for k, v in self.column_groups.items() if len(g := renumber(v))}
        kept = {k: getattr(self, k) if k in kinds else None for k in ("seq", "grid", "graph")}
        return FeatureSet(flat=flat, **kept, flat_names=names, dense_columns=dense, column_groups=groups,
                          flat_blocks=[renumber(self.flat_blocks[i]) for i in which],
                          block_outputs=[self.block_outputs[i] for i in which] if known else [])

    def describe(self) -> str:
        parts = []
        for name in OUTPUT_KINDS:
            a = getattr(self, name)
            if a is not None:
                kind = "sparse" if sparse.issparse(a) else "dense"
                parts.append(f"{name}{tuple(a.shape)}{' ' + kind if name == 'flat' else ''}")
        return ", ".join(parts) or "no features"


class Block:
    """One featurizer block. Subclasses are dataclasses whose fields are the spec options."""

    kind: ClassVar[str] = ""
    output: ClassVar[str] = "flat"

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Block:
        allowed = {f.name for f in fields(cls) if f.init}  # type: ignore[arg-type]
        unknown = sorted(set(spec) - allowed - {"kind"})
        if unknown:
            raise InputError(f"Block {cls.kind!r} has no option(s) {', '.join(unknown)}; "
                             f"use only: {', '.join(sorted(allowed))}.")
        try:
            block = cls(**{k: v for k, v in spec.items() if k != "kind"})
        except TypeError as exc:
            raise InputError(f"Block {cls.kind!r} is missing an option ({exc}); "
                             f"give all of: {', '.join(sorted(allowed))}.") from exc
        block.check()
        return block

    def check(self) -> None:
        """Validate options; raise ``InputError`` with one sentence."""

    @property
    def input_columns(self) -> list[str]:
        raise NotImplementedError

    def fit(self, df: pd.DataFrame) -> Block:
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray | sparse.csr_matrix:
        raise NotImplementedError

    def feature_names(self) -> list[str]:
        return []

    def column_groups(self) -> dict[str, np.ndarray]:
        """Named groups of this block's flat columns (offsets within the block), for models that treat
        groups differently (``group_ridge``); empty when the block has no such structure."""
        return {}


def block_classes() -> dict[str, type[Block]]:
    from omicsagent.ml.chem import SmilesBlock
    from omicsagent.ml.embeddings import EmbeddingBlock
    from omicsagent.ml.molgraph import MolGraphBlock
    from omicsagent.ml.pairs import PairFeaturesBlock, PairMatrixBlock
    from omicsagent.ml.protein import MutationsBlock, ProteinPropertiesBlock
    from omicsagent.ml.seqblocks import KmerBlock, OneHotBlock
    from omicsagent.ml.singlecell import ExpressionBlock
    from omicsagent.ml.tabular import TabularBlock
    from omicsagent.ml.textblocks import CharNgramBlock

    return {
        c.kind: c
        for c in (
            KmerBlock,
            OneHotBlock,
            PairFeaturesBlock,
            PairMatrixBlock,
            SmilesBlock,
            MolGraphBlock,
            TabularBlock,
            ProteinPropertiesBlock,
            MutationsBlock,
            EmbeddingBlock,
            CharNgramBlock,
            ExpressionBlock,
        )
    }


@dataclass
class Featurizer:
    """A list of blocks; ``fit_transform`` on training rows, ``transform`` on any rows."""

    blocks: list[Block]

    @property
    def input_columns(self) -> list[str]:
        cols: list[str] = []
        for b in self.blocks:
            cols.extend(c for c in b.input_columns if c not in cols)
        return cols

    def flat_feature_names(self) -> list[str]:
        """Names of the flat feature columns, in the order ``transform`` writes them (after fitting)."""
        return [name for b in self.blocks if b.output == "flat" for name in b.feature_names()]

    def check_columns(self, df: pd.DataFrame) -> None:
        missing = [c for c in self.input_columns if c not in df.columns]
        if missing:
            raise InputError(f"The input table lacks column(s) {', '.join(map(repr, missing))}; "
                             f"add them (the model was trained on them).")

    def fit(self, df: pd.DataFrame) -> Featurizer:
        self.fit_transform(df)
        return self

    def fit_transform(self, df: pd.DataFrame) -> FeatureSet:
        self.check_columns(df)
        for b in self.blocks:
            b.fit(df)
        return self.transform(df)

    def transform(self, df: pd.DataFrame) -> FeatureSet:
        self.check_columns(df)
        parts: dict[str, list] = {k: [] for k in OUTPUT_KINDS}
        names: list[str] = []
        dense: list[np.ndarray] = []
        groups: dict[str, np.ndarray] = {}
        blocks: list[np.ndarray] = []
        width = 0
        for b in self.blocks:
            out = b.transform(df)
            parts[b.output].append(out)
            blocks.append(np.arange(width, width + out.shape[1]) if b.output == "flat" else np.zeros(0, int))
            if b.output == "flat":
                names.extend(b.feature_names())
                if not sparse.issparse(out):
                    dense.append(np.arange(width, width + out.shape[1]))
                for name, cols in b.column_groups().items():
                    groups[name] = np.concatenate([groups.get(name, np.zeros(0, dtype=int)), width + cols])
                width += out.shape[1]
        return FeatureSet(flat=_stack_flat(parts["flat"]), seq=_stack(parts["seq"], axis=2),
                          grid=_stack(parts["grid"], axis=1),
                          graph=parts["graph"][0] if parts["graph"] else None, flat_names=names,
                          dense_columns=np.concatenate(dense) if dense else np.zeros(0, dtype=int),
                          column_groups=groups, flat_blocks=blocks,
                          block_outputs=[b.output for b in self.blocks])


def build_featurizer(representation: dict[str, Any]) -> Featurizer:
    """Build the featurizer described by ``{"blocks": [{"kind": ..., ...}, ...]}``."""
    if not isinstance(representation, dict) or not isinstance(representation.get("blocks"), list) \
            or not representation["blocks"]:
        raise InputError(
            'A representation must be a dict like {"blocks": [{"kind": "kmer", "column": "seq"}]}'
            "; give at least one block."
        )
    classes = block_classes()
    blocks = []
    for spec in representation["blocks"]:
        kind = spec.get("kind") if isinstance(spec, dict) else None
        if kind not in classes:
            raise InputError(f"Unknown block kind {kind!r}; choose one of: {', '.join(classes)}.")
        blocks.append(classes[kind].from_spec(spec))
    if sum(b.output == "graph" for b in blocks) > 1:
        raise InputError("A representation can hold one graph block (kind \"molgraph\"); keep one.")
    return Featurizer(blocks=blocks)


def _stack_flat(mats: list) -> np.ndarray | sparse.csr_matrix | None:
    if not mats:
        return None
    if len(mats) == 1:
        m = mats[0]
        return m.tocsr().astype(np.float32) if sparse.issparse(m) else np.asarray(m, dtype=np.float32)
    if any(sparse.issparse(m) for m in mats):
        return sparse.hstack([sparse.csr_matrix(m) for m in mats], format="csr", dtype=np.float32)
    return np.hstack(mats).astype(np.float32)


def _stack(arrays: list[np.ndarray], *, axis: int) -> np.ndarray | None:
    if not arrays:
        return None
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=axis).astype(np.float32)


def text_column(df: pd.DataFrame, column: str) -> list[str]:
    """A column as upper-case strings (missing values become empty strings)."""
    return ["" if not isinstance(v, str) else v.strip().upper() for v in df[column].tolist()]
