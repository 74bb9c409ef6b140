"""SMILES block: RDKit Morgan fingerprints plus descriptors; malformed SMILES give a zero row and a
validity flag of 0 instead of an error. RDKit's log is silenced only while parsing."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omicsagent.errors import InputError
from omicsagent.ml.features import Block
from omicsagent.ml.rowcache import cached_rows, feature_cache

DESCRIPTOR_SETS = ("none", "basic", "all")
_BASIC = ("MolWt", "MolLogP", "MolMR", "TPSA", "NumHDonors", "NumHAcceptors", "NumRotatableBonds",
          "RingCount", "NumAromaticRings", "HeavyAtomCount", "FractionCSP3", "NumHeteroatoms",
          "NHOHCount", "NOCount", "NumValenceElectrons", "LabuteASA", "BertzCT", "qed")


def parse_smiles(smiles: list) -> list:
    """RDKit molecules (``None`` for anything that does not parse), without log spam."""
    from rdkit import Chem
    from rdkit.rdBase import BlockLogs

    mols = []
    blocker = BlockLogs()
    try:
        for s in smiles:
            if not isinstance(s, str) or not s.strip():
                mols.append(None)
                continue
            try:
                mols.append(Chem.MolFromSmiles(s.strip()))
            except Exception:  # RDKit raises on some pathological inputs instead of returning None
                mols.append(None)
    finally:
        del blocker
    return mols


def _descriptor_functions(which: str) -> list[tuple[str, object]]:
    from rdkit.Chem import Descriptors

    table = dict(Descriptors.descList)
    if which == "all":
        return list(Descriptors.descList)
    if which == "basic":
        return [(n, table[n]) for n in _BASIC if n in table]
    return []


@dataclass
class SmilesBlock(Block):
    """Morgan fingerprint (``radius``, ``n_bits``, counts or bits) + descriptors (none/basic/all)."""

    kind = "smiles"
    output = "flat"
    column: str = ""
    radius: int = 2
    n_bits: int = 2048
    counts: bool = True
    descriptors: str = "basic"
    _desc_names: list[str] = field(default_factory=list, repr=False, init=False)

    def check(self) -> None:
        if not self.column:
            raise InputError(
                'The "smiles" block needs a "column" naming the SMILES column; add it to the spec.'
            )
        if self.descriptors not in DESCRIPTOR_SETS:
            raise InputError(
                f"descriptors must be one of {', '.join(DESCRIPTOR_SETS)}, got {self.descriptors!r}; "
                f"pick one."
            )
        if self.n_bits < 0 or self.radius < 0:
            raise InputError("n_bits and radius must be non-negative; fix the smiles block spec.")

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def fit(self, df: pd.DataFrame) -> SmilesBlock:
        self._desc_names = [n for n, _ in _descriptor_functions(self.descriptors)]
        return self

    def feature_names(self) -> list[str]:
        return ([f"{self.column}:valid"] + [f"{self.column}:morgan{i}" for i in range(self.n_bits)]
                + [f"{self.column}:{n}" for n in self._desc_names])

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Rows of the run's feature cache where it has them (``ml.rowcache``; only inside a run), the rest
        computed: the same SMILES gives the same row in every iteration, fold and scoring pass of a run."""
        import rdkit

        texts = [v if isinstance(v, str) else "" for v in df[self.column].tolist()]
        what = {"block": "smiles", "version": 1, "rdkit": rdkit.__version__, "radius": self.radius,
                "n_bits": self.n_bits, "counts": self.counts, "descriptors": self._desc_names}
        identity = hashlib.sha1(json.dumps(what).encode()).hexdigest()
        return cached_rows(feature_cache(identity), texts, self._compute,
                           width=1 + self.n_bits + len(self._desc_names), what=f"{self.column} (smiles)")

    def _compute(self, smiles: list[str]) -> np.ndarray:
        from rdkit.Chem import rdFingerprintGenerator
        from rdkit.rdBase import BlockLogs

        mols = parse_smiles(smiles)
        funcs = dict(_descriptor_functions(self.descriptors))
        n = len(mols)
        valid = np.array([m is not None for m in mols], dtype=np.float32)[:, None]
        fp = np.zeros((n, self.n_bits), dtype=np.float32)
        desc = np.zeros((n, len(self._desc_names)), dtype=np.float32)
        gen = rdFingerprintGenerator.GetMorganGenerator(radius=self.radius, fpSize=max(self.n_bits, 1)) \
            if self.n_bits else None
        blocker = BlockLogs()
        try:
            for r, mol in enumerate(mols):
                if mol is None:
                    continue
                if gen is not None:
                    fp[r] = (
                        gen.GetCountFingerprintAsNumPy(mol) if self.counts else gen.GetFingerprintAsNumPy(mol)
                    )
                for c, name in enumerate(self._desc_names):
                    try:
                        v = float(funcs[name](mol))
                        desc[r, c] = v if abs(v) < 1e6 else float(np.sign(v) * 1e6)
                    except Exception:  # a descriptor that fails on one molecule leaves 0
                        desc[r, c] = 0.0
        finally:
            del blocker
        desc = np.nan_to_num(desc, nan=0.0, posinf=0.0, neginf=0.0)
        desc = np.clip(desc, -1e6, 1e6)
        return np.hstack([valid, fp, desc]).astype(np.float32)
