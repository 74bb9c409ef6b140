from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from omicsagent.expression.pipeline.evaluate import evaluate


def _cohorts(trait_dir, records):
    trait_dir.mkdir(parents=True, exist_ok=True)
    (trait_dir / "cohort_info.json").write_text(json.dumps(records))


def _genes(path, genes):
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(genes)
    path.write_text(
        json.dumps(
            {
                "significant_genes": {
                    "Variable": genes,
                    "Coefficient": [1.0] * n,
                    "Absolute Coefficient": [1.0] * n,
                },
                "cv_performance": {"prediction": {"accuracy": 80.0, "f1": 75.0}},
            }
        )
    )


@pytest.fixture()
def trees(tmp_path):
    ref, pred = tmp_path / "ref", tmp_path / "pred"
    rec = {"is_usable": True, "is_available": True, "sample_size": 10, "has_age": True, "has_gender": False}
    _cohorts(
        ref / "preprocess" / "A", {"GSE1": rec, "GSE2": {**rec, "is_usable": False, "is_available": False}}
    )
    _cohorts(pred / "preprocess" / "A", {"GSE1": rec})
    _cohorts(ref / "preprocess" / "B", {"GSE3": rec})  # no prediction for trait B
    genes = pd.DataFrame({"s1": [1.0, 2.0], "s2": [2.0, 5.0], "s3": [3.0, 1.0]}, index=["G1", "G2"])
    for root in (ref, pred):
        (root / "preprocess" / "A" / "gene_data").mkdir()
        genes.to_csv(root / "preprocess" / "A" / "gene_data" / "GSE1.csv")
    genes.to_csv(ref / "preprocess" / "A" / "gene_data" / "GSE2.csv")  # not predicted
    _genes(ref / "regress" / "A" / "significant_genes_condition_None.json", ["G1", "G2"])
    _genes(pred / "regress" / "A" / "significant_genes_condition_None.json", ["G1", "G3"])
    _genes(ref / "regress" / "A" / "significant_genes_condition_Age.json", ["G1"])  # not predicted
    return pred, ref


def test_genotex_skips_what_is_missing(trees):
    pred, ref = trees
    out = evaluate(pred, ref, variant="genotex")
    assert out.preprocess["gene"] == 1.0  # GSE2 skipped
    assert out.filtering["f1"] == 100.0  # trait B skipped; GSE2 is a true negative
    overall = out.genes["Overall"]
    assert overall["success"] == 50.0 and overall["precision"] == 50.0  # the failed problem is NaN
    assert out.genes["Conditional one-step"]["problems"] == 1
    assert math.isnan(out.genes["Conditional one-step"]["f1"])


def test_genomas_penalises_what_is_missing(trees):
    pred, ref = trees
    out = evaluate(pred, ref, variant="genomas")
    assert out.preprocess["gene"] == 0.5  # GSE2 scores 0
    # trait A: f1 100; trait B: no predicted record, so its cohort is a false negative: f1 0
    assert out.filtering["f1"] == 50.0
    assert out.genes["Overall"]["precision"] == 25.0  # (50 + 0) / 2
    assert out.genes["Conditional one-step"]["f1"] == 0.0
