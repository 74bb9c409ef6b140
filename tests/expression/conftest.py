from __future__ import annotations

from pathlib import Path

import pytest

from omicsagent.expression import synthetic
from omicsagent.expression.pp.symbols import load_alias_table

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO.parent / "shared" / "datasets" / "expression"
GENE_INFO = DATASETS / "gene_info" / "Homo_sapiens.gene_info.gz"
CHOL = DATASETS / "tcga" / "TCGA_Bile_Duct_Cancer_(CHOL)"
DLBC = DATASETS / "tcga" / "TCGA_Large_Bcell_Lymphoma_(DLBC)"
GSE4107 = DATASETS / "geo" / "Colorectal_Cancer" / "GSE4107"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"../shared/datasets not found: {path} is missing")
    return path


@pytest.fixture(scope="session")
def real_aliases(tmp_path_factory):
    """The alias table from the shared NCBI gene_info, built once into a temporary cache."""
    need(GENE_INFO)
    return load_alias_table(GENE_INFO, cache_dir=tmp_path_factory.mktemp("alias-cache"))


@pytest.fixture()
def toy_gene_info(tmp_path) -> Path:
    return synthetic.write_gene_info(tmp_path / "toy.gene_info.gz")


@pytest.fixture()
def toy_aliases(toy_gene_info, tmp_path):
    return load_alias_table(toy_gene_info, cache_dir=tmp_path / "cache")
