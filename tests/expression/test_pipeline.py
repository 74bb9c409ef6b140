"""Pipeline paths not covered by the real datasets: GDS cohorts, two-step analysis, the LMM branch."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omicsagent.errors import InputError
from omicsagent.expression import synthetic
from omicsagent.expression.pipeline import AnalyzeOptions, analyze, preprocess_cohort
from omicsagent.expression.pp.symbols import AliasTable

ALIASES = AliasTable({g: g for g in synthetic.GENES}, "given", "synthetic")


def test_gds_cohort(tmp_path):
    folder = tmp_path / "GDS5"
    folder.mkdir()
    rng = np.random.default_rng(0)
    gsm = [f"GSM{i}" for i in range(12)]
    lines = ["^DATASET = GDS5", "!dataset_title = toy"]
    for name, members in (("control", gsm[:6]), ("asthma", gsm[6:])):
        lines += [
            "^SUBSET = x",
            f"!subset_description = {name}",
            f"!subset_sample_id = {','.join(members)}",
            "!subset_type = disease state",
        ]
    lines += ["!dataset_table_begin", "ID_REF\tIDENTIFIER\t" + "\t".join(gsm)]
    for i, gene in enumerate(synthetic.GENES[:10]):
        lines.append(f"{i}_at\t{gene}\t" + "\t".join(f"{v:.3f}" for v in rng.normal(size=12)))
    lines.append("!dataset_table_end")
    (folder / "GDS5_full.soft").write_text("\n".join(lines) + "\n")
    res = preprocess_cohort(folder, trait="Asthma", out_dir=tmp_path / "out", aliases=ALIASES)
    assert res.cohort_id == "GDS5" and res.record.sample_size == 12 and res.record.is_usable is not False
    clinical = pd.read_csv(tmp_path / "out" / "Asthma" / "clinical_data" / "GDS5.csv", index_col=0)
    assert clinical.loc["Asthma"].tolist() == [0.0] * 6 + [1.0] * 6


def _two_cohorts(tmp_path):
    pre = tmp_path / "pre"
    synthetic.write_series_matrix(tmp_path / "in" / "GSE1", accession="GSE1", probes=False)
    preprocess_cohort(tmp_path / "in" / "GSE1", trait="Colorectal_Cancer", out_dir=pre, aliases=ALIASES)
    synthetic.write_xena_cohort(tmp_path / "in" / "TCGA_X", seed=3)
    preprocess_cohort(tmp_path / "in" / "TCGA_X", trait="Obesity", out_dir=pre, aliases=ALIASES)
    tasks = tmp_path / "task_info.json"
    tasks.write_text(
        json.dumps(
            {
                "Obesity": {"related_genes": ["GENE2", "GENE9", "NOPE"]},
                "Colorectal_Cancer": {"related_genes": ["GENE1", "GENE3"]},
            }
        )
    )
    return pre, tasks


def test_two_step_drops_instruments_by_default(tmp_path):
    pre, tasks = _two_cohorts(tmp_path)
    opts = dict(condition="Obesity", task_info=tasks)
    mine = analyze(pre, trait="Colorectal_Cancer", out_dir=tmp_path / "a", options=AnalyzeOptions(**opts))
    assert (mine.cohort, mine.condition_cohort) == ("GSE1", "TCGA")
    assert mine.n_genes == len(synthetic.GENES) - 2 and "GENE2" not in mine.genes  # instruments removed
    ref = analyze(
        pre,
        trait="Colorectal_Cancer",
        out_dir=tmp_path / "b",
        options=AnalyzeOptions(**opts, reference_compatible=True),
    )
    assert ref.n_genes == len(synthetic.GENES)  # the reference keeps them among the predictors
    data = json.loads(ref.output.read_text())
    assert ref.output.name == "significant_genes_condition_Obesity.json"
    assert (
        data["provenance"]["condition_cohort"] == "TCGA"
        and "Obesity" not in data["significant_genes"]["Variable"]
    )
    assert data["provenance"]["condition_coefficient"] != 0  # the predicted condition explains the trait
    with pytest.raises(InputError, match="needs known genes for the condition"):
        analyze(
            pre,
            trait="Colorectal_Cancer",
            out_dir=tmp_path / "c",
            options=AnalyzeOptions(condition="Obesity"),
        )


def test_demographic_condition_without_the_column(tmp_path):
    pre, _ = _two_cohorts(tmp_path)
    info = json.loads((pre / "Colorectal_Cancer" / "cohort_info.json").read_text())
    info["GSE1"]["has_age"] = False
    (pre / "Colorectal_Cancer" / "cohort_info.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="No usable cohort for Colorectal_Cancer with Age"):
        analyze(
            pre, trait="Colorectal_Cancer", out_dir=tmp_path / "o", options=AnalyzeOptions(condition="Age")
        )


def test_lmm_branch_for_batch_structure(tmp_path):
    rng = np.random.default_rng(5)
    n, genes = 240, synthetic.GENES[:30]
    batch = np.r_[np.ones(n // 2), np.zeros(n // 2)]
    X = rng.normal(size=(n, len(genes))) + 8.0 * batch[:, None]  # two batches, n > 200
    y = (X[:, 0] - 8.0 * batch + rng.normal(scale=0.5, size=n) > 0).astype(float)  # within-batch signal
    frame = pd.DataFrame(X, columns=genes, index=[f"s{i}" for i in range(n)])
    frame.insert(0, "T", y)
    d = tmp_path / "T"
    d.mkdir()
    frame.to_csv(d / "C1.csv")
    (d / "cohort_info.json").write_text(json.dumps({"C1": {"is_usable": True, "sample_size": n}}))
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps({"T": {"related_genes": ["GENE1"]}}))
    mine = analyze(tmp_path, trait="T", out_dir=tmp_path / "a", options=AnalyzeOptions(task_info=tasks))
    assert mine.model == "lmm" and mine.genes == ["GENE1"]
    # the reference fits the rotated X against the unrotated y and picks up many noise genes
    ref = analyze(
        tmp_path,
        trait="T",
        out_dir=tmp_path / "b",
        options=AnalyzeOptions(task_info=tasks, reference_compatible=True),
    )
    assert ref.model == "lmm" and len(ref.genes) > 5
