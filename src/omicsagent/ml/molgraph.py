"""Molecules as graphs, for message passing networks (``mpnn``).

The ``molgraph`` block turns each SMILES into a ``MolGraph``: one feature row per atom (element, degree,
formal charge, chirality, hydrogens, hybridisation, aromaticity, ring membership, mass) and one per
directed bond (type, conjugation, ring membership, stereo), both directions of every bond side by side so
that bond ``e``'s reverse is ``e ^ 1``. A SMILES that does not parse becomes one all-zero atom (the
network then sees "nothing known" rather than a crash), as the ``smiles`` block gives a zero row.

``collate`` packs many graphs into one disjoint graph (offsets added, a molecule index per atom), the
input of ``omicsagent.ml.models.nets.MPNNet``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omicsagent.errors import InputError
from omicsagent.ml.features import Block

# elements seen in drug-like and environmental chemistry; anything else shares the last slot
ELEMENTS = (6, 7, 8, 9, 15, 16, 17, 35, 53, 5, 14, 11, 19, 3, 12, 20, 26, 29, 30, 34, 13, 50, 33, 80, 1)
DEGREES = (0, 1, 2, 3, 4, 5)
CHARGES = (-2, -1, 0, 1, 2)
CHIRAL = (0, 1, 2, 3)
HYDROGENS = (0, 1, 2, 3, 4)
HYBRID = ("SP", "SP2", "SP3", "SP3D", "SP3D2")
BONDS = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
STEREO = (0, 1, 2, 3)


def _slots(*choices: tuple) -> int:
    return sum(len(c) + 1 for c in choices)


ATOM_FEATURES = _slots(ELEMENTS, DEGREES, CHARGES, CHIRAL, HYDROGENS, HYBRID) + 3
BOND_FEATURES = _slots(BONDS, STEREO) + 2


def _onehot(out: np.ndarray, at: int, value, choices: tuple) -> int:
    """Set the slot of ``value`` among ``choices`` (the extra last slot: anything else); return the next
    offset."""
    out[at + (choices.index(value) if value in choices else len(choices))] = 1.0
    return at + len(choices) + 1


def _atom_row(atom) -> np.ndarray:
    row = np.zeros(ATOM_FEATURES, np.float32)
    at = _onehot(row, 0, atom.GetAtomicNum(), ELEMENTS)
    at = _onehot(row, at, atom.GetTotalDegree(), DEGREES)
    at = _onehot(row, at, atom.GetFormalCharge(), CHARGES)
    at = _onehot(row, at, int(atom.GetChiralTag()), CHIRAL)
    at = _onehot(row, at, atom.GetTotalNumHs(), HYDROGENS)
    at = _onehot(row, at, str(atom.GetHybridization()), HYBRID)
    row[at:at + 3] = (float(atom.GetIsAromatic()), float(atom.IsInRing()), atom.GetMass() / 100.0)
    return row


def _bond_row(bond) -> np.ndarray:
    row = np.zeros(BOND_FEATURES, np.float32)
    at = _onehot(row, 0, str(bond.GetBondType()), BONDS)
    at = _onehot(row, at, int(bond.GetStereo()), STEREO)
    row[at:at + 2] = (float(bond.GetIsConjugated()), float(bond.IsInRing()))
    return row


@dataclass(frozen=True)
class MolGraph:
    atoms: np.ndarray   # (n_atoms, ATOM_FEATURES)
    src: np.ndarray     # (n_directed_bonds,) atom each directed bond leaves
    dst: np.ndarray     # (n_directed_bonds,) atom it enters
    bonds: np.ndarray   # (n_directed_bonds, BOND_FEATURES)


def _empty_graph() -> MolGraph:
    return MolGraph(np.zeros((1, ATOM_FEATURES), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64),
                    np.zeros((0, BOND_FEATURES), np.float32))


def mol_graph(mol) -> MolGraph:
    """The graph of an RDKit molecule (``None``: one all-zero atom)."""
    if mol is None or mol.GetNumAtoms() == 0:
        return _empty_graph()
    atoms = np.stack([_atom_row(a) for a in mol.GetAtoms()])
    src, dst, rows = [], [], []
    for b in mol.GetBonds():
        i, j, r = b.GetBeginAtomIdx(), b.GetEndAtomIdx(), _bond_row(b)
        src += [i, j]
        dst += [j, i]
        rows += [r, r]
    bonds = np.stack(rows) if rows else np.zeros((0, BOND_FEATURES), np.float32)
    return MolGraph(atoms, np.asarray(src, np.int64), np.asarray(dst, np.int64), bonds)


def collate(graphs) -> dict[str, np.ndarray]:
    """Many graphs as one disjoint graph: atom and bond rows stacked, bond ends offset to the stacked atom
    rows, ``rev`` the index of each directed bond's reverse, ``mol`` the molecule of each atom."""
    n_atoms = np.array([len(g.atoms) for g in graphs], np.int64)
    n_bonds = np.array([len(g.src) for g in graphs], np.int64)
    atom_off = np.repeat(np.cumsum(n_atoms) - n_atoms, n_bonds)
    bond_off = np.cumsum(n_bonds) - n_bonds
    src = np.concatenate([g.src for g in graphs]) + atom_off
    dst = np.concatenate([g.dst for g in graphs]) + atom_off
    local = np.arange(int(n_bonds.sum()), dtype=np.int64) - np.repeat(bond_off, n_bonds)
    rev = (local ^ 1) + np.repeat(bond_off, n_bonds)
    return {
        "atoms": np.concatenate([g.atoms for g in graphs]),
        "bonds": np.concatenate([g.bonds for g in graphs]),
        "src": src, "dst": dst, "rev": rev,
        "mol": np.repeat(np.arange(len(graphs), dtype=np.int64), n_atoms),
        "n_mols": np.array(len(graphs)),
    }


@dataclass
class MolGraphBlock(Block):
    """Each SMILES of ``column`` as a molecular graph (output ``graph``), for ``mpnn`` models."""

    kind = "molgraph"
    output = "graph"
    column: str = ""

    def check(self) -> None:
        if not self.column:
            raise InputError('Block "molgraph" needs "column" (the SMILES column); add it.')

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        import rdkit  # noqa: F401  (named here so that a saved model's requirements list RDKit)

        from omicsagent.ml.chem import parse_smiles

        out = np.empty(len(df), dtype=object)
        for i, mol in enumerate(parse_smiles(df[self.column].tolist())):
            out[i] = mol_graph(mol)
        return out
