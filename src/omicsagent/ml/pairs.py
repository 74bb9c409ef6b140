"""miRNA-target pair blocks: hand-made duplex features and a 2-D pairing matrix for CNNs.

Conventions: both sequences are read 5'->3' (RNA ``U`` = ``T``). miRNA nucleotide ``j`` (0-based, so
nt ``j+1``) pairs antiparallel with target position ``i``; a duplex lies on a "diagonal" ``d = i + j``.
The seed is miRNA nt 2-8 (``j`` 1..7); the target nucleotide opposite miRNA nt 1 (``i = d``) is the
"A1" position. Watson-Crick pairs are A:U/T and G:C; G:U wobbles are counted separately.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omicsagent.errors import InputError
from omicsagent.ml.features import Block, text_column
from omicsagent.ml.seqblocks import encode

A, C, G, T = 0, 1, 2, 3
SITE_TYPES = ("8mer", "7mer_m8", "7mer_a1", "6mer", "offset_6mer", "6mer_gu", "seed_1mm")
MATRIX_CHANNELS = {"basic": 2, "strength": 3, "full": 16}


def pairing(mirna: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Watson-Crick and G:U masks ``(n, len_target, len_mirna)`` from integer codes (-1 = none)."""
    m = mirna[:, None, :].astype(np.int16)
    t = target[:, :, None].astype(np.int16)
    ok = (m >= 0) & (t >= 0)
    wc = ok & (m + t == 3)
    gu = ok & (((m == G) & (t == T)) | ((m == T) & (t == G)))
    return wc, gu


def diagonals(mask: np.ndarray) -> np.ndarray:
    """Values along every duplex diagonal: ``(n, n_diag, len_mirna)``, 0 outside the target."""
    n, lt, lm = mask.shape
    d = np.arange(lt + lm - 1)[:, None]
    j = np.arange(lm)[None, :]
    i = d - j
    inside = (i >= 0) & (i < lt)
    out = mask[:, np.clip(i, 0, lt - 1), np.broadcast_to(j, i.shape)]
    return out & inside[None] if out.dtype == bool else out * inside[None]


def longest_run(x: np.ndarray) -> np.ndarray:
    """Longest run of True along the last axis."""
    run = np.zeros(x.shape[:-1], dtype=np.int16)
    best = np.zeros_like(run)
    for k in range(x.shape[-1]):
        run = np.where(x[..., k], run + 1, 0)
        best = np.maximum(best, run)
    return best


def local_alignment(mirna: np.ndarray, target: np.ndarray, *, gap: float = 2.5) -> np.ndarray:
    """Best local duplex score (Smith-Waterman; G:C 3, A:U 2, G:U 1, mismatch -2, gap -``gap``)."""
    wc, gu = pairing(mirna, target)
    gc = wc & ((mirna[:, None, :] == G) | (mirna[:, None, :] == C))
    s = np.where(gc, 3.0, np.where(wc, 2.0, np.where(gu, 1.0, -2.0))).astype(np.float32)
    s = s[:, ::-1, :]  # target 3'->5' so the duplex runs along the main diagonal
    n, lt, lm = s.shape
    prev = np.zeros((n, lm + 1), dtype=np.float32)
    best = np.zeros(n, dtype=np.float32)
    for i in range(lt):
        cur = np.zeros_like(prev)
        for j in range(1, lm + 1):
            cur[:, j] = np.maximum.reduce([np.zeros(n, np.float32), prev[:, j - 1] + s[:, i, j - 1],
                                           prev[:, j] - gap, cur[:, j - 1] - gap])
        best = np.maximum(best, cur.max(axis=1))
        prev = cur
    return best


