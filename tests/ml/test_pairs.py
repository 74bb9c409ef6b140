"""Pair features on hand-made miRNA/target duplexes (let-7a: UGAGGUAGUAGGUUGUAUAGUU)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from omicsagent.ml.pairs import pair_features, pair_matrix
from omicsagent.ml.seqblocks import reverse_complement

MIR = "TGAGGTAGTAGGTTGTATAGTT"
FILL = "C" * 20


def site(mirna: str, start: int, stop: int) -> str:
    """Target-strand site pairing with miRNA nt start..stop (1-based, inclusive)."""
    return reverse_complement(mirna[start - 1:stop])


def unpair(full_site: str, nts: list[int]) -> str:
    """Make miRNA nt ``nts`` (1-based) unpaired in a full-length site (same base faces same base)."""
    out = list(full_site)
    for nt in nts:
        out[len(MIR) - nt] = MIR[nt - 1]
    return "".join(out)


def features(targets: list[str]) -> pd.DataFrame:
    x, names = pair_features([MIR] * len(targets), targets)
    return pd.DataFrame(x, columns=names)


def test_canonical_site_types():
    seed7 = site(MIR, 2, 8)
    seed6 = site(MIR, 2, 7)
    targets = [
        FILL + seed7 + "A" + FILL,                 # 8mer
        FILL + seed7 + "C" + FILL,                 # 7mer-m8
        FILL + MIR[7] + seed6 + "A" + FILL,        # 7mer-A1 (nt 8 faces itself: mismatch)
        FILL + MIR[7] + seed6 + "C" + FILL,        # 6mer
        FILL + site(MIR, 3, 8) + MIR[1] + "C" + FILL,  # offset 6mer (nt 2 mismatched)
        "ACAC" * 12,                               # no site
    ]
    f = features(targets)
    expected = ["has_8mer", "has_7mer_m8", "has_7mer_a1", "has_6mer", "has_offset_6mer"]
    for row, name in enumerate(expected):
        assert f.loc[row, name] == 1, (row, name)
        others = [e for e in expected if e != name]
        assert f.loc[row, others].sum() == 0, (row, f.loc[row, others])
    assert f.loc[5, [c for c in f.columns if c.startswith("has_")]].sum() == 0
    assert f.loc[0, "best_seed_wc"] == 7 and f.loc[0, "best_a1"] == 1
    assert f.loc[5, "max_seed_wc"] < 6


def test_wobble_supplementary_and_runs():
    seed6_gu = site(MIR, 2, 7).replace("C", "T", 1)  # a G in the miRNA seed now faces U: G:U wobble
    f = features([FILL + "C" + seed6_gu + "C" + FILL])
    assert f.loc[0, "has_6mer_gu"] == 1 and f.loc[0, "has_6mer"] == 0
    # seed plus 3' supplementary pairing (nt 13-16) on the same duplex, nt 9-12 and 17-22 unpaired
    full = site(MIR, 1, 22)
    sup = FILL + unpair(full, [*range(9, 13), *range(17, 23)]) + FILL
    plain = FILL + unpair(full, [*range(9, 23)]) + FILL
    f = features([sup, plain, FILL + full + "C" * 8])
    assert f.loc[0, "best_sup_13_16"] >= 3 > f.loc[1, "best_sup_13_16"]
    assert f.loc[2, "max_run_wc"] == 22 and f.loc[2, "max_total_wc"] == 22
    assert f.loc[2, "align_score"] > f.loc[0, "align_score"]


def test_pair_matrix_puts_a_duplex_on_a_diagonal():
    target = "GG" + site(MIR, 1, 20) + "GG"
    m = pair_matrix([MIR], [target], mirna_len=20, target_len=len(target), channels="basic")
    assert m.shape == (1, 2, 24, 20)
    wc = m[0, 0]
    # target rows run 3'->5': miRNA nt j pairs with reversed-target row j + 2
    assert np.all(wc[np.arange(20) + 2, np.arange(20)] == 1)
    assert pair_matrix([MIR], [target], mirna_len=20, target_len=24, channels="full").shape == (1, 16, 24, 20)
    strength = pair_matrix([MIR], [target], mirna_len=20, target_len=24, channels="strength")
    assert np.array_equal(strength[0, 0] + strength[0, 1], wc)
