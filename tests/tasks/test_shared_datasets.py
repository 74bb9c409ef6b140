"""The task card is right for every dataset in ../shared/datasets/ml."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from omicsagent.cli import app
from omicsagent.tasks import load_task

ML = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "ml"
pytestmark = pytest.mark.skipif(
    not ML.exists(),
    reason=f"../shared/datasets not found at {ML}: the shared datasets are not beside this clone",
)

EXPECTED = {
    # dataset: (target, task type, metric, {column: role})
    "ago2_clash_hejret": (
        "target",
        "binary",
        "auroc",
        {
            "gene": "dna",
            "noncodingRNA": "dna",
            "numeric_label": "leak",
            "gene_cluster_ID": "group",
            "chr": "metadata",
            "start": "metadata",
            "noncodingRNA_name": "metadata",
        },
    ),
    "gue_prom_core_notata": ("label", "binary", "auroc", {"sequence": "dna"}),
    "gue_tf0": ("label", "binary", "auroc", {"sequence": "dna"}),
    "breast_cancer": (
        "class",
        "binary",
        "auroc",
        {"id": "identifier", "radius_mean": "numeric", "numeric_label": "duplicate"},
    ),
    "heart_disease": (
        "(num) (the predicted attribute)",
        "multiclass",
        "macro_f1",
        {"(ca)": "numeric", "(age)": "numeric", "(cp)": "categorical", "(thal)": "categorical",
         "(slope)": "categorical", "(restecg)": "categorical", "(sex)": "numeric"},
    ),
    "esol": (
        "measured log solubility in mols per litre",
        "regression",
        "rmse",
        {"smiles": "smiles", "Compound ID": "identifier"},
    ),
    "bbbp": ("BBBP", "binary", "auroc", {"smiles": "smiles"}),
    "sirbench": (
        "target",
        "regression",
        "rmse",
        {"siRNA": "rna", "extended_mRNA": "dna", "DG_total": "numeric"},
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_card_matches(name):
    target, task_type, metric, roles = EXPECTED[name]
    task = load_task(ML / name)
    assert (task.target, task.task_type, task.metric) == (target, task_type, metric)
    for col, role in roles.items():
        assert task.column(col).role == role, (col, task.column(col).reason)
    assert task.test_path and task.n_test


def test_inspect_prints_the_ago2_leak():
    result = CliRunner().invoke(app, ["inspect", str(ML / "ago2_clash_hejret")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Leakage suspects excluded from features: numeric_label" in result.output
    assert "identical to the target" in result.output


def test_h5ad_dataset_is_a_cell_type_task():
    """pbmc68k_reduced.h5ad: the cell type among the categorical obs columns, the genes of X as features,
    the other obs columns (louvain clusters, cell-cycle phase, QC numbers) not features."""
    task = load_task(ML / "pbmc68k_reduced")
    assert (task.target, task.task_type, task.metric) == ("bulk_labels", "multiclass", "macro_f1")
    assert len(task.gene_columns) == 765 and task.n_train == 700 and len(task.classes) == 10
    assert {c.name for c in task.feature_columns} == set(task.gene_columns)
    assert task.column("louvain").role == "metadata"
    result = CliRunner().invoke(app, ["inspect", str(ML / "pbmc68k_reduced")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "765 genes" in result.output
