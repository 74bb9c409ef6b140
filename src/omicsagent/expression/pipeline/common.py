"""What the GEO and TCGA preprocessing flows share: options, result, and the common ending."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from omicsagent.expression._files import trait_mentioned
from omicsagent.expression.pp.cohort import (
    CohortRecord,
    TraitLayout,
    handle_missing_values,
    judge_bias,
    save_cohort_record,
    write_csv,
)
from omicsagent.expression.pp.symbols import AliasTable, normalize_gene_symbols

Progress = Callable[[str], None]


@dataclass
class PreprocessOptions:
    """Judgement overrides. Rows are integers (characteristics) or ``title``/``source_name_ch1``/
    ``description``; the string ``"none"`` disables a variable; None means "decide by the rules"."""

    reference_compatible: bool = False
    cohort_id: str | None = None
    trait_row: int | str | None = None
    age_row: int | str | None = None
    gender_row: int | str | None = None
    trait_case: list[str] | None = None
    trait_control: list[str] | None = None
    trait_key: str | None = None
    trait_continuous: bool = False
    age_unit: str | None = None
    gender_inverted: bool = False
    annotation: Path | None = None
    id_column: str | None = None
    gene_column: str | None = None
    platform: str | None = None
    age_column: str | None = None
    gender_column: str | None = None
    max_gene_missing: float = 0.2  # missing-value thresholds of the method (genes, then samples)
    max_sample_missing: float = 0.05


@dataclass
class PreprocessResult:
    cohort_id: str
    kind: str
    trait: str
    record: CohortRecord | None = None
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    row_preview: dict | None = None
    shapes: dict[str, tuple[int, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # copied onto the cohort record


def check_trait_text(result: PreprocessResult, texts: list[str], where: str, labels: str) -> None:
    """Warn (on the cohort record) when the cohort's own text never mentions the trait: its labels
    (``labels``) may then be about something else."""
    if not trait_mentioned(result.trait, texts):
        result.warnings.append(
            f"the trait {result.trait} is not mentioned in {where}, so {labels} may not be about "
            f"{result.trait}; check that this cohort studies it"
        )


def _save(result: PreprocessResult, layout: TraitLayout) -> None:
    assert result.record is not None
    result.record.warnings = list(result.warnings)
    save_cohort_record(layout.info, result.cohort_id, result.record)
    result.files["cohort_info"] = str(layout.info)


def fail(
    result: PreprocessResult, layout: TraitLayout, *, gene: bool, trait: bool, note: str
) -> PreprocessResult:
    """Record an unusable cohort (initial filter) with the reason, and stop."""
    result.record = CohortRecord.initial_failure(gene=gene, trait=trait, note=note)
    result.notes.append(f"unusable: {note}")
    _save(result, layout)
    return result


def write_gene_table(
    result: PreprocessResult,
    layout: TraitLayout,
    genes: pd.DataFrame,
    aliases: AliasTable,
    options: PreprocessOptions,
    progress: Progress,
) -> pd.DataFrame:
    progress("normalising gene symbols")
    n_before = len(genes)
    genes = normalize_gene_symbols(genes, aliases, prefer_exact=not options.reference_compatible)
    result.notes.append(f"symbols: {n_before} -> {len(genes)} official symbols")
    write_csv(genes, layout.genes(result.cohort_id))
    result.files["genes"] = str(layout.genes(result.cohort_id))
    result.shapes["genes"] = genes.shape
    return genes


def finish(
    result: PreprocessResult,
    layout: TraitLayout,
    linked: pd.DataFrame,
    progress: Progress,
    options: PreprocessOptions | None = None,
) -> PreprocessResult:
    """Missing values, bias judgement, final record; the linked table is written only if usable."""
    options = options or PreprocessOptions()
    trait, cid = result.trait, result.cohort_id
    counts = linked[trait].value_counts(dropna=False).to_dict()
    result.notes.append(
        f"linked {linked.shape[0]} samples x {linked.shape[1]} columns; trait values "
        + ", ".join(f"{k:g}: {v}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    )
    progress("handling missing values")
    cleaned = handle_missing_values(
        linked,
        trait,
        max_gene_missing=options.max_gene_missing,
        max_sample_missing=options.max_sample_missing,
    )
    result.notes.append(f"missing values: {linked.shape} -> {cleaned.shape}")
    judgement, cleaned = judge_bias(cleaned, trait)
    verdict = "biased" if judgement.trait_biased else "fine"
    dropped = f"; dropped {', '.join(judgement.dropped)} (biased)" if judgement.dropped else ""
    result.notes.append(f"bias: {judgement.reason} -> {verdict}{dropped}")
    n_genes = cleaned.shape[1] - sum(c in cleaned.columns for c in (trait, "Age", "Gender"))
    note = (
        f"trait is biased: {judgement.reason}"
        if judgement.trait_biased
        else (f"{n_genes} genes; {judgement.reason}")
    )
    result.record = CohortRecord.final(
        cleaned, gene=True, trait=True, biased=judgement.trait_biased, note=note
    )
    if not result.record.is_available:
        result.record.note = (
            f"no usable samples or genes after cleaning ({cleaned.shape[0]}x{cleaned.shape[1]})"
        )
    _save(result, layout)
    result.shapes["linked"] = cleaned.shape
    if result.record.is_usable:
        write_csv(cleaned, layout.linked(cid))
        result.files["linked"] = str(layout.linked(cid))
    return result
