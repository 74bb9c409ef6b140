"""TCGA (UCSC Xena) preprocessing: trait from the barcode, age and sex from the clinical matrix."""

from __future__ import annotations

from pathlib import Path

from omicsagent.errors import InputError
from omicsagent.expression._files import check_file_name
from omicsagent.expression.io import tcga as tcga_io
from omicsagent.expression.pipeline.common import (
    PreprocessOptions,
    PreprocessResult,
    Progress,
    check_trait_text,
    fail,
    finish,
    write_gene_table,
)
from omicsagent.expression.pp import clinical as clin
from omicsagent.expression.pp.cohort import TraitLayout, link_tcga, write_csv
from omicsagent.expression.pp.symbols import AliasTable


def _column(given: str | None, guessed: str | None) -> str | None:
    value = given if given is not None else guessed
    return None if value == "none" else value


def preprocess_tcga(
    folder: Path,
    trait: str,
    layout: TraitLayout,
    aliases: AliasTable,
    options: PreprocessOptions,
    progress: Progress,
) -> PreprocessResult:
    # The reference names every Xena cohort "TCGA" (GenoTEX notebooks and GenoMAS alike).
    cohort_id = check_file_name(options.cohort_id, "cohort id") if options.cohort_id else "TCGA"
    result = PreprocessResult(cohort_id=cohort_id, kind="TCGA", trait=trait)
    files = tcga_io.find_xena_files(folder, reference_compatible=options.reference_compatible)
    result.notes.append(f"Xena cohort {folder.name}: {files.clinical.name}, {files.expression.name}")
    check_trait_text(result, [folder.name, files.clinical.name], f"the cohort name {folder.name}",
                     "its tumour/normal labels (read from the sample barcodes)")
    progress(f"reading {files.expression.name}")
    try:
        clinical_raw = tcga_io.read_xena_clinical(files.clinical)
        genes = tcga_io.read_xena_expression(files.expression)
    except InputError as err:
        return fail(result, layout, gene=False, trait=False, note=str(err))
    if genes.empty or clinical_raw.empty:
        note = "the expression or clinical matrix is empty"
        return fail(result, layout, gene=not genes.empty, trait=not clinical_raw.empty, note=note)
    age_col, gender_col, notes = clin.guess_tcga_columns(clinical_raw)
    age_col, gender_col = _column(options.age_column, age_col), _column(options.gender_column, gender_col)
    result.notes.extend(notes)
    try:
        clinical = clin.select_tcga_features(
            clinical_raw,
            trait,
            age_col=age_col,
            gender_col=gender_col,
            reference_compatible=options.reference_compatible,
        )
    except InputError as err:
        return fail(result, layout, gene=True, trait=False, note=str(err))
    write_csv(clinical, layout.clinical(result.cohort_id))
    result.files["clinical"] = str(layout.clinical(result.cohort_id))
    genes = write_gene_table(result, layout, genes, aliases, options, progress)
    return finish(result, layout, link_tcga(clinical, genes), progress, options)
