"""GEO preprocessing: the seven GenoTEX action units with rules (or user overrides) for the judgement.

The one judgement an LLM made in the reference (which rows hold trait, age and sex, and how to read
them) is made here by explainable rules; every decision is written to ``result.notes``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from omicsagent.errors import InputError
from omicsagent.expression._files import check_file_name, list_files, pick_file
from omicsagent.expression.io import geo as geo_io
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
from omicsagent.expression.pp import mapping as mp
from omicsagent.expression.pp.cohort import TraitLayout, link_geo, write_csv
from omicsagent.expression.pp.converters import convert_age, convert_gender, trait_converter
from omicsagent.expression.pp.symbols import AliasTable

NOT_EXPRESSION = re.compile(r"methylation|snp|genotyping|genome variation", re.IGNORECASE)
ANNOTATION_SUFFIX = re.compile(r"\.(tsv|txt|csv|annot)(\.gz)?$")


def find_geo_files(folder: Path, options: PreprocessOptions) -> tuple[Path | None, Path | None, list[str]]:
    """(series matrix, annotation, notes). The reference takes the first name containing "matrix"
    (and "soft") in ``os.listdir`` order; by default names are sorted and the choice is noted."""
    notes = []
    sort = not options.reference_compatible
    names = list_files(folder, sort=sort)
    matrices = [n for n in names if "matrix" in n.lower()]
    if not matrices:  # a GDS SOFT file holds values, subsets and identifiers together
        matrices = [n for n in names if n.lower().startswith("gds") and "soft" in n.lower()]
    matrix = folder / matrices[0] if matrices else None
    if len(matrices) > 1:
        notes.append(f"several matrix files ({', '.join(matrices)}); used {matrices[0]}")
    annotation = options.annotation or pick_file(folder, "soft", sort=sort)
    if annotation is None:
        others = [
            n for n in list_files(folder) if "matrix" not in n.lower() and ANNOTATION_SUFFIX.search(n.lower())
        ]
        annotation = folder / others[0] if others else None
    return matrix, annotation, notes


def _cohort_id(folder: Path, accession: str | None, options: PreprocessOptions) -> str:
    if options.cohort_id:
        return check_file_name(options.cohort_id, "cohort id")
    m = re.match(r"(GSE\d+|GDS\d+)", folder.name)
    if m:
        return m.group(1)
    plain = accession and re.fullmatch(r"[\w.-]+", accession) and ".." not in accession
    return accession if plain else folder.name


def _row_option(value: int | str | None) -> tuple[bool, int | str | None]:
    """(given, key); ``"none"`` means given-and-disabled."""
    if value is None:
        return False, None
    if isinstance(value, str) and value.strip().lower() == "none":
        return True, None
    return True, clin.parse_row_key(value)


def _gene_availability(matrix: geo_io.SeriesMatrix) -> tuple[bool, str | None]:
    if matrix.table_status == "missing":
        return False, "the matrix has no expression table"
    if matrix.table_status == "empty":
        return False, "the expression table is empty (the data are only in supplementary files)"
    kind = matrix.series_type
    if NOT_EXPRESSION.search(kind) and "expression" not in kind.lower():
        return False, f"series type is {kind!r}, not gene expression"
    return True, None


def preprocess_geo(
    folder: Path,
    trait: str,
    layout: TraitLayout,
    aliases: AliasTable,
    options: PreprocessOptions,
    progress: Progress,
) -> PreprocessResult:
    matrix_path, annotation_path, notes = find_geo_files(folder, options)
    result = PreprocessResult(
        cohort_id=_cohort_id(folder, None, options), kind="GEO", trait=trait, notes=notes
    )
    if matrix_path is None:
        return fail(result, layout, gene=False, trait=False, note=f"no series matrix file in {folder}")
    progress(f"reading {matrix_path.name}")
    try:
        matrix = read_matrix(matrix_path, options)
    except InputError as err:
        return fail(result, layout, gene=False, trait=False, note=str(err))
    result.cohort_id = _cohort_id(folder, matrix.accession, options)
    result.notes.append(
        f"matrix {matrix_path.name}: {len(matrix.samples)} samples, table {matrix.table_status} "
        f"({matrix.expression.shape[0]} rows)"
    )
    rows = matrix.clinical_rows()
    cells = [str(c) for c in pd.unique(rows.to_numpy().ravel()) if not pd.isna(c)]
    check_trait_text(result, [matrix.background, *cells], "the series title, summary, design or sample "
                     "characteristics", "the case/control labels read from them")
    result.row_preview = clin.unique_values_by_row(rows, most_frequent=not options.reference_compatible)
    gene_ok, gene_why = _gene_availability(matrix)

    # Step 2: which rows hold trait, age and sex, and how to read them.
    t_conv = trait_converter(
        trait,
        case=options.trait_case,
        control=options.trait_control,
        key=options.trait_key,
        continuous=options.trait_continuous,
    )

    def a_conv(cell: object) -> float | None:
        return convert_age(cell, unit=options.age_unit)

    def g_conv(cell: object) -> float | None:
        return convert_gender(cell, inverted=options.gender_inverted)

    guess = clin.detect_clinical_rows(
        rows, trait, trait_convert=t_conv, age_convert=a_conv, gender_convert=g_conv
    )
    chosen, trait_note = {}, "no row could be read as the trait"
    for name in ("trait", "age", "gender"):
        given, key = _row_option(getattr(options, f"{name}_row"))
        chosen[name] = key if given else getattr(guess, f"{name}_row")
        if given:
            result.notes.append(f"{name}: row {key!r} as requested")
        else:
            mine = [n for n in guess.notes if n.startswith(f"{name}:")]
            result.notes.extend(mine)
            if name == "trait" and mine:
                trait_note = mine[0].removeprefix("trait: ")
    # Step 3: the initial filter.
    if not gene_ok or chosen["trait"] is None:
        note = gene_why if not gene_ok else _undecided(trait_note, result.row_preview)
        return fail(result, layout, gene=gene_ok, trait=chosen["trait"] is not None, note=note)
    try:
        clinical = clin.select_geo_features(
            rows,
            trait,
            trait_row=chosen["trait"],
            trait_convert=t_conv,
            age_row=chosen["age"],
            age_convert=a_conv,
            gender_row=chosen["gender"],
            gender_convert=g_conv,
        )
    except InputError as err:
        return fail(result, layout, gene=gene_ok, trait=False, note=str(err))
    if clinical.loc[trait].dropna().empty:
        note = f"the trait row {chosen['trait']!r} never matched the converter (every value unknown)"
        return fail(result, layout, gene=gene_ok, trait=False, note=_undecided(note, result.row_preview))
    write_csv(clinical, layout.clinical(result.cohort_id))
    result.files["clinical"] = str(layout.clinical(result.cohort_id))

    # Steps 4-6: identifiers, annotation, probe -> gene mapping.
    genes = matrix.expression
    needed, why = mp.requires_gene_mapping(genes.index, aliases)
    result.notes.append(f"identifiers: {why}")
    if needed:
        if annotation_path is None:
            note = "probe IDs need an annotation file (family SOFT or probe -> symbol table)"
            return fail(result, layout, gene=False, trait=True, note=note)
        progress(f"mapping probes with {annotation_path.name}")
        try:
            genes = map_probes(genes, annotation_path, aliases, options, result)
        except InputError as err:
            return fail(result, layout, gene=False, trait=True, note=str(err))
    # Step 7: normalise, link, clean, judge, save.
    genes = write_gene_table(result, layout, genes, aliases, options, progress)
    return finish(result, layout, link_geo(clinical, genes), progress, options)


def _undecided(note: str, preview: dict) -> str:
    """The reason, the rows and values seen, and the options that settle it (for the cohort record)."""
    note = re.sub(r"; pass --trait-row.*$", "", note)
    return (
        f"{note}; rows seen: {clin.describe_rows(preview)}; to settle it pass --trait-row ROW "
        "(an index above, title, source_name_ch1 or description) with --trait-case WORDS and "
        "--trait-control WORDS"
    )


def read_matrix(path: Path, options: PreprocessOptions) -> geo_io.SeriesMatrix:
    name = path.name.lower()
    if name.startswith("gds") and "soft" in name:
        return geo_io.read_gds_soft(path).as_series_matrix()
    return geo_io.read_series_matrix(path, reference_compatible=options.reference_compatible)


def read_annotation(path: Path, options: PreprocessOptions) -> pd.DataFrame:
    name = path.name.lower()
    if "soft" in name and name.startswith("gds"):
        return geo_io.read_gds_soft(path).identifiers
    if "soft" in name or name.endswith((".annot", ".annot.gz")):
        return geo_io.read_platform_table(
            path, platform=options.platform, reference_compatible=options.reference_compatible
        )
    return geo_io.read_probe_table(path)


def map_probes(
    genes: pd.DataFrame,
    annotation_path: Path,
    aliases: AliasTable,
    options: PreprocessOptions,
    result: PreprocessResult,
) -> pd.DataFrame:
    annotation = read_annotation(annotation_path, options)
    if options.gene_column:
        id_col, gene_col = options.id_column or "ID", options.gene_column
        result.notes.append(f"annotation: columns {id_col!r} -> {gene_col!r} as requested")
    else:
        choice = mp.guess_annotation_columns(annotation, genes.index, aliases)
        id_col, gene_col = options.id_column or choice.id_column, choice.gene_column
        result.notes.append(f"annotation {annotation_path.name}: {choice.explanation}")
    mapping = mp.gene_mapping_frame(annotation, id_column=id_col, gene_column=gene_col)
    mapped = mp.apply_gene_mapping(genes, mapping, reference_compatible=options.reference_compatible)
    result.notes.append(f"mapping: {len(genes)} probes -> {len(mapped)} genes")
    if mapped.empty:
        raise InputError(f"no probe of the table matched the annotation column {gene_col!r}")
    return mapped
