"""Integer-coded categories: numbers that stand for categories are one-hot encoded, decided from the data and
the description only."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd

from omicsagent.ml.pipeline import build_featurizer
from omicsagent.tasks.detect import integer_code_reason

DESCRIPTION = """A small clinical table.

Attributes:
  pain: chest pain type
    -- Value 1: typical
    -- Value 2: atypical
    -- Value 3: none
  vessels: number of vessels (0-3)
  grade (categorical) 1-3 by the pathologist
  dose: the dose in mg
"""


def _table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "pain": rng.integers(1, 4, n),  # 1-3 without gaps: a code only because the description says so
        "vessels": rng.integers(0, 4, n),  # 0-3 without gaps, no codes listed: a count, stays a number
        "grade": rng.integers(1, 4, n).astype(float),  # called categorical in the text
        "defect": rng.choice([3, 6, 7], n),  # gaps: codes by themselves
        "dose": rng.integers(0, 200, n),  # many values: a number
        "sex": rng.integers(0, 2, n),  # 0/1: the same as a number
        "age": rng.normal(50, 10, n),
    })


def test_integer_codes_from_data_and_text():
    df = _table()
    reason = {c: integer_code_reason(df[c], description=DESCRIPTION, columns=list(df.columns)) for c in df}
    assert "lists its codes (1, 2, 3)" in reason["pain"]
    assert "calls it categorical" in reason["grade"]
    assert "gaps" in reason["defect"]
    assert reason["vessels"] is None and reason["dose"] is None and reason["sex"] is None
    assert reason["age"] is None
    # Without the description, only the gapped codes remain categories.
    plain = {c: integer_code_reason(df[c], columns=list(df.columns)) for c in df}
    assert [c for c, r in plain.items() if r] == ["defect"]
    # In a wide table small integers are counts.
    assert integer_code_reason(df["defect"], columns=[f"c{i}" for i in range(500)]) is None


def test_tabular_block_one_hot_encodes_integer_codes_whatever_their_dtype():
    train = pd.DataFrame({"defect": [3, 6, 7, 3, 6, 7, 3], "age": [1.0, 2, 3, 4, 5, 6, 7]})
    f = build_featurizer({"blocks": [{"kind": "tabular", "columns": ["defect", "age"],
                                      "categorical": ["defect"]}]})
    X = f.fit_transform(train)
    names = X.flat_names
    assert {"defect=3", "defect=6", "defect=7", "defect=<other>", "age"} <= set(names)
    # The same codes read as floats or as text (with a '?') land in the same one-hot columns.
    new = pd.DataFrame({"defect": ["6.0", "?", "7"], "age": [1.0, 2.0, 3.0]})
    Y = f.transform(new).flat
    col = {n: i for i, n in enumerate(names)}
    assert Y[0, col["defect=6"]] == 1 and Y[1, col["defect=<other>"]] == 1 and Y[2, col["defect=7"]] == 1
    assert X.flat.shape[1] == Y.shape[1]


def test_inspect_shows_integer_codes_as_categories(tmp_path):
    data = tmp_path / "clinic"
    data.mkdir()
    df = _table()
    df["outcome"] = ((df["defect"] == 6) ^ (np.random.default_rng(1).random(len(df)) < 0.2)).astype(int)
    df.to_csv(data / "train.csv", index=False)
    (data / "description.md").write_text(DESCRIPTION + "\nPredict the outcome.\n")
    res = subprocess.run([sys.executable, "-m", "omicsagent", "inspect", "clinic", "--json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    roles = {c["name"]: c["role"] for c in json.loads(res.stdout)["columns"]}
    assert roles["pain"] == roles["grade"] == roles["defect"] == "categorical"
    assert roles["vessels"] == roles["dose"] == roles["sex"] == roles["age"] == "numeric"
    assert roles["outcome"] == "target"
