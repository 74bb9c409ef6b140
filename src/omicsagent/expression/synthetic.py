"""Small synthetic cohorts in the real file formats, for tests and examples (public, like scanpy's
``datasets``). Planted genes shift with the trait, so analyses have something to find.

Basic writers: ``write_gene_info``, ``write_series_matrix`` (a cohort the rules handle),
``write_xena_cohort`` (TCGA / Xena).

Cohorts where the first rule fails, each returning a ``SyntheticCohort`` (paths + ground truth: which
samples are cases, which genes are planted, where the trait is written, which annotation column holds
the symbols). All write a GEO series matrix (``!Sample_title``, ``!Sample_geo_accession``,
``!Sample_source_name_ch1``, ``!Sample_characteristics_ch1`` rows, ``!Sample_description``, the
``ID_REF`` table) and a family SOFT file with the platform table, as GEO serves them:

- ``write_label_cohort``: the general form: the trait written as ``case_label`` / ``control_label`` in
  ``field`` (``title``, ``source_name_ch1``, ``description`` or ``characteristics`` under
  ``label_key``), optionally next to a decoy ``smoking status: yes/no`` row;
- ``write_title_only_cohort``: the trait only in the titles, and a decoy status row the rules take
  for the trait (so they silently read smoking as the trait);
- ``write_abbreviation_cohort``: ``diagnosis: AD`` / ``diagnosis: control`` for Alzheimer's disease;
- ``write_synonym_cohort``: ``non-insulin-dependent diabetes mellitus`` for type 2 diabetes, in the
  source names (the rules read "non-" as a control word);
- ``write_mixed_keys_cohort``: characteristics lined up by position, so one row mixes
  ``treatment``, ``disease state``, ``age`` and ``gender`` cells;
- ``write_platform_cohort``: a platform whose symbols sit in another column (``layout``:
  ``affy_st`` -> ``gene_assignment``, ``agilent`` -> ``GENE_SYMBOL``, ``illumina`` -> ``Symbol``,
  ``affy3`` -> ``Gene Symbol``);
- ``write_platform_family``: N cohorts of one platform and one layout (for code reuse);
- ``write_two_step_problem``: a GenoTEX problem (input layout ``GEO/<Trait>/<GSE>/``,
  ``metadata/task_info.json``, a gene_info file) whose condition is another trait, with planted
  trait genes and instrument genes, returned as a ``SyntheticProblem``.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

GENES = tuple(f"GENE{i}" for i in range(1, 61))
PLANTED = ("GENE1", "GENE2", "GENE3")


def write_gene_info(path: str | Path, genes: list[tuple[str, str]] | None = None) -> Path:
    """A minimal NCBI ``gene_info.gz``: (symbol, "alias1|alias2" or "-") per gene, tax 9606."""
    genes = genes if genes is not None else [(g, f"OLD{g}" if g in PLANTED else "-") for g in GENES]
    lines = ["#tax_id\tGeneID\tSymbol\tLocusTag\tSynonyms\tdbXrefs\tchromosome"]
    lines += [f"9606\t{i}\t{sym}\t-\t{syn}\t-\t1" for i, (sym, syn) in enumerate(genes, 1)]
    path = Path(path)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def _expression(n_genes: int, trait: np.ndarray, seed: int, shift: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(8.0, 1.0, size=(n_genes, len(trait)))
    values[: len(PLANTED)] += shift * trait  # the first genes follow the trait
    return values


def write_series_matrix(
    folder: str | Path,
    *,
    accession: str = "GSE1",
    n_cases: int = 12,
    n_controls: int = 10,
    seed: int = 0,
    with_table: bool = True,
    probes: bool = True,
) -> Path:
    """``<folder>/<accession>_series_matrix.txt.gz`` (+ ``GPL1_probe2symbol.tsv`` when ``probes``).

    Row 0 mixes keys (``gender:`` mostly, one ``age:`` cell) and spells sex three ways; row 1 has
    ages as ``45y`` and ``age: 50``; row 2 is constant; the trait is in ``disease state``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = n_cases + n_controls
    gsm = [f"GSM{100 + i}" for i in range(n)]
    trait = np.array([1] * n_cases + [0] * n_controls)
    sexes = ["F", "female", "Male", "M"]
    row0 = [f"gender: {sexes[i % 4]}" for i in range(n)]
    row0[-1] = "age: 61"  # GEO lines up characteristics by position: keys can mix within a row
    row1 = [f"age: {30 + i}y" for i in range(n)]
    row1[-1] = "gender: M"
    row2 = ["tissue: colon"] * n
    row3 = ["disease state: colorectal cancer" if t else "disease state: healthy control" for t in trait]
    lines = [
        f'!Series_title\t"Synthetic {accession}"',
        f'!Series_geo_accession\t"{accession}"',
        '!Series_summary\t"Synthetic cohort for tests."',
        '!Series_type\t"Expression profiling by array"',
        '!Series_platform_id\t"GPL1"',
        "",
        "!Sample_title\t" + _q([f"sample {i}" for i in range(n)]),
        "!Sample_geo_accession\t" + _q(gsm),
        "!Sample_source_name_ch1\t" + _q(["colon"] * n),
    ]
    lines += ["!Sample_characteristics_ch1\t" + _q(r) for r in (row0, row1, row2, row3)]
    lines.append("!series_matrix_table_begin")
    if with_table:
        values = _expression(len(GENES), trait, seed)
        ids = [f"{i}_at" for i in range(len(GENES))] if probes else list(GENES)
        lines.append('"ID_REF"\t' + _q(gsm))
        lines += [f'"{pid}"\t' + "\t".join(f"{v:.4f}" for v in row) for pid, row in zip(ids, values)]
    lines.append("!series_matrix_table_end")
    path = folder / f"{accession}_series_matrix.txt.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    if probes:
        table = ["probe_id\tsymbol"] + [f"{i}_at\t{g}" for i, g in enumerate(GENES)]
        (folder / "GPL1_probe2symbol.tsv").write_text("\n".join(table) + "\n")
    return path


