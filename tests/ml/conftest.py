"""Tiny synthetic data for the ML building blocks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

MOTIF = "TGACGTCA"


def planted_motif_frame(n: int = 400, length: int = 40, seed: int = 0) -> pd.DataFrame:
    """Random DNA; label 1 rows carry MOTIF (or its reverse complement) at a random position."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        seq = list(rng.choice(list("ACGT"), size=length))
        label = i % 2
        if label:
            pos = rng.integers(0, length - len(MOTIF))
            seq[pos:pos + len(MOTIF)] = list(MOTIF)
        rows.append({"sequence": "".join(seq), "label": label})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def motif_df() -> pd.DataFrame:
    return planted_motif_frame()


@pytest.fixture(scope="session")
def tabular_df() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 160
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    cat = rng.choice(["red", "green", "blue"], size=n)
    y = np.where(x1 + (cat == "red") * 1.5 > 0.3, "M", "B")
    x2s = x2.astype(object)
    x2s[::10] = "?"
    return pd.DataFrame({"id": np.arange(n), "x1": x1, "x2": x2s, "colour": cat, "const": 1.0,
                         "class": y, "amount": 2 * x1 - x2 + 0.1 * rng.normal(size=n)})