def pair_features(
    mirnas: list[str], targets: list[str], *, mirna_len: int = 26
) -> tuple[np.ndarray, list[str]]:
    """Duplex features of each (miRNA, target) pair; returns the matrix and its column names."""
    mi = encode(mirnas, alphabet="dna", length=mirna_len)
    tg = encode(targets, alphabet="dna")
    n, lt = tg.shape
    wc, gu = pairing(mi, tg)
    dwc = diagonals(wc)                     # (n, n_diag, lm)
    dgu = diagonals(gu)
    dpair = dwc | dgu
    n_diag = dwc.shape[1]
    # target nucleotide opposite miRNA nt 1 on each diagonal (i = d)
    i1 = np.arange(n_diag)
    t1 = np.where(i1 < lt, tg[:, np.clip(i1, 0, lt - 1)], -1)
    a1 = t1 == A

    seed7 = dwc[:, :, 1:8].all(-1)          # nt 2-8
    seed6 = dwc[:, :, 1:7].all(-1)          # nt 2-7
    off6 = dwc[:, :, 2:8].all(-1)           # nt 3-8
    seed6_gu = dpair[:, :, 1:7].all(-1) & ~seed6
    seed_wc = dwc[:, :, 1:8].sum(-1)
    seed_any = dpair[:, :, 1:8].sum(-1)
    types = np.stack([seed7 & a1, seed7 & ~a1, seed6 & a1 & ~seed7, seed6 & ~a1 & ~seed7,
                      off6 & ~seed6, seed6_gu & ~off6, (seed_wc == 6) & ~seed6 & ~off6], axis=-1)

    # 3' supplementary pairing (nt 13-16 and 12-17), allowing a loop: best over shifted diagonals
    sup = dwc[:, :, 12:16].sum(-1).astype(np.float32)
    sup_wide = dpair[:, :, 11:17].sum(-1).astype(np.float32)
    sup_best, sup_wide_best = sup.copy(), sup_wide.copy()
    for shift in range(-4, 3):
        if shift == 0:
            continue
        sup_best = np.maximum(sup_best, _shift(sup, shift))
        sup_wide_best = np.maximum(sup_wide_best, _shift(sup_wide, shift))

    total_wc = dwc.sum(-1)
    total_pair = dpair.sum(-1)
    run_wc = longest_run(dwc)
    run_pair = longest_run(dpair)
    score = 2.0 * seed_wc + seed_any + total_wc + 0.5 * total_pair + sup_best
    best = score.argmax(axis=1)
    rows = np.arange(n)

    feats: dict[str, np.ndarray] = {}
    for k, name in enumerate(SITE_TYPES):
        feats[f"has_{name}"] = types[:, :, k].any(1)
        feats[f"n_{name}"] = types[:, :, k].sum(1)
    feats["n_seed_sites"] = (seed6 | off6).sum(1)
    feats["max_seed_wc"] = seed_wc.max(1)
    feats["max_seed_pair"] = seed_any.max(1)
    feats["max_total_wc"] = total_wc.max(1)
    feats["max_total_pair"] = total_pair.max(1)
    feats["max_run_wc"] = run_wc.max(1)
    feats["max_run_pair"] = run_pair.max(1)
    feats["max_sup_13_16"] = (sup_best * (seed_wc >= 6)).max(1)
    feats["best_seed_wc"] = seed_wc[rows, best]
    feats["best_seed_gu"] = dgu[rows, best, 1:8].sum(-1)
    feats["best_sup_13_16"] = sup_best[rows, best]
    feats["best_sup_12_17"] = sup_wide_best[rows, best]
    feats["best_total_wc"] = total_wc[rows, best]
    feats["best_total_gu"] = dgu[rows, best].sum(-1)
    feats["best_run_wc"] = run_wc[rows, best]
    feats["best_a1"] = a1[rows, best]
    center = np.clip(best - 4, 0, lt - 1)
    feats["best_site_pos"] = center / max(lt - 1, 1)
    feats["best_site_to_3p_end"] = (lt - 1 - center) / max(lt - 1, 1)
    prof = dwc[rows, best].astype(np.float32) + 0.5 * dgu[rows, best]
    for j in range(min(mirna_len, 22)):
        feats[f"best_pair_nt{j + 1}"] = prof[:, j]
    feats["align_score"] = local_alignment(mi, tg)
    feats["align_score_seed"] = local_alignment(mi[:, :10], tg)
    feats["align_score_3p"] = local_alignment(mi[:, 10:], tg)
    # target composition, overall and around the best site (AU-rich context helps sites)
    valid = tg >= 0
    for code, letter in ((A, "A"), (C, "C"), (G, "G"), (T, "U")):
        feats[f"target_frac_{letter}"] = (tg == code).sum(1) / np.maximum(valid.sum(1), 1)
    pos = np.arange(lt)[None, :]
    near = (np.abs(pos - center[:, None]) <= 15) & valid
    feats["site_flank_au"] = (((tg == A) | (tg == T)) & near).sum(1) / np.maximum(near.sum(1), 1)
    names = list(feats)
    return np.stack([np.asarray(feats[k], dtype=np.float32) for k in names], axis=1), names