def write_xena_cohort(
    folder: str | Path, *, code: str = "SYN", n_tumour: int = 30, n_normal: int = 8, seed: int = 0
) -> Path:
    """A Xena-style folder: ``TCGA.<code>.sampleMap_<code>_clinicalMatrix`` and the PANCAN matrix."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    samples = [f"TCGA-AA-{i:04d}-01" for i in range(n_tumour)] + [
        f"TCGA-AA-{i:04d}-11" for i in range(n_normal)
    ]
    trait = np.array([1] * n_tumour + [0] * n_normal)
    values = _expression(len(GENES), trait, seed)
    expr = ["sample\t" + "\t".join(samples)]
    expr += [f"{g}\t" + "\t".join(f"{v:.4f}" for v in row) for g, row in zip(GENES, values)]
    (folder / f"TCGA.{code}.sampleMap_HiSeqV2_PANCAN.gz").write_bytes(gzip.compress("\n".join(expr).encode()))
    clin = ["sampleID\t_PATIENT\tage_at_initial_pathologic_diagnosis\tgender\tdays_to_birth"]
    clin += [
        f"{s}\t{s[:12]}\t{40 + i % 30}\t{'FEMALE' if i % 2 else 'MALE'}\t{-(40 + i % 30) * 365}"
        for i, s in enumerate(samples)
    ]
    clin.append("TCGA-AA-9999-01\tTCGA-AA-9999\t70\tMALE\t-25550")  # clinical-only sample
    (folder / f"TCGA.{code}.sampleMap_{code}_clinicalMatrix").write_text("\n".join(clin) + "\n")
    return folder


# --- cohorts where the first rule fails ---------------------------------------------------------

LAYOUTS = {
    # layout: (gene column, probe ID format, other columns)
    "affy3": ("Gene Symbol", "{i}_at", ("GB_ACC", "SPOT_ID", "Gene Title", "ENTREZ_GENE_ID")),
    "affy_st": (
        "gene_assignment",
        "79{i:05d}",
        ("RANGE_STRAND", "total_probes", "mrna_assignment", "category"),
    ),
    "agilent": (
        "GENE_SYMBOL",
        "A_23_P{i}",
        ("SPOT_ID", "CONTROL_TYPE", "REFSEQ", "GB_ACC", "GENE", "GENE_NAME"),
    ),
    "illumina": (
        "Symbol",
        "ILMN_{i:07d}",
        ("Species", "Source", "Transcript", "Entrez_Gene_ID", "Definition"),
    ),
}


@dataclass(frozen=True)
class SyntheticCohort:
    """Paths and ground truth of one synthetic GEO cohort.

    ``cases``/``controls``: GSM IDs; ``planted``: genes that shift with the trait; ``trait_field``:
    where the trait is written (``title``, ``source_name_ch1``, ``description``, ``characteristics``
    or ``mixed`` when its row differs between samples); ``trait_row``: its characteristics row index
    when one row holds it for every sample, else None; ``gene_column``: the annotation column with the
    gene symbols; ``clinical``: true ``Age``/``Gender`` per sample (female 0, male 1).
    """

    scenario: str
    folder: Path
    matrix: Path
    annotation: Path
    accession: str
    platform: str
    trait: str
    samples: tuple[str, ...]
    cases: tuple[str, ...]
    controls: tuple[str, ...]
    planted: tuple[str, ...]
    genes: tuple[str, ...]
    trait_field: str
    trait_row: int | None
    case_label: str
    control_label: str
    gene_column: str
    layout: str
    clinical: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def labels(self) -> dict[str, float]:
        """``{GSM: 1.0 case / 0.0 control}``."""
        return {s: 1.0 if s in self.cases else 0.0 for s in self.samples}


def _q(cells: list[str]) -> str:
    return "\t".join(f'"{c}"' for c in cells)


def _write_geo(
    folder: Path,
    *,
    accession: str,
    platform: str,
    gsm: list[str],
    fields: dict[str, list[str]],
    characteristics: list[list[str]],
    probe_ids: list[str],
    values: np.ndarray,
    annotation: list[dict[str, str]],
    summary: str,
    design: str,
) -> tuple[Path, Path]:
    """``<accession>_series_matrix.txt.gz`` and ``<accession>_family.soft.gz`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f'!Series_title\t"{summary.split(".")[0]}"',
        f'!Series_geo_accession\t"{accession}"',
        f'!Series_summary\t"{summary}"',
        f'!Series_overall_design\t"{design}"',
        '!Series_type\t"Expression profiling by array"',
        f'!Series_platform_id\t"{platform}"',
        "",
        "!Sample_title\t" + _q(fields["title"]),
        "!Sample_geo_accession\t" + _q(gsm),
        "!Sample_status\t" + _q(["Public on Jan 01 2020"] * len(gsm)),
        "!Sample_source_name_ch1\t" + _q(fields["source_name_ch1"]),
        "!Sample_organism_ch1\t" + _q(["Homo sapiens"] * len(gsm)),
    ]
    lines += ["!Sample_characteristics_ch1\t" + _q(row) for row in characteristics]
    lines += [
        "!Sample_molecule_ch1\t" + _q(["total RNA"] * len(gsm)),
        "!Sample_description\t" + _q(fields["description"]),
        "!Sample_platform_id\t" + _q([platform] * len(gsm)),
        "!series_matrix_table_begin",
        '"ID_REF"\t' + _q(gsm),
    ]
    lines += [f'"{pid}"\t' + "\t".join(f"{v:.4f}" for v in row) for pid, row in zip(probe_ids, values)]
    lines.append("!series_matrix_table_end")
    matrix = folder / f"{accession}_series_matrix.txt.gz"
    matrix.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))

    columns = list(annotation[0])
    soft = [
        "^DATABASE = GeoMiame",
        "!Database_name = Gene Expression Omnibus (GEO)",
        f"^SERIES = {accession}",
        f"!Series_title = {summary.split('.')[0]}",
        f"!Series_geo_accession = {accession}",
        f"^PLATFORM = {platform}",
        f"!Platform_title = Synthetic array {platform}",
        f"!Platform_geo_accession = {platform}",
        "!Platform_organism = Homo sapiens",
    ]
    soft += [f"#{c} = " for c in columns]
    soft += ["!platform_table_begin", "\t".join(columns)]
    soft += ["\t".join(row[c] for c in columns) for row in annotation]
    soft.append("!platform_table_end")
    for j, sample in enumerate(gsm):
        soft += [
            f"^SAMPLE = {sample}",
            f"!Sample_title = {fields['title'][j]}",
            "!sample_table_begin",
            "ID_REF\tVALUE",
        ]
        soft += [f"{pid}\t{values[i, j]:.4f}" for i, pid in enumerate(probe_ids)]
        soft.append("!sample_table_end")
    family = folder / f"{accession}_family.soft.gz"
    family.write_bytes(gzip.compress(("\n".join(soft) + "\n").encode(), mtime=0))
    return matrix, family


def _platform(layout: str, genes: tuple[str, ...]) -> tuple[list[str], list[dict[str, str]], str]:
    """Probe IDs (genes first, then two control probes without a symbol) and the annotation rows."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    gene_col, id_format, others = LAYOUTS[layout]
    ids = [id_format.format(i=1000 + k) for k in range(len(genes) + 2)]
    rows = []
    for k, pid in enumerate(ids):
        gene = genes[k] if k < len(genes) else None
        row = {"ID": pid}
        for col in others:
            row[col] = (
                str(7000 + k)
                if col in ("GENE", "ENTREZ_GENE_ID", "Entrez_Gene_ID")
                else f"NM_{100000 + k}"
                if col in ("GB_ACC", "REFSEQ", "Transcript")
                else f"{gene or 'control'} transcript, synthetic"
                if col in ("Gene Title", "GENE_NAME", "Definition")
                else "main"
                if col == "category"
                else "Homo sapiens"
                if col == "Species"
                else "FALSE"
                if col == "CONTROL_TYPE"
                else f"NM_{100000 + k} // {gene} // synthetic // chr1 // 100"
                if col == "mrna_assignment" and gene
                else f"chr1:{1000 * k}-{1000 * k + 500}"
                if col in ("SPOT_ID", "RANGE_STRAND")
                else "25"
                if col == "total_probes"
                else "synthetic"
            )
        if gene is None:
            row[gene_col] = "---" if layout.startswith("affy") else ""
        elif layout == "affy_st":
            row[gene_col] = f"NM_{100000 + k} // {gene} // {gene.lower()} protein // 1p{k % 36} // {7000 + k}"
        else:
            row[gene_col] = gene
        rows.append(row)
    return ids, rows, gene_col


def _values(
    genes: tuple[str, ...], trait: np.ndarray, planted: tuple[str, ...], rng, shift: float
) -> np.ndarray:
    values = rng.normal(8.0, 1.0, size=(len(genes) + 2, len(trait)))
    for k, gene in enumerate(genes):
        if gene in planted:
            values[k] += shift * trait
    return values


def _people(n: int, rng) -> tuple[list[float], list[float]]:
    ages = [float(a) for a in rng.integers(25, 80, size=n)]
    sexes = [float(s) for s in rng.integers(0, 2, size=n)]
    return ages, sexes


def write_label_cohort(
    folder: str | Path,
    *,
    trait: str,
    case_label: str,
    control_label: str,
    field: str = "title",
    label_key: str = "disease state",
    accession: str = "GSE9100",
    platform: str = "GPL9100",
    layout: str = "affy3",
    n_cases: int = 12,
    n_controls: int = 10,
    decoy: bool = False,
    tissue: str = "colon mucosa",
    seed: int = 0,
    scenario: str = "label",
) -> SyntheticCohort:
    """A cohort whose trait is written as ``case_label`` / ``control_label`` in one place only:
    ``field`` = ``title`` / ``source_name_ch1`` / ``description`` (the characteristics hold tissue,
    gender, age and, with ``decoy``, a ``smoking status: yes/no`` row unrelated to the trait) or
    ``characteristics`` (a row ``<label_key>: <label>``). Samples are shuffled, so cases and controls
    interleave."""
    if field not in ("title", "source_name_ch1", "description", "characteristics"):
        raise ValueError(
            f"field must be title, source_name_ch1, description or characteristics, not {field!r}"
        )
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    n = n_cases + n_controls
    trait_vec = rng.permutation(np.array([1] * n_cases + [0] * n_controls))
    gsm = [f"GSM{int(accession[3:]) * 100 + i}" for i in range(n)]
    ages, sexes = _people(n, rng)
    labels = [case_label if t else control_label for t in trait_vec]
    fields = {
        "title": [f"{tissue}, donor {i + 1}" for i in range(n)],
        "source_name_ch1": [tissue] * n,
        "description": [f"sample {i + 1}" for i in range(n)],
    }
    if field == "title":
        fields["title"] = [f"{tissue}, {lab} {i + 1}" for i, lab in enumerate(labels)]
    elif field in ("source_name_ch1", "description"):
        fields[field] = [f"{tissue}, {lab}" for lab in labels]
    chars = [
        [f"tissue: {tissue}"] * n,
        [f"gender: {'male' if s else 'female'}" for s in sexes],
        [f"age: {int(a)}" for a in ages],
    ]
    trait_row = None
    if field == "characteristics":
        trait_row = len(chars)
        chars.append([f"{label_key}: {lab}" for lab in labels])
    if decoy:
        smoke = rng.permutation([i % 2 for i in range(n)])
        chars.append([f"smoking status: {'yes' if s else 'no'}" for s in smoke])
    genes = GENES
    ids, annotation, gene_col = _platform(layout, genes)
    values = _values(genes, trait_vec, PLANTED, rng, shift=3.0)
    matrix, family = _write_geo(
        folder,
        accession=accession,
        platform=platform,
        gsm=gsm,
        fields=fields,
        characteristics=chars,
        probe_ids=ids,
        values=values,
        annotation=annotation,
        summary=f"Synthetic {tissue} expression. Cases and controls in {trait.replace('_', ' ')}.",
        design=f"{n_cases} cases and {n_controls} controls.",
    )
    return SyntheticCohort(
        scenario=scenario,
        folder=folder,
        matrix=matrix,
        annotation=family,
        accession=accession,
        platform=platform,
        trait=trait,
        samples=tuple(gsm),
        cases=tuple(g for g, t in zip(gsm, trait_vec) if t),
        controls=tuple(g for g, t in zip(gsm, trait_vec) if not t),
        planted=PLANTED,
        genes=genes,
        trait_field=field,
        trait_row=trait_row,
        case_label=case_label,
        control_label=control_label,
        gene_column=gene_col,
        layout=layout,
        clinical={"Age": tuple(ages), "Gender": tuple(sexes)},
    )


def write_title_only_cohort(
    folder: str | Path,
    *,
    trait: str = "Crohns_Disease",
    case_label: str = "Crohn's disease patient",
    control_label: str = "healthy control",
    field: str = "title",
    decoy: bool = True,
    accession: str = "GSE9101",
    seed: int = 1,
    **kwargs,
) -> SyntheticCohort:
    """The trait only in the titles (or ``field``); no characteristics row names it, and the decoy
    ``smoking status: yes/no`` row reads as case/control to word rules."""
    return write_label_cohort(
        folder,
        trait=trait,
        case_label=case_label,
        control_label=control_label,
        field=field,
        decoy=decoy,
        accession=accession,
        seed=seed,
        tissue=kwargs.pop("tissue", "ileal mucosa"),
        scenario="title_only",
        **kwargs,
    )


def write_abbreviation_cohort(
    folder: str | Path,
    *,
    trait: str = "Alzheimers_Disease",
    case_label: str = "AD",
    control_label: str = "control",
    accession: str = "GSE9102",
    seed: int = 2,
    **kwargs,
) -> SyntheticCohort:
    """The disease written only as its abbreviation, in a ``diagnosis`` characteristics row."""
    return write_label_cohort(
        folder,
        trait=trait,
        case_label=case_label,
        control_label=control_label,
        field="characteristics",
        label_key="diagnosis",
        accession=accession,
        seed=seed,
        tissue=kwargs.pop("tissue", "hippocampus"),
        scenario="abbreviation",
        **kwargs,
    )


def write_synonym_cohort(
    folder: str | Path,
    *,
    trait: str = "Type_2_Diabetes",
    case_label: str = "non-insulin-dependent diabetes mellitus",
    control_label: str = "non-diabetic donor",
    field: str = "source_name_ch1",
    accession: str = "GSE9106",
    seed: int = 6,
    **kwargs,
) -> SyntheticCohort:
    """The disease written only as an ontology synonym, in the source names (``field``)."""
    return write_label_cohort(
        folder,
        trait=trait,
        case_label=case_label,
        control_label=control_label,
        field=field,
        accession=accession,
        seed=seed,
        tissue=kwargs.pop("tissue", "pancreatic islets"),
        scenario="synonym",
        **kwargs,
    )


def write_mixed_keys_cohort(
    folder: str | Path,
    *,
    trait: str = "Asthma",
    accession: str = "GSE9103",
    platform: str = "GPL9103",
    layout: str = "affy3",
    n_cases: int = 12,
    n_controls: int = 10,
    seed: int = 3,
) -> SyntheticCohort:
    """Characteristics lined up by position, as GEO does when samples list different fields: about
    half the samples have a ``treatment`` field first, which shifts their ``disease state``, ``age``
    and ``gender`` one row down, so rows 1-3 each mix two keys."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    n = n_cases + n_controls
    trait_vec = rng.permutation(np.array([1] * n_cases + [0] * n_controls))
    treated = rng.permutation([i % 2 for i in range(n)])
    gsm = [f"GSM{int(accession[3:]) * 100 + i}" for i in range(n)]
    ages, sexes = _people(n, rng)
    name = trait.replace("_", " ").lower()
    per_sample = []
    for j in range(n):
        cells = ["tissue: bronchial epithelium"]
        if treated[j]:
            cells.append(f"treatment: {'inhaled corticosteroid' if j % 3 else 'none'}")
        cells += [
            f"disease state: {name if trait_vec[j] else 'healthy'}",
            f"age: {int(ages[j])}",
            f"gender: {'male' if sexes[j] else 'female'}",
        ]
        per_sample.append(cells)
    depth = max(len(c) for c in per_sample)
    chars = [[cells[r] if r < len(cells) else "" for cells in per_sample] for r in range(depth)]
    fields = {
        "title": [f"epithelium donor {i + 1}" for i in range(n)],
        "source_name_ch1": ["bronchial brushing"] * n,
        "description": [""] * n,
    }
    ids, annotation, gene_col = _platform(layout, GENES)
    values = _values(GENES, trait_vec, PLANTED, rng, shift=3.0)
    matrix, family = _write_geo(
        folder,
        accession=accession,
        platform=platform,
        gsm=gsm,
        fields=fields,
        characteristics=chars,
        probe_ids=ids,
        values=values,
        annotation=annotation,
        summary=f"Synthetic bronchial epithelium in {name}. Some donors were treated.",
        design=f"{n_cases} patients and {n_controls} healthy donors.",
    )
    return SyntheticCohort(
        scenario="mixed_keys",
        folder=folder,
        matrix=matrix,
        annotation=family,
        accession=accession,
        platform=platform,
        trait=trait,
        samples=tuple(gsm),
        cases=tuple(g for g, t in zip(gsm, trait_vec) if t),
        controls=tuple(g for g, t in zip(gsm, trait_vec) if not t),
        planted=PLANTED,
        genes=GENES,
        trait_field="mixed",
        trait_row=None,
        case_label=name,
        control_label="healthy",
        gene_column=gene_col,
        layout=layout,
        clinical={"Age": tuple(ages), "Gender": tuple(sexes)},
    )


def write_platform_cohort(
    folder: str | Path,
    *,
    layout: str = "affy_st",
    trait: str = "Psoriasis",
    accession: str = "GSE9104",
    platform: str = "GPL9104",
    n_cases: int = 12,
    n_controls: int = 10,
    seed: int = 4,
) -> SyntheticCohort:
    """A cohort whose platform keeps the symbols in another column than ``Gene Symbol`` (see
    ``LAYOUTS``); the trait is in a ``disease state`` row the rules read."""
    return write_label_cohort(
        folder,
        trait=trait,
        case_label=trait.replace("_", " ").lower(),
        control_label="healthy control",
        field="characteristics",
        accession=accession,
        platform=platform,
        layout=layout,
        n_cases=n_cases,
        n_controls=n_controls,
        seed=seed,
        tissue="skin",
        scenario=f"platform_{layout}",
    )


def write_platform_family(
    root: str | Path,
    n: int = 4,
    *,
    layout: str = "agilent",
    platform: str = "GPL9105",
    trait: str = "Psoriasis",
    first_accession: int = 9201,
    seed: int = 10,
) -> list[SyntheticCohort]:
    """``n`` cohorts of one platform and annotation layout under ``root/GSE<k>/``, alike in structure
    (same rows, same wording) and different in size and values."""
    out = []
    for k in range(n):
        accession = f"GSE{first_accession + k}"
        out.append(
            write_label_cohort(
                Path(root) / accession,
                trait=trait,
                case_label=trait.replace("_", " ").lower(),
                control_label="healthy control",
                field="characteristics",
                accession=accession,
                platform=platform,
                layout=layout,
                n_cases=10 + 2 * k,
                n_controls=8 + k,
                seed=seed + k,
                tissue="skin",
                scenario="platform_family",
            )
        )
    return out


@dataclass(frozen=True)
class SyntheticProblem:
    """A GenoTEX-style problem on disk: ``root/GEO/<Trait>/<GSE>/`` cohorts, ``task_info`` (the
    ``metadata/task_info.json``) and ``gene_info`` (NCBI format covering every gene).

    Known answer: with ``condition`` controlled for by two-step regression, the trait genes are
    ``planted``; ``instruments`` are the condition's known genes measured in both cohorts (what
    instrument selection must return: the ones in ``follows_condition`` plus one known gene that does
    not move); ``confounder`` follows the condition only and is known for neither trait; the pair
    chosen by sample-size product is (``trait_cohorts[0]``, ``condition_cohorts[0]``).
    """

    root: Path
    task_info: Path
    gene_info: Path
    trait: str
    condition: str
    trait_cohorts: tuple[SyntheticCohort, ...]
    condition_cohorts: tuple[SyntheticCohort, ...]
    planted: tuple[str, ...]
    instruments: tuple[str, ...]
    follows_condition: tuple[str, ...]
    confounder: str
    related: dict[str, tuple[str, ...]]


def write_two_step_problem(
    root: str | Path,
    *,
    trait: str = "Type_2_Diabetes",
    condition: str = "Obesity",
    seed: int = 20,
) -> SyntheticProblem:
    """Two trait cohorts (60 and 30 samples) and one condition cohort (50 samples) in the GenoTEX input
    layout. In the trait cohorts each sample has a hidden condition state c; the trait is likelier with
    c (80% vs 20%); the planted genes follow the trait, the instrument genes and the confounder follow
    c. In the condition cohort the instruments (and the confounder) follow the condition."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    confounder = "GENE45"
    cond_genes = ("GENE41", "GENE42", "GENE43", "GENE44", confounder)
    instruments = ("GENE41", "GENE42", "GENE43", "GENE44", "GENE50")
    related = {
        trait: ("GENE1", "GENE2", "GENE3", "GENE10"),
        condition: (*instruments, "NOTMEASURED1"),
    }

    def cohort(folder: Path, name: str, accession: str, n: int, *, is_condition: bool) -> SyntheticCohort:
        c = rng.permutation(np.array([1] * (n // 2) + [0] * (n - n // 2)))
        y = c if is_condition else (rng.random(n) < np.where(c == 1, 0.8, 0.2)).astype(int)
        if not is_condition and len(set(y)) < 2:
            y[0], y[1] = 1, 0
        gsm = [f"GSM{int(accession[3:]) * 100 + i}" for i in range(n)]
        ages, sexes = _people(n, rng)
        label = name.replace("_", " ").lower()
        chars = [
            ["tissue: adipose"] * n,
            [f"gender: {'male' if s else 'female'}" for s in sexes],
            [f"age: {int(a)}" for a in ages],
            [f"disease state: {label if t else 'healthy control'}" for t in y],
        ]
        fields = {
            "title": [f"donor {i + 1}" for i in range(n)],
            "source_name_ch1": ["adipose tissue"] * n,
            "description": [""] * n,
        }
        ids, annotation, gene_col = _platform("affy3", GENES)
        values = rng.normal(8.0, 1.0, size=(len(GENES) + 2, n))
        for k, gene in enumerate(GENES):
            if gene in cond_genes:
                values[k] += 2.5 * c
            if gene in PLANTED and not is_condition:
                values[k] += 2.0 * y
        matrix, family = _write_geo(
            folder,
            accession=accession,
            platform="GPL9300",
            gsm=gsm,
            fields=fields,
            characteristics=chars,
            probe_ids=ids,
            values=values,
            annotation=annotation,
            summary=f"Synthetic adipose tissue in {label}. Two-step test data.",
            design=f"{n} donors.",
        )
        return SyntheticCohort(
            scenario="two_step",
            folder=folder,
            matrix=matrix,
            annotation=family,
            accession=accession,
            platform="GPL9300",
            trait=name,
            samples=tuple(gsm),
            cases=tuple(g for g, t in zip(gsm, y) if t),
            controls=tuple(g for g, t in zip(gsm, y) if not t),
            planted=() if is_condition else PLANTED,
            genes=GENES,
            trait_field="characteristics",
            trait_row=3,
            case_label=label,
            control_label="healthy control",
            gene_column=gene_col,
            layout="affy3",
            clinical={"Age": tuple(ages), "Gender": tuple(sexes)},
        )

    geo = root / "GEO"
    trait_cohorts = (
        cohort(geo / trait / "GSE9301", trait, "GSE9301", 60, is_condition=False),
        cohort(geo / trait / "GSE9302", trait, "GSE9302", 30, is_condition=False),
    )
    condition_cohorts = (cohort(geo / condition / "GSE9311", condition, "GSE9311", 50, is_condition=True),)
    meta = root / "metadata"
    meta.mkdir(parents=True, exist_ok=True)
    task_info = meta / "task_info.json"
    task_info.write_text(
        json.dumps(
            {
                condition: {"related_genes": list(related[condition]), "conditions": ["Age", "Gender"]},
                trait: {"related_genes": list(related[trait]), "conditions": ["Age", "Gender", condition]},
            },
            indent=2,
        )
    )
    gene_info = write_gene_info(meta / "Homo_sapiens.gene_info.gz")
    return SyntheticProblem(
        root=root,
        task_info=task_info,
        gene_info=gene_info,
        trait=trait,
        condition=condition,
        trait_cohorts=trait_cohorts,
        condition_cohorts=condition_cohorts,
        planted=PLANTED,
        instruments=instruments,
        follows_condition=cond_genes,
        confounder=confounder,
        related=related,
    )
