"""Sequence blocks: k-mer counts (sparse, several k, both strands) and one-hot encoding (for CNNs)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import sparse

from omicsagent.errors import InputError
from omicsagent.ml.features import Block, text_column

ALPHABETS = {"dna": "ACGT", "rna": "ACGT", "protein": "ACDEFGHIKLMNPQRSTVWY"}
NORMALISATIONS = ("count", "freq", "binary", "log1p")


def check_alphabet(alphabet: str) -> None:
    if alphabet not in ALPHABETS:
        raise InputError(f"Unknown alphabet {alphabet!r}; use one of: {', '.join(ALPHABETS)}.")


def encode(seqs: list[str], *, alphabet: str = "dna", length: int | None = None,
           align: str = "left") -> np.ndarray:
    """Integer codes ``(n, length)``: 0..A-1 for letters, -1 for unknown letters and padding.

    RNA ``U`` is read as ``T`` so DNA and RNA share codes (A, C, G, T/U = 0, 1, 2, 3).
    """
    letters = ALPHABETS[alphabet]
    table = np.full(256, -1, dtype=np.int8)
    for i, ch in enumerate(letters):
        table[ord(ch)] = i
        table[ord(ch.lower())] = i
    if alphabet != "protein":
        table[ord("U")] = table[ord("u")] = 3
    width = length if length is not None else max((len(s) for s in seqs), default=1)
    width = max(width, 1)
    out = np.full((len(seqs), width), -1, dtype=np.int8)
    for r, s in enumerate(seqs):
        b = np.frombuffer(s.encode("ascii", "replace"), dtype=np.uint8)
        if len(b) > width:  # truncate keeping the aligned part
            start = 0 if align == "left" else (len(b) - width if align == "right" else (len(b) - width) // 2)
            b = b[start:start + width]
        off = 0 if align == "left" else (width - len(b) if align == "right" else (width - len(b)) // 2)
        out[r, off:off + len(b)] = table[b]
    return out


def reverse_complement(seq: str) -> str:
    return seq.upper().replace("U", "T").translate(str.maketrans("ACGTN", "TGCAN"))[::-1]


def _kmer_index(codes: np.ndarray, k: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Index of every k-mer window ``(n, L-k+1)`` and whether the window is valid."""
    if codes.shape[1] < k:
        n = codes.shape[0]
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=bool)
    win = sliding_window_view(codes, k, axis=1)
    valid = (win >= 0).all(axis=-1)
    powers = base ** np.arange(k - 1, -1, -1, dtype=np.int64)
    idx = (win.astype(np.int64) * powers).sum(axis=-1)
    return idx, valid


