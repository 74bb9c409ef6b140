"""Protein sequences and their variants: public amino-acid tables, mutation parsing, and two blocks.

* ``protein_properties`` (flat, dense): length, composition and physico-chemical averages of each sequence.
* ``mutations`` (flat, dense + sparse): what a deep mutational scan varies, one row per variant. The
  mutations come from a column in ``mutant`` notation (``H24S``; several joined by ``:``) or, without one,
  from comparing equal-length sequences with the training consensus (the reference). Features are summed
  over a variant's mutations (an additive model over single mutations applies to multi-mutants):
  position-independent substitution descriptors (BLOSUM62, hydrophobicity, volume, charge, polarity,
  helix propensity of the wild-type and mutant residue and their change, their one-hot codes, the local
  wild-type environment) and, in named column groups, one-hot sites and site x property interactions so
  that ``group_ridge`` can shrink per-position effects separately from the shared ones.

The tables are public facts: BLOSUM62 (Henikoff & Henikoff 1992, as distributed with NCBI BLAST),
Kyte-Doolittle hydropathy (1982), Zamyatnin side-chain volumes (1972), Grantham polarity (1974), Pace &
Scholtz helix propensities (1998, kcal/mol relative to alanine) and average residue masses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml.features import Block, text_column

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
STOP = "*"

_BLOSUM_ORDER = "ARNDCQEGHILKMFPSTWYV"
_BLOSUM62_ROWS = """
 4 -1 -2 -2  0 -1 -1  0 -2 -1 -1 -1 -1 -2 -1  1  0 -3 -2  0
-1  5  0 -2 -3  1  0 -2  0 -3 -2  2 -1 -3 -2 -1 -1 -3 -2 -3
-2  0  6  1 -3  0  0  0  1 -3 -3  0 -2 -3 -2  1  0 -4 -2 -3
-2 -2  1  6 -3  0  2 -1 -1 -3 -4 -1 -3 -3 -1  0 -1 -4 -3 -3
 0 -3 -3 -3  9 -3 -4 -3 -3 -1 -1 -3 -1 -2 -3 -1 -1 -2 -2 -1
-1  1  0  0 -3  5  2 -2  0 -3 -2  1  0 -3 -1  0 -1 -2 -1 -2
-1  0  0  2 -4  2  5 -2  0 -3 -3  1 -2 -3 -1  0 -1 -3 -2 -2
 0 -2  0 -1 -3 -2 -2  6 -2 -4 -4 -2 -3 -3 -2  0 -2 -2 -3 -3
-2  0  1 -1 -3  0  0 -2  8 -3 -3 -1 -2 -1 -2 -1 -2 -2  2 -3
-1 -3 -3 -3 -1 -3 -3 -4 -3  4  2 -3  1  0 -3 -2 -1 -3 -1  3
-1 -2 -3 -4 -1 -2 -3 -4 -3  2  4 -2  2  0 -3 -2 -1 -2 -1  1
-1  2  0 -1 -3  1  1 -2 -1 -3 -2  5 -1 -3 -1  0 -1 -3 -2 -2
-1 -1 -2 -3 -1  0 -2 -3 -2  1  2 -1  5  0 -2 -1 -1 -1 -1  1
-2 -3 -3 -3 -2 -3 -3 -3 -1  0  0 -3  0  6 -4 -2 -2  1  3 -1
-1 -2 -2 -1 -3 -1 -1 -2 -2 -3 -3 -1 -2 -4  7 -1 -1 -4 -3 -2
 1 -1  1  0 -1  0  0  0 -1 -2 -2  0 -1 -2 -1  4  1 -3 -2 -2
 0 -1  0 -1 -1 -1 -1 -2 -2 -1 -1 -1 -1 -2 -1  1  5 -2 -2  0
-3 -3 -4 -4 -2 -2 -3 -2 -2 -3 -2 -3 -1  1 -4 -3 -2 11  2 -3
-2 -2 -2 -3 -2 -1 -2 -3  2 -1 -1 -2 -1  3 -3 -2 -2  2  7 -1
 0 -3 -3 -3 -1 -2 -2 -3 -3  3  1 -2  1 -1 -2 -2  0 -3 -1  4
