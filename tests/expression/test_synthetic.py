"""Synthetic GEO cohorts where the first rule fails: readable by the toolkit, ground truth consistent,
the deterministic rules fail or miss where they should, and the knowledge table finds the samples."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from omicsagent.expression import knowledge as kn
from omicsagent.expression import synthetic as sy
from omicsagent.expression.io import read_platform_table, read_series_matrix
from omicsagent.expression.pipeline import AnalyzeOptions, analyze, preprocess_cohort
from omicsagent.expression.pp import mapping as mp
from omicsagent.expression.pp.clinical import characteristics_by_key, select_geo_features
from omicsagent.expression.pp.converters import convert_age, convert_gender, trait_converter
from omicsagent.expression.pp.symbols import AliasTable, load_alias_table
from omicsagent.expression.tl.select import select_two_step

ALIASES = AliasTable({g: g for g in sy.GENES}, "given", "synthetic")

GENERATORS = {
    "title_only": lambda p: sy.write_title_only_cohort(p / "GSE9101"),
    "title_only_description": lambda p: sy.write_title_only_cohort(
        p / "GSE9107", field="description", accession="GSE9107"
    ),
    "abbreviation": lambda p: sy.write_abbreviation_cohort(p / "GSE9102"),
    "synonym": lambda p: sy.write_synonym_cohort(p / "GSE9106"),
    "mixed_keys": lambda p: sy.write_mixed_keys_cohort(p / "GSE9103"),
    **{
        f"platform_{layout}": (
            lambda p, layout=layout: sy.write_platform_cohort(p / "GSE9104", layout=layout)
        )
        for layout in sy.LAYOUTS
    },
}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_cohorts_read_with_the_toolkit_and_truth_is_consistent(tmp_path, name):
    c = GENERATORS[name](tmp_path)
    m = read_series_matrix(c.matrix)
    assert m.accession == c.accession and m.samples == list(c.samples) and m.platforms == [c.platform]
    assert set(c.cases) | set(c.controls) == set(c.samples) and not set(c.cases) & set(c.controls)
    assert len(c.cases) >= 5 and len(c.controls) >= 5
    # where the trait is written, and nowhere else
    rows = m.clinical_rows()
    for key, row in rows.iterrows():
        says = [c.case_label in str(v) for v in row.tolist()]
        expected = key == c.trait_field or key == c.trait_row or (c.trait_field == "mixed" and key in (1, 2))
        assert any(says) == expected, (key, row.tolist()[:3])
        if expected and c.trait_field != "mixed":
            assert [s for s, hit in zip(m.samples, says) if hit] == [s for s in m.samples if s in c.cases]
    # the platform: the toolkit finds the truth's symbol column, and the planted genes follow the trait
    annotation = read_platform_table(c.annotation)
    choice = mp.guess_annotation_columns(annotation, m.expression.index, ALIASES)
    assert (choice.id_column, choice.gene_column) == ("ID", c.gene_column)
    mapping = mp.gene_mapping_frame(annotation, id_column="ID", gene_column=c.gene_column)
    genes = mp.apply_gene_mapping(m.expression, mapping)
    assert sorted(genes.index) == sorted(c.genes)
    case = genes[list(c.cases)].mean(axis=1) - genes[list(c.controls)].mean(axis=1)
    assert (
        set(case.abs().nlargest(len(c.planted)).index) == set(c.planted) and case[list(c.planted)].min() > 1.5
    )
    # age and sex are where a key-aware reader finds them
    by_key = characteristics_by_key(m.characteristics)
    ages = [convert_age(v) for v in by_key.loc["age"]]
    sexes = [convert_gender(v) for v in by_key.loc["gender"]]
    assert ages == list(c.clinical["Age"]) and sexes == list(c.clinical["Gender"])


def test_platform_family_shares_one_platform(tmp_path):
    family = sy.write_platform_family(tmp_path, 4)
    assert len({c.accession for c in family}) == 4 and {c.platform for c in family} == {"GPL9105"}
    tables = [read_platform_table(c.annotation) for c in family]
    assert all(t.equals(tables[0]) for t in tables) and family[0].gene_column == "GENE_SYMBOL"
    sizes = [len(c.samples) for c in family]
    assert len(set(sizes)) == 4
    structures = [
        [str(v).split(":")[0] for v in read_series_matrix(c.matrix).characteristics.iloc[:, 0]]
        for c in family
    ]
    assert all(s == structures[0] for s in structures)


def _cli(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "omicsagent", "expr", "preprocess", *args],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _labels(out, trait, cohort):
    return pd.read_csv(out / trait / "clinical_data" / f"{cohort}.csv", index_col=0).loc[trait]


def _knowledge_labels(c):
    m = read_series_matrix(c.matrix)
    best = kn.scan_rows(c.trait, m.clinical_rows())[0]
    convert = kn.text_converter(c.trait)
    return best, dict(zip(m.samples, (convert(v) for v in m.clinical_rows().loc[best.key])))


def test_title_only_the_rules_read_a_decoy_and_the_knowledge_table_finds_the_titles(tmp_path):
    c = sy.write_title_only_cohort(tmp_path / "in" / "GSE9101")
    sy.write_gene_info(tmp_path / "toy.gene_info.gz")
    args = [
        "in/GSE9101",
        "--trait",
        "Crohns_Disease",
        "--gene-info",
        "toy.gene_info.gz",
        "--cache-dir",
        "cache",
    ]
    res = _cli(args, tmp_path)
    assert res.returncode == 0, res.stderr
    assert "usable" in res.stdout and "trait: row 3" in res.stdout  # the smoking-status row
    got = _labels(tmp_path / "output" / "preprocess", c.trait, c.accession)
    agreement = float((got == pd.Series(c.labels())).mean())
    assert agreement < 0.75  # a silent miss: labels no better than chance
    best, labels = _knowledge_labels(c)
    assert best.key == "title" and best.two_classes and labels == c.labels()
    titles = read_series_matrix(c.matrix).sample_fields.loc["title"]
    named = [s for s, t in titles.items() if any(m.is_trait for m in kn.match_text(c.trait, t))]
    assert named == [s for s in c.samples if s in c.cases]


def test_abbreviation_the_rules_fail_the_record_says_why_and_the_options_settle_it(tmp_path):
    c = sy.write_abbreviation_cohort(tmp_path / "in" / "GSE9102")
    sy.write_gene_info(tmp_path / "toy.gene_info.gz")
    args = [
        "in/GSE9102",
        "--trait",
        "Alzheimers_Disease",
        "--gene-info",
        "toy.gene_info.gz",
        "--cache-dir",
        "c",
    ]
    res = _cli(args, tmp_path)
    assert res.returncode == 0, res.stderr
    assert "not usable" in res.stdout
    info = json.loads(
        (tmp_path / "output" / "preprocess" / "Alzheimers_Disease" / "cohort_info.json").read_text()
    )
    note = info["GSE9102"]["note"]
    assert info["GSE9102"]["is_trait_available"] is False
    assert "rows seen:" in note and "3: 'diagnosis: AD', 'diagnosis: control'" in note
    assert "--trait-row ROW" in note and "--trait-case" in note
    best, labels = _knowledge_labels(c)
    assert best.key == 3 and best.case_terms == ("AD",) and labels == c.labels()
    row = read_series_matrix(c.matrix).characteristics.loc[3]
    hits = {s: [m.kind for m in kn.match_text(c.trait, v)] for s, v in row.items()}
    assert {s for s, kinds in hits.items() if "acronym" in kinds} == set(c.cases)
    assert {s for s, kinds in hits.items() if "control" in kinds} == set(c.controls)
    res = _cli([*args, "--trait-row", "3", "--trait-case", "AD", "--trait-control", "control"], tmp_path)
    assert res.returncode == 0 and "usable, 22 samples" in res.stdout
    got = _labels(tmp_path / "output" / "preprocess", c.trait, c.accession)
    assert got.to_dict() == c.labels()


def test_synonym_the_rules_read_non_as_control_and_the_knowledge_table_does_not(tmp_path):
    c = sy.write_synonym_cohort(tmp_path / "GSE9106")
    res = preprocess_cohort(c.folder, trait=c.trait, out_dir=tmp_path / "out", aliases=ALIASES)
    assert res.record.is_usable is False and "one class only" in res.record.note
    best, labels = _knowledge_labels(c)
    assert best.key == "source_name_ch1" and labels == c.labels()
    assert best.case_terms == ("non-insulin-dependent diabetes mellitus",)


def test_mixed_keys_the_rules_lose_samples_and_reading_by_key_recovers_them(tmp_path):
    c = sy.write_mixed_keys_cohort(tmp_path / "GSE9103")
    res = preprocess_cohort(c.folder, trait=c.trait, out_dir=tmp_path / "out", aliases=ALIASES)
    assert res.record.sample_size < len(c.samples)  # samples whose trait sits in the other row are lost
    m = read_series_matrix(c.matrix)
    by_key = characteristics_by_key(m.characteristics)
    assert list(by_key.index) == ["tissue", "disease state", "age", "gender", "treatment"]
    got = select_geo_features(
        by_key, c.trait, trait_row="disease state", trait_convert=trait_converter(c.trait)
    )
    assert got.loc[c.trait].to_dict() == c.labels()


def tasks_related(p):
    return {k: v["related_genes"] for k, v in json.loads(p.task_info.read_text()).items()}


def test_two_step_problem_has_a_known_answer(tmp_path):
    p = sy.write_two_step_problem(tmp_path / "problem")
    tasks = json.loads(p.task_info.read_text())
    assert tasks[p.trait]["conditions"][-1] == p.condition and set(p.instruments) <= set(
        tasks[p.condition]["related_genes"]
    )
    assert [c.folder.parent.name for c in p.trait_cohorts] == [p.trait, p.trait]
    aliases = load_alias_table(p.gene_info, cache_dir=tmp_path / "cache")
    pre = tmp_path / "out" / "preprocess"
    for c in (*p.trait_cohorts, *p.condition_cohorts):
        rec = preprocess_cohort(c.folder, trait=c.trait, out_dir=pre, aliases=aliases).record
        assert rec.is_usable and rec.sample_size == len(c.samples)
        got = _labels(pre, c.trait, c.accession)
        assert got.to_dict() == c.labels()
    res = analyze(
        pre,
        trait=p.trait,
        out_dir=tmp_path / "out" / "regress",
        options=AnalyzeOptions(condition=p.condition, task_info=p.task_info),
    )
    assert (res.cohort, res.condition_cohort) == (
        p.trait_cohorts[0].accession,
        p.condition_cohorts[0].accession,
    )
    choice = select_two_step(
        pre / p.trait, pre / p.condition, trait=p.trait, condition=p.condition, related=tasks_related(p)
    )
    assert sorted(choice.instruments) == sorted(p.instruments)
    assert res.n_genes == len(sy.GENES) - len(p.instruments)  # instruments leave the predictors
    assert set(res.genes) == set(p.planted) and p.confounder not in res.genes
    data = json.loads(res.output.read_text())
    assert data["provenance"]["condition_coefficient"] > 0  # the predicted condition carries the trait
    c = p.trait_cohorts[0]
    y = np.array([c.labels()[s] for s in c.samples])
    assert 0.2 < y.mean() < 0.8
