"""Expression inputs that cannot escape the output folder or mislead, through ``omicsagent expr``.

Path cases run the installed CLI in a subprocess from another working directory with relative paths; the
others use CliRunner on the real ``omicsagent`` app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omicsagent.cli import app
from omicsagent.expression import synthetic

from .conftest import DLBC, GENE_INFO, need

EXE = [sys.executable, "-m", "omicsagent"]


def expr(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["expr", *args])
    return result.exit_code, result.output


def error_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert "Traceback" not in output, output
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture()
def inputs(tmp_path: Path) -> Path:
    """``tmp/in``: a GEO series about colorectal cancer, a Xena cohort, the toy gene_info."""
    root = tmp_path / "in"
    root.mkdir()
    synthetic.write_gene_info(root / "toy.gene_info.gz")
    synthetic.write_series_matrix(root / "GSE77", accession="GSE77")
    synthetic.write_xena_cohort(root / "TCGA_Synthetic_(SYN)")
    return root


def preprocess(inputs: Path, cohort: str, trait: str, out: Path, *extra: str) -> tuple[int, str]:
    return expr(
        "preprocess",
        str(inputs / cohort),
        "--trait",
        trait,
        "--out",
        str(out),
        "--gene-info",
        str(inputs / "toy.gene_info.gz"),
        "--cache-dir",
        str(inputs.parent / "cache"),
        *extra,
    )


def test_a_trait_that_is_a_path_is_refused_before_anything_is_written(inputs, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    before = tree(tmp_path)
    result = subprocess.run(
        [
            *EXE,
            "expr",
            "preprocess",
            "../in/GSE77",
            "--trait",
            "///",
            "--out",
            "out",
            "--gene-info",
            "../in/toy.gene_info.gz",
            "--cache-dir",
            "cache",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 2
    assert "The trait name '///' is not a plain name" in error_line(result.stderr)
    assert tree(tmp_path) == before  # not even the alias cache


@pytest.mark.parametrize("trait", ["..", "../outside", "a/b", "Colorectal..Cancer", "x\\y"])
def test_trait_names_with_separators_or_dot_dot_are_refused(inputs, tmp_path, trait):
    before = tree(tmp_path)
    code, output = preprocess(inputs, "GSE77", trait, tmp_path / "out")
    assert code == 2 and "is not a plain name" in error_line(output)
    code, output = expr("analyze", str(tmp_path / "out"), "--trait", trait, "--out", str(tmp_path / "reg"))
    assert code == 2 and "is not a plain name" in error_line(output)
    code, output = preprocess(inputs, "GSE77", "Colorectal_Cancer", tmp_path / "out", "--cohort-id", trait)
    assert code == 2 and f"The cohort id {trait!r} is not a plain name" in error_line(output)
    assert tree(tmp_path) == before


def test_a_trait_the_cohort_never_mentions_is_a_warning_on_its_record(inputs, tmp_path):
    out = tmp_path / "pre"
    code, output = preprocess(inputs, "TCGA_Synthetic_(SYN)", "Asthma", out)
    assert code == 0, output
    assert "warning: the trait Asthma is not mentioned in the cohort name TCGA_Synthetic_(SYN)" in output
    record = json.loads((out / "Asthma" / "cohort_info.json").read_text())["TCGA"]
    assert record["is_usable"] is True  # a doubt, not a verdict
    assert len(record["warnings"]) == 1 and "tumour/normal labels" in record["warnings"][0]
    # the cohort's own words: the Xena cohort name, the GEO characteristics
    code, output = preprocess(inputs, "TCGA_Synthetic_(SYN)", "Synthetic", out)
    assert code == 0 and "warning:" not in output
    assert json.loads((out / "Synthetic" / "cohort_info.json").read_text())["TCGA"]["warnings"] == []
    code, output = preprocess(inputs, "GSE77", "Colorectal_Cancer", out)
    assert code == 0 and "warning:" not in output
    code, output = preprocess(
        inputs,
        "GSE77",
        "Asthma",
        out,
        "--trait-row",
        "3",
        "--trait-case",
        "colorectal cancer",
        "--trait-control",
        "healthy",
    )
    assert code == 0 and "warning: the trait Asthma is not mentioned in the series title" in output


def test_analyze_names_the_cohort_it_chose_and_why(inputs, tmp_path):
    out = tmp_path / "pre"
    assert preprocess(inputs, "GSE77", "Colorectal_Cancer", out)[0] == 0
    assert preprocess(inputs, "TCGA_Synthetic_(SYN)", "Colorectal_Cancer", out)[0] == 0
    code, output = expr("analyze", str(out), "--trait", "Colorectal_Cancer", "--out", str(tmp_path / "reg"))
    assert code == 0, output
    assert "cohort TCGA, 38 samples" in output
    assert "chosen: the usable cohort with the most samples (38); other usable: GSE77 (22)" in output
    # the chosen cohort's doubt is repeated where the result is read
    assert (
        "warning: the trait Colorectal_Cancer is not mentioned in the cohort name TCGA_Synthetic_(SYN)"
        in output
    )
    data = json.loads(
        (tmp_path / "reg" / "Colorectal_Cancer" / "significant_genes_condition_None.json").read_text()
    )
    assert data["provenance"]["selection"].startswith("the usable cohort with the most samples (38)")
    assert len(data["provenance"]["warnings"]) == 1


def test_a_constant_trait_is_called_constant_and_analyze_says_why_nothing_is_usable(tmp_path):
    root = tmp_path / "in"
    root.mkdir()
    synthetic.write_gene_info(root / "toy.gene_info.gz")
    synthetic.write_xena_cohort(root / "TCGA_Synthetic_(SYN)", n_normal=0)  # tumour samples only
    out = tmp_path / "pre"
    code, output = preprocess(root, "TCGA_Synthetic_(SYN)", "Synthetic", out)
    assert code == 0 and "not usable" in output
    note = json.loads((out / "Synthetic" / "cohort_info.json").read_text())["TCGA"]["note"]
    assert "(constant)" in note and "continuous" not in note
    code, output = expr("analyze", str(out), "--trait", "Synthetic", "--out", str(tmp_path / "reg"))
    assert code == 2
    line = error_line(output)
    assert line.startswith("error: No usable cohort for Synthetic in ")
    assert (
        "(TCGA: trait is biased: trait Synthetic (constant): every one of the 30 samples has the value 1)"
        in line
    )
    assert not (tmp_path / "reg").exists()


def test_task_info_that_is_not_json_text_is_one_sentence(inputs, tmp_path):
    out = tmp_path / "pre"
    assert preprocess(inputs, "GSE77", "Colorectal_Cancer", out)[0] == 0
    (tmp_path / "task_info.json").write_bytes(bytes(range(256)) * 8)
    for path, needle in ((tmp_path / "task_info.json", "is not text"), (tmp_path, "is not a file")):
        code, output = expr(
            "analyze",
            str(out),
            "--trait",
            "Colorectal_Cancer",
            "--out",
            str(tmp_path / "reg"),
            "--task-info",
            str(path),
        )
        assert code == 2 and needle in error_line(output)
    assert not (tmp_path / "reg").exists()


@pytest.mark.datasets
def test_dlbc_analyze_repeats_why_the_cohort_is_unusable(tmp_path):
    """The real DLBC cohort has tumour samples only, so its trait is constant: analyze says so."""
    cohort = need(DLBC)
    gene_info = need(GENE_INFO)
    out = tmp_path / "pre"
    code, output = expr(
        "preprocess",
        str(cohort),
        "--trait",
        "Large_B-cell_Lymphoma",
        "--out",
        str(out),
        "--gene-info",
        str(gene_info),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert (
        code == 0 and "not usable" in output and "warning:" not in output
    )  # the cohort name matches the trait
    code, output = expr(
        "analyze", str(out), "--trait", "Large_B-cell_Lymphoma", "--out", str(tmp_path / "reg")
    )
    assert code == 2
    line = error_line(output)
    assert "No usable cohort for Large_B-cell_Lymphoma" in line
    assert "trait Large_B-cell_Lymphoma (constant): every one of the 48 samples has the value 1" in line