"""
_BLOSUM_STOP = -4  # any residue against a stop codon; * against * is 1


def _blosum62() -> dict[tuple[str, str], int]:
    rows = [[int(v) for v in line.split()] for line in _BLOSUM62_ROWS.strip().splitlines()]
    table = {(a, b): rows[i][j] for i, a in enumerate(_BLOSUM_ORDER) for j, b in enumerate(_BLOSUM_ORDER)}
    for a in _BLOSUM_ORDER:
        table[(a, STOP)] = table[(STOP, a)] = _BLOSUM_STOP
    table[(STOP, STOP)] = 1
    return table


BLOSUM62 = _blosum62()

# Per-residue scales (stop codons get the mean of the scale, and are flagged separately).
SCALES: dict[str, dict[str, float]] = {
    "hydrophobicity": {  # Kyte & Doolittle 1982
        "A": 1.8, "R": -4.5, "N": -3.5, "D": -3.5, "C": 2.5, "Q": -3.5, "E": -3.5, "G": -0.4, "H": -3.2,
        "I": 4.5, "L": 3.8, "K": -3.9, "M": 1.9, "F": 2.8, "P": -1.6, "S": -0.8, "T": -0.7, "W": -0.9,
        "Y": -1.3, "V": 4.2},
    "volume": {  # Zamyatnin 1972, cubic angstroms
        "A": 88.6, "R": 173.4, "N": 114.1, "D": 111.1, "C": 108.5, "Q": 143.8, "E": 138.4, "G": 60.1,
        "H": 153.2, "I": 166.7, "L": 166.7, "K": 168.6, "M": 162.9, "F": 189.9, "P": 112.7, "S": 89.0,
        "T": 116.1, "W": 227.8, "Y": 193.6, "V": 140.0},
    "charge": {  # side-chain charge near pH 7 (histidine mostly neutral)
        **{a: 0.0 for a in AMINO_ACIDS}, "D": -1.0, "E": -1.0, "K": 1.0, "R": 1.0, "H": 0.1},
    "polarity": {  # Grantham 1974
        "A": 8.1, "R": 10.5, "N": 11.6, "D": 13.0, "C": 5.5, "Q": 10.5, "E": 12.3, "G": 9.0, "H": 10.4,
        "I": 5.2, "L": 4.9, "K": 11.3, "M": 5.7, "F": 5.2, "P": 8.0, "S": 9.2, "T": 8.6, "W": 5.4,
        "Y": 6.2, "V": 5.9},
    "helix_penalty": {  # Pace & Scholtz 1998: kcal/mol relative to alanine (higher = worse in a helix)
        "A": 0.0, "L": 0.21, "R": 0.21, "M": 0.24, "K": 0.26, "Q": 0.39, "E": 0.40, "I": 0.41, "W": 0.49,
        "S": 0.50, "Y": 0.53, "F": 0.54, "H": 0.61, "V": 0.61, "N": 0.65, "T": 0.66, "C": 0.68, "D": 0.69,
        "G": 1.0, "P": 3.16},
}
RESIDUE_MASS = {  # average residue masses (Da), i.e. amino acid minus water
    "A": 71.08, "R": 156.19, "N": 114.10, "D": 115.09, "C": 103.14, "Q": 128.13, "E": 129.12, "G": 57.05,
    "H": 137.14, "I": 113.16, "L": 113.16, "K": 128.17, "M": 131.19, "F": 147.18, "P": 97.12, "S": 87.08,
    "T": 101.10, "W": 186.21, "Y": 163.18, "V": 99.13}
AROMATIC, TINY, POLAR = set("FWYH"), set("AGSC"), set("STNQCYHKRDE")

# --- mutation notation ------------------------------------------------------------------------------

_TOKEN = re.compile(r"^(?:P\.)?([A-Z*])(\d+)([A-Z*])$")  # text is upper-cased first
_SEPARATORS = re.compile(r"[:;,+/\s]+")
_WILD_TYPE = {"", "WT", "_WT", "WILDTYPE", "WILD-TYPE", "SYNONYMOUS", "_SYN"}


@dataclass(frozen=True)
class Mutation:
    wt: str
    position: int  # 1-based, as written
    mut: str


def parse_mutant(text: object) -> list[Mutation] | None:
    """``"H24S"`` -> [Mutation('H', 24, 'S')]; ``"H24S:A42G"`` -> two; wild type -> []; unreadable -> None."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    s = str(text).strip().upper()
    if s in _WILD_TYPE:
        return []
    out = []
    for token in _SEPARATORS.split(s):
        if not token:
            continue
        m = _TOKEN.match(token)
        if m is None or int(m.group(2)) < 1:
            return None
        out.append(Mutation(m.group(1), int(m.group(2)), m.group(3)))
    return out