@dataclass
class KmerBlock(Block):
    """Counts of all k-mers for each k in ``k`` (sparse); ``both_strands`` merges a k-mer with its
    reverse complement (DNA/RNA only); ``normalize`` is count | freq (per k) | binary | log1p."""

    kind = "kmer"
    output = "flat"
    column: str = ""
    k: list[int] = field(default_factory=lambda: [3, 4, 5, 6])
    alphabet: str = "dna"
    both_strands: bool = False
    normalize: str = "freq"
    _columns_per_k: dict = field(default_factory=dict, repr=False, init=False)

    def check(self) -> None:
        if not self.column:
            raise InputError(
                'The "kmer" block needs a "column" naming a sequence column; add it to the spec.'
            )
        check_alphabet(self.alphabet)
        if isinstance(self.k, int):
            self.k = [self.k]
        limit = 8 if self.alphabet != "protein" else 3
        if not self.k or any(not isinstance(k, int) or k < 1 or k > limit for k in self.k):
            raise InputError(
                f"k-mer sizes must be integers from 1 to {limit} for {self.alphabet}, got {self.k}; "
                f"pick smaller k."
            )
        if self.normalize not in NORMALISATIONS:
            raise InputError(f"Unknown k-mer normalisation {self.normalize!r}; use one of: "
                             f"{', '.join(NORMALISATIONS)}.")
        if self.both_strands and self.alphabet == "protein":
            raise InputError("both_strands only applies to DNA/RNA; set it to false for protein sequences.")

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def _base(self) -> int:
        return len(ALPHABETS[self.alphabet])

    def fit(self, df: pd.DataFrame) -> KmerBlock:
        base = self._base()
        self._columns_per_k = {}
        for k in self.k:
            if self.both_strands:
                idx = np.arange(base ** k, dtype=np.int64)
                canon = np.minimum(idx, _rc_index(idx, k))
                keep = np.unique(canon)
                lookup = np.searchsorted(keep, canon)
                self._columns_per_k[k] = (lookup, len(keep))
            else:
                self._columns_per_k[k] = (np.arange(base ** k), base ** k)
        return self

    def feature_names(self) -> list[str]:
        letters = "ACGU" if self.alphabet == "rna" else ALPHABETS[self.alphabet]
        names = []
        for k in self.k:
            lookup, size = self._columns_per_k[k]
            first: dict[int, str] = {}
            for i, tup in enumerate(itertools.product(letters, repeat=k)):
                first.setdefault(int(lookup[i]), "".join(tup))
            names.extend(f"{self.column}:{first[j]}" for j in range(size))
        return names

    def transform(self, df: pd.DataFrame) -> sparse.csr_matrix:
        codes = encode(text_column(df, self.column), alphabet=self.alphabet)
        n = codes.shape[0]
        mats = []
        for k in self.k:
            lookup, size = self._columns_per_k[k]
            idx, valid = _kmer_index(codes, k, self._base())
            rows = np.repeat(np.arange(n), idx.shape[1]).reshape(idx.shape)[valid]
            cols = lookup[idx[valid]]
            m = sparse.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                  shape=(n, size)).tocsr()
            m.sum_duplicates()
            if self.normalize == "freq":
                totals = np.maximum(valid.sum(axis=1), 1).astype(np.float32)
                m = sparse.diags(1.0 / totals) @ m
            elif self.normalize == "binary":
                m.data[:] = 1.0
            elif self.normalize == "log1p":
                m.data = np.log1p(m.data)
            mats.append(m)
        return sparse.hstack(mats, format="csr", dtype=np.float32)


def _rc_index(idx: np.ndarray, k: int) -> np.ndarray:
    rc = np.zeros_like(idx)
    x = idx.copy()
    for _ in range(k):
        rc = rc * 4 + (3 - x % 4)
        x //= 4
    return rc


@dataclass
class OneHotBlock(Block):
    """One-hot ``(n, letters, length)``; sequences padded/truncated to ``length`` (default: longest
    in training, at most 2000). ``flatten`` turns it into flat position-specific features."""

    kind = "onehot"
    output = "seq"
    column: str = ""
    alphabet: str = "dna"
    length: int | None = None
    align: str = "left"
    flatten: bool = False
    _length: int = field(default=0, repr=False, init=False)

    def check(self) -> None:
        if not self.column:
            raise InputError(
                'The "onehot" block needs a "column" naming a sequence column; add it to the spec.'
            )
        check_alphabet(self.alphabet)
        if self.align not in ("left", "right", "center"):
            raise InputError(f"align must be left, right or center, got {self.align!r}; pick one.")
        if self.length is not None and (not isinstance(self.length, int) or self.length < 1):
            raise InputError(f"length must be a positive integer or null, got {self.length!r}; fix the spec.")
        if self.flatten:
            self.output = "flat"  # instance attribute shadows the class default

    @property
    def input_columns(self) -> list[str]:
        return [self.column]

    def fit(self, df: pd.DataFrame) -> OneHotBlock:
        if self.length is not None:
            self._length = self.length
        else:
            lens = [len(s) for s in text_column(df, self.column)]
            self._length = int(min(max(lens, default=1), 2000)) or 1
        return self

    def feature_names(self) -> list[str]:
        letters = "ACGU" if self.alphabet == "rna" else ALPHABETS[self.alphabet]
        return [f"{self.column}:{p + 1}{ch}" for p in range(self._length) for ch in letters]

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        codes = encode(text_column(df, self.column), alphabet=self.alphabet, length=self._length,
                       align=self.align)
        size = len(ALPHABETS[self.alphabet])
        onehot = (codes[:, None, :] == np.arange(size, dtype=np.int8)[None, :, None]).astype(np.float32)
        if self.flatten:
            return onehot.transpose(0, 2, 1).reshape(len(codes), -1)
        return onehot
