from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsagent.errors import InputError
from omicsagent.expression.pp.mapping import (
    apply_gene_mapping,
    extract_gene_symbols,
    guess_annotation_columns,
    requires_gene_mapping,
    split_gene_field,
)
from omicsagent.expression.pp.symbols import AliasTable

ASSIGNMENT = "NM_001 // DDX1 // DEAD/H box 1 // 2p24 // 1653 /// NR_002 // LOC100 // x // 1 // 2"


def test_reference_tokenizer():
    assert extract_gene_symbols("DDR1 /// MIR4640") == ["DDR1", "MIR4640"]
    # description words in capitals are picked up; LOC<digits> is skipped; accessions are not words
    assert extract_gene_symbols(ASSIGNMENT) == ["DDX1", "DEAD"]
    assert extract_gene_symbols("C10orf54 and Abc1 DNA EST") == ["C10orf54"]
    assert extract_gene_symbols("ABCDEFGHIJK HLA-DRB1") == ["HLA-DRB1"]  # 11 letters is too long
    assert extract_gene_symbols(1234.0) == [] and extract_gene_symbols("LINC00473 TP53 TP53") == ["TP53"]


def test_default_parser_reads_the_structure():
    assert split_gene_field(ASSIGNMENT) == ["DDX1", "LOC100"]
    assert split_gene_field("DDR1 /// MIR4640") == ["DDR1", "MIR4640"]
    assert split_gene_field("---") == [] and split_gene_field(None) == []
    assert split_gene_field("C10orf54") == ["C10orf54"]  # lower case kept
    assert split_gene_field("tumor protein TP53 binding") == ["TP53"]  # free text falls back to the regex


def test_worked_example_divide_then_sum_and_default_mean():
    expr = pd.DataFrame({"s1": [4.0, 10.0, np.nan], "s2": [6.0, 2.0, np.nan]}, index=["P1", "P2", "P3"])
    mapping = pd.DataFrame({"ID": ["P1", "P2", "P3", "P9"], "Gene": ["G1 /// G2", "G2", "G3", "G4"]})
    ref = apply_gene_mapping(expr, mapping, reference_compatible=True)
    assert ref.loc["G1"].tolist() == [2.0, 3.0]  # P1 / 2
    assert ref.loc["G2"].tolist() == [12.0, 5.0]  # P1 / 2 + P2
    assert ref.loc["G3"].tolist() == [0.0, 0.0]  # all-NaN sums to 0 in the reference
    assert "G4" not in ref.index  # P9 is not in the expression table
    mine = apply_gene_mapping(expr, mapping)
    assert mine.loc["G1"].tolist() == [4.0, 6.0] and mine.loc["G2"].tolist() == [7.0, 4.0]
    assert mine.loc["G3"].isna().all()


def test_requires_gene_mapping():
    aliases = AliasTable({"TP53": "TP53", "A1BG": "A1BG"}, "given", "t")
    assert requires_gene_mapping(["1007_s_at", "1053_at", "TP53"], aliases)[0] is True
    assert requires_gene_mapping(["TP53", "A1BG", "x"], aliases)[0] is False


def test_guess_annotation_columns():
    aliases = AliasTable({"TP53": "TP53", "DDX1": "DDX1"}, "given", "t")
    ann = pd.DataFrame(
        {
            "ID": ["p1", "p2", "p3"],
            "ENTREZ_GENE_ID": ["7157", "1653", "1"],
            "gene_assignment": ["x // TP53 // y", "x // DDX1 // y", "---"],
        }
    )
    choice = guess_annotation_columns(ann, pd.Index(["p1", "p2"]), aliases)
    assert (choice.id_column, choice.gene_column) == ("ID", "gene_assignment")
    with pytest.raises(InputError, match="No annotation column matches"):
        guess_annotation_columns(ann, pd.Index(["zz"]), aliases)


def test_reference_tokenizer_on_read_through_names():
    # the greedy class swallows the hyphen, so a junk token counts in n and GP1BB gets half the value
    assert extract_gene_symbols("SEPT5-GP1BB") == ["SEPT5-", "GP1BB"]
    assert split_gene_field("SEPT5-GP1BB") == ["SEPT5-GP1BB"]