def _shift(x: np.ndarray, s: int) -> np.ndarray:
    """``out[:, d] = x[:, d + s]`` (zeros where out of range)."""
    out = np.zeros_like(x)
    if s > 0:
        out[:, :-s] = x[:, s:]
    else:
        out[:, -s:] = x[:, :s]
    return out


def pair_matrix(mirnas: list[str], targets: list[str], *, mirna_len: int, target_len: int,
                channels: str = "basic") -> np.ndarray:
    """Pairing tensor ``(n, C, target_len, mirna_len)``; target rows run 3'->5' so that a duplex is a
    main diagonal. ``basic``: [Watson-Crick, G:U]; ``strength``: [G:C, A:U, G:U]; ``full``: the 16
    (target base, miRNA base) combinations."""
    mi = encode(mirnas, alphabet="dna", length=mirna_len)
    tg = encode(targets, alphabet="dna", length=target_len)[:, ::-1]
    if channels == "full":
        oh_t = (tg[:, :, None] == np.arange(4)[None, None, :])          # (n, lt, 4)
        oh_m = (mi[:, :, None] == np.arange(4)[None, None, :])          # (n, lm, 4)
        out = oh_t[:, :, None, :, None] & oh_m[:, None, :, None, :]      # (n, lt, lm, 4, 4)
        return out.transpose(0, 3, 4, 1, 2).reshape(len(mi), 16, target_len, mirna_len).astype(np.float32)
    wc, gu = pairing(mi, tg)
    if channels == "strength":
        m = mi[:, None, :]
        gc = wc & ((m == G) | (m == C))
        return np.stack([gc, wc & ~gc, gu], axis=1).astype(np.float32)
    return np.stack([wc, gu], axis=1).astype(np.float32)


def _check_pair(block) -> None:
    if not block.mirna_column or not block.target_column:
        raise InputError(
            f'The "{block.kind}" block needs "mirna_column" and "target_column"; name both columns.'
        )


@dataclass
class PairFeaturesBlock(Block):
    """Seed site types, supplementary pairing, runs, alignment scores and composition (flat)."""

    kind = "pair_features"
    output = "flat"
    mirna_column: str = ""
    target_column: str = ""
    _names: list[str] = field(default_factory=list, repr=False, init=False)

    def check(self) -> None:
        _check_pair(self)

    @property
    def input_columns(self) -> list[str]:
        return [self.mirna_column, self.target_column]

    def feature_names(self) -> list[str]:
        return [f"pair:{n}" for n in self._names]

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        x, self._names = pair_features(
            text_column(df, self.mirna_column), text_column(df, self.target_column)
        )
        return x


@dataclass
class PairMatrixBlock(Block):
    """2-D pairing matrix (grid) between target (rows, 3'->5') and miRNA (columns, 5'->3')."""

    kind = "pair_matrix"
    output = "grid"
    mirna_column: str = ""
    target_column: str = ""
    mirna_len: int = 20
    target_len: int | None = None
    channels: str = "basic"
    _target_len: int = field(default=0, repr=False, init=False)

    def check(self) -> None:
        _check_pair(self)
        if self.channels not in MATRIX_CHANNELS:
            raise InputError(f"Unknown pairing channels {self.channels!r}; use one of: "
                             f"{', '.join(MATRIX_CHANNELS)}.")

    @property
    def input_columns(self) -> list[str]:
        return [self.mirna_column, self.target_column]

    def fit(self, df: pd.DataFrame) -> PairMatrixBlock:
        lens = [len(s) for s in text_column(df, self.target_column)]
        self._target_len = self.target_len or int(min(max(lens, default=1), 500)) or 1
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        return pair_matrix(text_column(df, self.mirna_column), text_column(df, self.target_column),
                           mirna_len=self.mirna_len, target_len=self._target_len, channels=self.channels)