def mutant_fraction(values: pd.Series) -> float:
    """Share of non-missing values that read as mutant notation with at least one substitution."""
    v = values.dropna().astype(str)
    if not len(v):
        return 0.0
    return float(np.mean([bool(parse_mutant(x)) for x in v]))


def consensus(seqs: list[str]) -> str:
    """The most common residue at each position of equal-length sequences."""
    arr = np.array([list(s) for s in seqs])
    out = []
    for col in arr.T:
        letters, counts = np.unique(col, return_counts=True)
        out.append(str(letters[counts.argmax()]))
    return "".join(out)


def diff_mutations(seq: str, reference: str) -> list[Mutation] | None:
    """Substitutions turning ``reference`` into ``seq`` (None when the lengths differ)."""
    if len(seq) != len(reference):
        return None
    return [Mutation(r, i + 1, s) for i, (r, s) in enumerate(zip(reference, seq)) if r != s]


def scale_value(name: str, residue: str) -> float:
    table = SCALES[name]
    return table.get(residue, float(np.mean(list(table.values()))))


# --- blocks ----------------------------------------------------------------------------------------

@dataclass
class ProteinPropertiesBlock(Block):
    """Per sequence: log length, amino-acid composition (20), mean of each residue scale, net charge,
    aromatic/tiny/polar fractions and log mass. Cheap, position-free, dense."""

    kind = "protein_properties"
    output = "flat"
    column: str = ""

    def check(self) -> None:
        if not self.column:
            raise InputError(
                'The "protein_properties" block needs a "column" naming a protein column; add it.'
            )

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def feature_names(self) -> list[str]:
        return ([f"{self.column}:log_length"] + [f"{self.column}:frac_{a}" for a in AMINO_ACIDS]
                + [f"{self.column}:mean_{s}" for s in SCALES]
                + [f"{self.column}:{n}" for n in ("net_charge", "aromatic", "tiny", "polar", "log_mass")])

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        seqs = text_column(df, self.column)
        index = {a: i for i, a in enumerate(AMINO_ACIDS)}
        scale_rows = np.array([[SCALES[s][a] for s in SCALES] for a in AMINO_ACIDS])  # (20, n_scales)
        mass = np.array([RESIDUE_MASS[a] for a in AMINO_ACIDS])
        aro = np.array([a in AROMATIC for a in AMINO_ACIDS], dtype=float)
        tiny = np.array([a in TINY for a in AMINO_ACIDS], dtype=float)
        polar = np.array([a in POLAR for a in AMINO_ACIDS], dtype=float)
        charge = np.array([SCALES["charge"][a] for a in AMINO_ACIDS])
        out = np.zeros((len(seqs), len(self.feature_names())), dtype=np.float32)
        for r, s in enumerate(seqs):
            counts = np.zeros(20)
            for ch in s:
                i = index.get(ch)
                if i is not None:
                    counts[i] += 1
            total = counts.sum()
            frac = counts / total if total else counts
            out[r] = np.concatenate([[np.log1p(len(s))], frac, frac @ scale_rows,
                                     [counts @ charge, frac @ aro, frac @ tiny, frac @ polar,
                                      np.log1p(counts @ mass + 18.02 * (total > 0))]])
        return out


PROPERTY_NAMES = ("hydrophobicity", "volume", "charge", "polarity", "helix_penalty")
_MUT_LETTERS = AMINO_ACIDS + STOP


