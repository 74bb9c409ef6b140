from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from omicsagent.expression import metrics as mt


def test_precision_recall_f1_edge_cases():
    assert mt.precision_recall_f1(["A", "B", "C", "D"], ["B", "D", "E"]) == pytest.approx(
        {"precision": 50.0, "recall": 200 / 3, "f1": 2 * 0.5 * (2 / 3) / (0.5 + 2 / 3) * 100}
    )
    assert mt.precision_recall_f1([], []) == {"precision": 100.0, "recall": 100.0, "f1": 100.0}
    assert mt.precision_recall_f1([], ["A"]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert mt.precision_recall_f1(["A"], []) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert mt.precision_recall_f1(["A"], ["B"]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_auroc_by_hand():
    # pred A, B, C (scores 3, 2, 1); ref {B, Z}; N = 10
    # genotex: positives {B}; negatives: A (3), C (1) and 7 zeros -> B beats C + 7 zeros = 8 of 9
    assert mt.gene_auroc(["A", "B", "C"], ["B", "Z"], n=10) == pytest.approx(8 / 9)
    # genomas: Z joins as a score-0 positive; 7 pad zeros (N - 3 listed) -> 10 slots;
    # B: beats C + 6 zeros (and ties none) = 7; Z (0): ties 6 zeros -> 3 ; total 10 / (2 * 8)
    assert mt.gene_auroc(["A", "B", "C"], ["B", "Z"], variant="genomas", n=10) == pytest.approx(10 / 16)
    assert math.isnan(mt.gene_auroc(["A"], ["B"], n=10))  # no hit
    assert math.isnan(mt.gene_auroc([], ["B"], n=10))
    assert math.isnan(mt.gene_auroc(["A"], [], variant="genomas", n=10))


def test_gsea_by_hand():
    # list A, B, C + 7 dummies; ref {B, Z}; genotex N_h = 2: steps -1/8, +1/2, -1/8, ...
    assert mt.gsea_es(["A", "B", "C"], ["B", "Z"], n=10) == pytest.approx(-1 / 8 + 1 / 2)
    # genomas N_h = hits in the list = 1: steps -1/9, +1
    assert mt.gsea_es(["A", "B", "C"], ["B", "Z"], variant="genomas", n=10) == pytest.approx(1 - 1 / 9)
    assert math.isnan(mt.gsea_es(["A"], [], n=10)) and math.isnan(
        mt.gsea_es(["A"], ["B"], variant="genomas", n=10)
    )
    assert math.isnan(mt.gsea_es(list("ABCDEFGHIJK"), ["A"], n=10))  # more genes than N
    assert mt.gsea_es(["A"], ["B"], n=10) == pytest.approx(-1 / 9)  # no overlap: the first miss is the max


def test_csc_by_hand():
    ref = pd.DataFrame(
        {"G1": [1.0, 2.0, 3.0], "G2": [1.0, 1.0, 1.0], "G3": [3.0, 1.0, 2.0]}, index=["s1", "s2", "s3"]
    )
    pred = pd.DataFrame(
        {"G1": [2.0, 4.0, 6.0], "G2": [5.0, 1.0, 3.0], "G4": [0.0, 1.0, 0.0]}, index=["s1", "s2", "s3"]
    )
    out = mt.csc(pred, ref)
    # columns {G1,G2,G3} vs {G1,G2,G4}: 2/4; rows equal: 1; G2 is constant in ref so only G1 (r = 1) counts
    assert out == pytest.approx(
        {"attribute_jaccard": 0.5, "sample_jaccard": 1.0, "feature_correlation": 1.0, "csc": 0.5}
    )
    flipped = pred.assign(G1=[3.0, 2.0, 1.0])
    assert mt.csc(flipped, ref)["feature_correlation"] == pytest.approx(-1.0)
    assert mt.csc(pd.DataFrame(), ref)["csc"] == 0.0
    no_rows = pred.set_axis(["x", "y", "z"], axis=0)
    assert mt.csc(no_rows, ref)["csc"] == 0.0


def test_feature_correlation_fills_nan_with_the_mean():
    ref = pd.DataFrame({"G": [1.0, 2.0, 3.0, 4.0]})
    pred = pd.DataFrame({"G": [1.0, np.nan, 3.0, 4.0]})  # NaN -> mean 8/3
    x = np.array([1.0, 8 / 3, 3.0, 4.0])
    assert mt.feature_correlation(pred, ref) == pytest.approx(np.corrcoef(x, ref["G"])[0, 1])


def test_filtering_scores():
    pred = {"A": {"is_available": True}, "B": {"is_available": True}, "C": {"is_available": False}}
    ref = {"A": {"is_available": True}, "C": {"is_available": True}, "D": {"is_available": False}}
    # A: TP, B: FP, C: FN, D: TN
    assert mt.filtering_scores(pred, ref) == {"precision": 50.0, "recall": 50.0, "f1": 50.0, "accuracy": 50.0}
    assert mt.filtering_scores({}, {})["f1"] == 0.0


def test_nanmean_rounded():
    assert mt.nanmean_rounded([1.0, float("nan"), 2.004]) == 1.5
    assert math.isnan(mt.nanmean_rounded([float("nan")]))
