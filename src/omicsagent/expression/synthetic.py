"""Small synthetic cohorts in the real file formats, for tests and examples (public, like scanpy's
``datasets``). Planted genes shift with the trait, so analyses have something to find."""

from __future__ import annotations

import gzip
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
    q = lambda cells: "\t".join(f'"{c}"' for c in cells)  # noqa: E731
    lines = [
        f'!Series_title\t"Synthetic {accession}"',
        f'!Series_geo_accession\t"{accession}"',
        '!Series_summary\t"Synthetic cohort for tests."',
        '!Series_type\t"Expression profiling by array"',
        '!Series_platform_id\t"GPL1"',
        "",
        "!Sample_title\t" + q([f"sample {i}" for i in range(n)]),
        "!Sample_geo_accession\t" + q(gsm),
        "!Sample_source_name_ch1\t" + q(["colon"] * n),
    ]
    lines += ["!Sample_characteristics_ch1\t" + q(r) for r in (row0, row1, row2, row3)]
    lines.append("!series_matrix_table_begin")
    if with_table:
        values = _expression(len(GENES), trait, seed)
        ids = [f"{i}_at" for i in range(len(GENES))] if probes else list(GENES)
        lines.append('"ID_REF"\t' + q(gsm))
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