def _mutant_profiles() -> tuple[tuple[str, ...], dict[str, np.ndarray]]:
    """Per mutant residue: its scales z-scored over the 20 amino acids, plus aromatic / proline / glycine /
    stop flags (a stop codon is 0 on every scale). These are the properties each site gets its own
    (shrunk) slope for, so the site x property columns are all on one scale."""
    names = (*SCALES, "aromatic", "to_proline", "to_glycine", "to_stop")
    table = {}
    for a in _MUT_LETTERS:
        row = []
        for table_s in SCALES.values():
            values = np.array(list(table_s.values()))
            row.append(0.0 if a == STOP else (table_s[a] - values.mean()) / values.std())
        row += [float(a in AROMATIC), float(a == "P"), float(a == "G"), float(a == STOP)]
        table[a] = np.array(row)
    return names, table


_SITE_SCALE_NAMES, _MUTANT_PROFILE = _mutant_profiles()
SITE_PROPERTIES = ("blosum", *_SITE_SCALE_NAMES)


def _residue_kernel_features(length_scale: float = 2.0) -> dict[str, np.ndarray]:
    """Per mutant residue, a 20-dimensional feature map of an RBF kernel over its z-scored scales and
    aromatic / proline / glycine flags: dot products of two residues' maps give their similarity. A site
    x map group lets a position's effect of one residue inform similar residues at that position, without
    one free parameter per (position, residue) pair (which a held-out variant would never have seen)."""
    profile = np.array([_MUTANT_PROFILE[a][:len(SCALES) + 3] for a in AMINO_ACIDS])  # scales + aromatic, P, G
    d2 = ((profile[:, None, :] - profile[None, :, :]) ** 2).sum(axis=-1)
    w, v = np.linalg.eigh(np.exp(-d2 / (2 * length_scale ** 2)))
    feats = v * np.sqrt(np.clip(w, 0.0, None))
    table = {a: feats[i] for i, a in enumerate(AMINO_ACIDS)}
    table[STOP] = np.zeros(len(AMINO_ACIDS))
    return table


_RESIDUE_MAP = _residue_kernel_features()


