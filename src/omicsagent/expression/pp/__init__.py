"""Preprocessing: gene symbols, probe mapping, clinical features, linking, cleaning, cohort records."""

from __future__ import annotations

from omicsagent.expression.pp.clinical import (
    RowChoice,
    characteristics_by_key,
    describe_rows,
    detect_clinical_rows,
    guess_tcga_columns,
    select_geo_features,
    select_tcga_features,
    tcga_trait,
    unique_values_by_row,
)
from omicsagent.expression.pp.cohort import (
    CohortRecord,
    TraitLayout,
    handle_missing_values,
    judge_bias,
    link_geo,
    link_tcga,
    save_cohort_record,
)
from omicsagent.expression.pp.converters import TraitConverter, convert_age, convert_gender, trait_converter
from omicsagent.expression.pp.mapping import (
    apply_gene_mapping,
    extract_gene_symbols,
    guess_annotation_columns,
    requires_gene_mapping,
    split_gene_field,
)
from omicsagent.expression.pp.symbols import (
    AliasTable,
    load_alias_table,
    normalize_gene_symbols,
    symbol_report,
)

__all__ = [
    "AliasTable",
    "CohortRecord",
    "RowChoice",
    "TraitConverter",
    "TraitLayout",
    "apply_gene_mapping",
    "characteristics_by_key",
    "convert_age",
    "convert_gender",
    "describe_rows",
    "detect_clinical_rows",
    "extract_gene_symbols",
    "guess_annotation_columns",
    "guess_tcga_columns",
    "handle_missing_values",
    "judge_bias",
    "link_geo",
    "link_tcga",
    "load_alias_table",
    "normalize_gene_symbols",
    "requires_gene_mapping",
    "save_cohort_record",
    "select_geo_features",
    "select_tcga_features",
    "split_gene_field",
    "symbol_report",
    "tcga_trait",
    "trait_converter",
    "unique_values_by_row",
]
