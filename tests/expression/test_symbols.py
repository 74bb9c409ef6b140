from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omicsagent.errors import InputError
from omicsagent.expression import synthetic
from omicsagent.expression.pp.symbols import (
    AliasTable,
    build_alias_map,
    load_alias_table,
    normalize_gene_symbols,
    symbol_report,
)

# File order matters for the reference rule.
GENES = [
    ("A1", ["X", "B2"]),  # alias B2 is also the official symbol of a later gene
    ("B2", ["Y"]),
    ("C3orf9", ["Z"]),  # mixed-case official symbol
    ("D4", ["C3orf9", "X", "-"]),  # claims C3orf9 and X as aliases
]


def test_reference_rule_is_order_dependent_and_protects_only_capitals():
    table = build_alias_map(GENES, variant="reference")
    assert table["B2"] == "B2"  # the later official symbol overwrote A1's alias
    assert table["X"] == "D4"  # shared alias: the later gene wins
    assert table["C3ORF9"] == "D4"  # not protected: "C3orf9" != "C3ORF9"
    assert table["-"] == "D4"  # the placeholder becomes an alias


def test_official_first_rule():
    table = build_alias_map(GENES, variant="official-first")
    assert table["B2"] == "B2" and table["C3ORF9"] == "C3orf9" and table["X"] == "D4"
    assert "-" not in table and table["Z"] == "C3orf9"


def test_unknown_variant():
    with pytest.raises(InputError, match="Unknown alias-table variant"):
        build_alias_map(GENES, variant="best")


def test_cache_is_built_once_and_reused(tmp_path):
    info = synthetic.write_gene_info(tmp_path / "g.gene_info.gz")
    cache = tmp_path / "cache"
    first = load_alias_table(info, cache_dir=cache)
    files = sorted(p.name for p in cache.iterdir())
    assert any(n.endswith(".json") for n in files) and first.lookup("oldgene1") == "GENE1"
    info.unlink()  # without a path, the latest cached table is used
    again = load_alias_table(None, cache_dir=cache)
    assert again.mapping == first.mapping
    with pytest.raises(InputError, match="No gene alias table is cached"):
        load_alias_table(None, cache_dir=tmp_path / "empty")


def test_genotex_json_is_accepted(tmp_path):
    path = tmp_path / "gene_synonym.json"
    path.write_text(json.dumps({"OLD1": "NEW1", "NEW1": "NEW1"}))
    table = load_alias_table(path, cache_dir=tmp_path / "c")
    assert table.lookup("old1") == "NEW1" and table.variant == "given"


def test_missing_gene_info(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_alias_table(tmp_path / "nope.gz", cache_dir=tmp_path)


def test_normalize_averages_and_drops():
    aliases = AliasTable({"A": "A", "OLDA": "A", "B": "B"}, "given", "test")
    df = pd.DataFrame(
        {"s1": [1.0, 3.0, 5.0, 9.0], "s2": [2.0, np.nan, 6.0, 9.0]}, index=["a", "OLDA", "B", "unknown"]
    )
    out = normalize_gene_symbols(df, aliases, prefer_exact=False)
    assert list(out.index) == ["A", "B"]
    assert out.loc["A", "s1"] == 2.0 and out.loc["A", "s2"] == 2.0  # NaN skipped in the mean
    exact = normalize_gene_symbols(df, aliases)  # "a" is A's own name (any case): OLDA is not averaged in
    assert exact.loc["A"].tolist() == [1.0, 2.0]
    rep = symbol_report(list(df.index), aliases)
    assert rep.unknown == ["unknown"] and rep.merged == {"A": ["a", "OLDA"]} and rep.n_output == 2


def test_real_gene_info_chol_symbols(real_aliases):
    # Two Xena symbols whose lower-case official symbol the reference rule lets a read-through gene take.
    assert real_aliases.lookup("C17orf49") == "C17orf49"
    assert real_aliases.lookup("c11orf52") == "C11orf52"
    assert real_aliases.lookup("P53") == "TP53"


def test_alias_rows_do_not_contaminate_a_measured_symbol():
    # MARS (now MARS1) is also listed as an alias of SLA2; OLDB is only an old name of B.
    aliases = AliasTable({"SLA2": "SLA2", "MARS": "SLA2", "B": "B", "OLDB": "B", "OLDC": "C"}, "given", "t")
    df = pd.DataFrame({"s": [1.0, 100.0, 4.0, 6.0]}, index=["SLA2", "MARS", "OLDB", "OLDC"])
    mine = normalize_gene_symbols(df, aliases)
    assert mine["s"].to_dict() == {"B": 4.0, "C": 6.0, "SLA2": 1.0}
    ref = normalize_gene_symbols(df, aliases, prefer_exact=False)
    assert ref.loc["SLA2", "s"] == 50.5  # the reference averages the two rows