@dataclass
class MutationsBlock(Block):
    """Mutation descriptors for variants of one protein, summed over each variant's mutations.

    ``column``: mutant notation (``H24S``, ``H24S:A42G``; positions as written, 1-based). Without it,
    ``sequence_column`` (equal-length variants) is compared with the training consensus. Options:
    ``sites`` (true): one-hot position columns (group ``sites``); ``site_properties`` (true): position x
    substitution-property columns (group ``site_properties``); ``site_residues`` (true): position x a
    kernel feature map of the mutant residue (group ``site_residues``); ``substitutions`` (true):
    wild-type x mutant pair one-hot (400 + stop, group ``substitutions``); ``window`` (3): half-width of
    the wild-type environment averaged around each site (needs ``sequence_column`` or a consistent
    mutant column).
    """

    kind = "mutations"
    output = "flat"
    column: str = ""
    sequence_column: str = ""
    sites: bool = True
    site_properties: bool = True
    site_residues: bool = True
    substitutions: bool = True
    window: int = 3
    _reference: str = field(default="", repr=False, init=False)  # wild type, when known
    _n_sites: int = field(default=0, repr=False, init=False)
    _center: np.ndarray | None = field(default=None, repr=False, init=False)
    _scale: np.ndarray | None = field(default=None, repr=False, init=False)

    def check(self) -> None:
        if not self.column and not self.sequence_column:
            raise InputError('The "mutations" block needs "column" (mutant notation such as H24S) or '
                             '"sequence_column" (equal-length variant sequences); add one.')
        if not isinstance(self.window, int) or not 0 <= self.window <= 20:
            raise InputError("window must be an integer from 0 to 20; fix the mutations block.")

    @property
    def input_columns(self) -> list[str]:
        return [c for c in (self.column, self.sequence_column) if c]

    # -- mutations per row
    def _mutations(self, df: pd.DataFrame) -> list[list[Mutation] | None]:
        if self.column:
            return [parse_mutant(v) for v in df[self.column].tolist()]
        return [diff_mutations(s, self._reference) for s in text_column(df, self.sequence_column)]

    def fit(self, df: pd.DataFrame) -> MutationsBlock:
        self._reference = ""
        if self.sequence_column:
            seqs = text_column(df, self.sequence_column)
            lengths = {len(s) for s in seqs if s}
            if self.column:
                self._reference = _wild_type_from(seqs, self._mutations(df))
            elif len(lengths) == 1:
                self._reference = consensus(seqs[:5000])
            elif not self.column:
                raise InputError(
                    f"The sequences in {self.sequence_column!r} have different lengths, so they cannot "
                    f"be compared position by position; give a mutant column instead."
                )
        muts = [m for ms in self._mutations(df) if ms for m in ms]
        top = max((m.position for m in muts), default=0)
        self._n_sites = int(max(top, len(self._reference)) + 1)
        # descriptors are standardised on the training rows, so every column group is on a unit scale
        dense = self._features(df)[0]
        self._center, sd = dense.mean(axis=0), dense.std(axis=0)
        self._scale = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 0.0)
        return self

    # -- features
    def _dense_names(self) -> list[str]:
        props = [f"{w}_{p}" for p in PROPERTY_NAMES for w in ("wt", "mut", "d")]
        env = [f"env_{p}" for p in PROPERTY_NAMES] if self.window else []
        return (
            [
                "n_mutations",
                "unreadable",
                "relative_position",
                "blosum",
                "to_stop",
                "to_proline",
                "to_glycine",
                "from_proline",
                "from_glycine",
                "from_cysteine",
            ]
            + props
            + env
            + [f"wt_{a}" for a in AMINO_ACIDS]
            + [f"mut_{a}" for a in _MUT_LETTERS]
        )

    def feature_names(self) -> list[str]:
        names = [f"{self.column or self.sequence_column}:{n}" for n in self._dense_names()]
        if self.sites:
            names += [f"site:{p}" for p in range(self._n_sites)]
        if self.site_properties:
            names += [f"site:{p}:{q}" for p in range(self._n_sites) for q in SITE_PROPERTIES]
        if self.site_residues:
            names += [
                f"site:{p}:residue_map{i}" for p in range(self._n_sites) for i in range(len(AMINO_ACIDS))
            ]
        if self.substitutions:
            names += [f"sub:{a}>{b}" for a in AMINO_ACIDS for b in _MUT_LETTERS]
        return names

    def column_groups(self) -> dict[str, np.ndarray]:
        """Named groups of this block's columns (offsets within the block)."""
        n_dense = len(self._dense_names())
        groups, at = {"mutation_descriptors": np.arange(n_dense)}, n_dense
        for name, on, width in (
            ("sites", self.sites, self._n_sites),
            ("site_properties", self.site_properties, self._n_sites * len(SITE_PROPERTIES)),
            ("site_residues", self.site_residues, self._n_sites * len(AMINO_ACIDS)),
            ("substitutions", self.substitutions, len(AMINO_ACIDS) * len(_MUT_LETTERS)),
        ):
            if on:
                groups[name] = np.arange(at, at + width)
                at += width
        return groups

    def transform(self, df: pd.DataFrame) -> sparse.csr_matrix:
        dense, parts = self._features(df)
        dense = (dense - self._center) * self._scale
        return sparse.hstack(
            [sparse.csr_matrix(dense.astype(np.float32))] + parts, format="csr", dtype=np.float32
        )

    def _features(self, df: pd.DataFrame) -> tuple[np.ndarray, list[sparse.csr_matrix]]:
        """Raw dense descriptors and the sparse groups, per row."""
        rows = self._mutations(df)
        n = len(rows)
        names = self._dense_names()
        dense = np.zeros((n, len(names)), dtype=np.float64)
        col = {k: i for i, k in enumerate(names)}
        env = self._environment() if self.window else None
        n_props = len(SITE_PROPERTIES)
        site_r, site_c, sp_r, sp_c, sp_v, sub_r, sub_c = [], [], [], [], [], [], []
        sr_r, sr_c, sr_v = [], [], []
        n_map = len(AMINO_ACIDS)
        length = max(len(self._reference), self._n_sites - 1, 1)
        for r, ms in enumerate(rows):
            if ms is None:
                dense[r, col["unreadable"]] = 1.0
                continue
            dense[r, col["n_mutations"]] = len(ms)
            for m in ms:
                wt, mut = m.wt, m.mut
                b = BLOSUM62.get((wt, mut), 0)
                dense[r, col["relative_position"]] += m.position / length
                dense[r, col["blosum"]] += b
                dense[r, col["to_stop"]] += mut == STOP
                dense[r, col["to_proline"]] += mut == "P"
                dense[r, col["to_glycine"]] += mut == "G"
                dense[r, col["from_proline"]] += wt == "P"
                dense[r, col["from_glycine"]] += wt == "G"
                dense[r, col["from_cysteine"]] += wt == "C"
                for p in PROPERTY_NAMES:
                    a, c = scale_value(p, wt), scale_value(p, mut)
                    dense[r, col[f"wt_{p}"]] += a
                    dense[r, col[f"mut_{p}"]] += c
                    dense[r, col[f"d_{p}"]] += c - a
                if env is not None and m.position < len(env):
                    dense[r, col["env_hydrophobicity"] : col["env_hydrophobicity"] + len(PROPERTY_NAMES)] += (
                        env[m.position]
                    )
                if wt in AMINO_ACIDS:
                    dense[r, col[f"wt_{wt}"]] += 1
                if mut in _MUT_LETTERS:
                    dense[r, col[f"mut_{mut}"]] += 1
                if m.position >= self._n_sites:
                    continue  # a site never seen in training carries no site-specific information
                site_r.append(r)
                site_c.append(m.position)
                props = np.concatenate([[b / 4.0], _MUTANT_PROFILE.get(mut, np.zeros(n_props - 1))])
                sp_r.extend([r] * n_props)
                sp_c.extend(m.position * n_props + np.arange(n_props))
                sp_v.extend(props)
                sr_r.extend([r] * n_map)
                sr_c.extend(m.position * n_map + np.arange(n_map))
                sr_v.extend(_RESIDUE_MAP.get(mut, np.zeros(n_map)))
                if wt in AMINO_ACIDS and mut in _MUT_LETTERS:
                    sub_r.append(r)
                    sub_c.append(AMINO_ACIDS.index(wt) * len(_MUT_LETTERS) + _MUT_LETTERS.index(mut))
        parts = []
        if self.sites:
            parts.append(_indicator(site_r, site_c, np.ones(len(site_r)), (n, self._n_sites)))
        if self.site_properties:
            parts.append(_indicator(sp_r, sp_c, np.asarray(sp_v, dtype=float), (n, self._n_sites * n_props)))
        if self.site_residues:
            parts.append(_indicator(sr_r, sr_c, np.asarray(sr_v, dtype=float), (n, self._n_sites * n_map)))
        if self.substitutions:
            parts.append(
                _indicator(sub_r, sub_c, np.ones(len(sub_r)), (n, len(AMINO_ACIDS) * len(_MUT_LETTERS)))
            )
        return dense, parts

    def _environment(self) -> np.ndarray | None:
        """Per 1-based site: mean residue scales of the wild type within ``window`` (the site excluded)."""
        ref = self._reference
        if not ref:
            return None
        values = np.array([[scale_value(p, a) for p in PROPERTY_NAMES] for a in ref])  # (L, n_props)
        out = np.zeros((len(ref) + 1, len(PROPERTY_NAMES)))
        for i in range(len(ref)):
            lo, hi = max(0, i - self.window), min(len(ref), i + self.window + 1)
            idx = [j for j in range(lo, hi) if j != i]
            if idx:
                out[i + 1] = values[idx].mean(axis=0)
        return out


def _indicator(r: list, c: list, v: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    m = sparse.coo_matrix(
        (v, (np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64))), shape=shape
    ).tocsr()
    m.sum_duplicates()
    return m


def _wild_type_from(seqs: list[str], muts: list[list[Mutation] | None]) -> str:
    """The wild-type sequence: each variant's sequence with its mutations reverted, consensus of the most
    common length. Empty when the mutant positions do not match the sequences."""
    reverted, agree, total = [], 0, 0
    for s, ms in zip(seqs, muts):
        if ms is None or not s:
            continue
        chars = list(s)
        for m in ms:
            total += 1
            if 0 < m.position <= len(chars) and chars[m.position - 1] == m.mut:
                agree += 1
                chars[m.position - 1] = m.wt
        reverted.append("".join(chars))
    if not reverted or (total and agree < 0.9 * total):
        return ""
    lengths = pd.Series([len(s) for s in reverted]).value_counts()
    common = int(lengths.index[0])
    return consensus([s for s in reverted if len(s) == common][:5000])
