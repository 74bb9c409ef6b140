"""best/requirements.txt and the omicsagent wheel: what the scripts import, read from their source."""
from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from importlib import metadata
from pathlib import Path

from omicsagent.agent.bundle import imports_in, requirements_text, write_environment

TEMPLATE_SCRIPT = "from omicsagent.ml.pipeline import TrainedModel, read_table\n"


def _pins(text: str) -> dict[str, str]:
    lines = [ln.split("#")[0].strip() for ln in text.splitlines()]
    return dict(ln.split("==", 1) for ln in lines if ln and not ln.startswith("-"))


def _best(tmp_path: Path, scripts: dict[str, str], model_json: dict | None = None) -> Path:
    best = tmp_path / "best"
    (best / "model").mkdir(parents=True)
    for name, text in scripts.items():
        (best / name).write_text(text)
    if model_json is not None:
        (best / "model" / "model.json").write_text(json.dumps(model_json))
    return best


def test_imports_at_import_time_versus_anywhere() -> None:
    source = ("import os\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\n"
              "from . import sibling\nfrom .pkg import thing\n"
              "def f():\n    import lightgbm\n    from sklearn.metrics import roc_auc_score\n")
    assert imports_in(source, module="a.b.c", everywhere=False) == {
        "os",
        "typing",
        "typing.TYPE_CHECKING",
        "a.b",
        "a.b.sibling",
        "a.b.pkg",
        "a.b.pkg.thing",
    }
    assert {"lightgbm", "sklearn.metrics"} <= imports_in(source, module="a.b.c")


def test_the_model_kinds_decide_the_heavy_packages(tmp_path: Path) -> None:
    best = _best(
        tmp_path,
        {"train.py": TEMPLATE_SCRIPT, "inference.py": TEMPLATE_SCRIPT},
        {
            "representation": {
                "blocks": [{"kind": "smiles", "column": "smiles"}, {"kind": "onehot", "column": "s"}]
            },
            "model": {"kind": "ensemble", "members": [{"kind": "cnn1d"}, {"kind": "linear"}]},
        },
    )
    text = requirements_text(best, wheel=None)
    pins = _pins(text)
    assert set(pins) == {"joblib", "numpy", "pandas", "rdkit", "scikit-learn", "scipy", "torch"}
    for name, version in pins.items():
        assert version == metadata.version(name).split("+")[0] or version == metadata.version(name)
    torch_version = metadata.version("torch")
    if (
        "+" in torch_version
    ):  # a local build such as +cpu is served by the PyTorch index, named on its own line
        tag = torch_version.split("+")[1]
        assert f"--extra-index-url https://download.pytorch.org/whl/{tag}" in text.splitlines()
        assert pins["torch"] == torch_version

    # a graph network on molecules needs RDKit (to read them) and torch
    graph = _best(tmp_path / "graph", {"train.py": TEMPLATE_SCRIPT, "inference.py": TEMPLATE_SCRIPT},
                  {"representation": {"blocks": [{"kind": "molgraph", "column": "smiles"}]},
                   "model": {"kind": "mpnn"}})
    assert {"rdkit", "torch"} <= set(_pins(requirements_text(graph, wheel=None)))

    lgbm = _best(tmp_path / "lgbm", {"train.py": TEMPLATE_SCRIPT, "inference.py": TEMPLATE_SCRIPT},
                 {"representation": {"blocks": [{"kind": "kmer", "column": "s"}]}, "model": {"kind": "lgbm"}})
    assert set(_pins(requirements_text(lgbm, wheel=None))) == {
        "joblib",
        "lightgbm",
        "numpy",
        "pandas",
        "scipy",
    }


def test_scripts_of_an_llm_brain(tmp_path: Path) -> None:
    train = (
        "import argparse, joblib\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
        "import helpers\ntry:\n    import surely_not_installed_pkg\nexcept ImportError:\n    pass\n"
    )
    best = _best(tmp_path, {"train.py": train, "inference.py": "import joblib, sys\nimport pandas\n",
                            "helpers.py": "X = 1\n"})
    write_environment(best, tmp_path / "cache")
    text = (best / "requirements.txt").read_text()
    assert set(_pins(text)) == {"joblib", "pandas", "scikit-learn"}
    assert "# imported but not installed where the model was made: surely_not_installed_pkg" in text
    assert "omicsagent" not in _pins(text) and not (best / "wheels").exists()
    assert not {"pip", "pytest", "openai", "setuptools"} & set(_pins(text))


def test_the_omicsagent_wheel_is_valid_and_built_once(tmp_path: Path) -> None:
    best = _best(tmp_path, {"train.py": TEMPLATE_SCRIPT, "inference.py": TEMPLATE_SCRIPT})
    write_environment(best, tmp_path / "cache")
    [wheel] = (best / "wheels").iterdir()
    assert wheel.name == f"omicsagent-{metadata.version('omicsagent')}-py3-none-any.whl"
    assert "--find-links wheels" in (best / "requirements.txt").read_text()
    [cached] = (tmp_path / "cache").rglob("*.whl")
    built_at = cached.stat().st_mtime_ns
    write_environment(best, tmp_path / "cache")  # the next promotion reuses it
    assert cached.stat().st_mtime_ns == built_at and len(list((tmp_path / "cache").rglob("*.whl"))) == 1

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        assert (
            "omicsagent/ml/pipeline.py" in names
            and "omicsagent/brains/expert/templates/train.py.tmpl" in names
        )
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
        meta = zf.read(f"{info}/METADATA").decode()
        assert (
            "Name: omicsagent" in meta and "Requires-Dist" not in meta
        )  # requirements.txt pins what is needed
        assert "Root-Is-Purelib: true" in zf.read(f"{info}/WHEEL").decode()
        record = [line.split(",") for line in zf.read(f"{info}/RECORD").decode().splitlines()]
        assert sorted(r[0] for r in record) == sorted(names)
        for name, digest, size in record:
            if name.endswith("RECORD"):
                continue
            data = zf.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(data)), name
