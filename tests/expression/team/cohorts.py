"""Synthetic GEO/TCGA inputs in the real file formats for the team's tests.

Stand-ins until ``omicsagent.expression.synthetic`` (being extended in parallel) offers cohorts where the
first route fails; the GenoTEX input layout: ``ROOT/GEO/<Trait>/<GSE>/``, ``ROOT/TCGA/<cohort>/``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from omicsagent.expression import synthetic

GENES = synthetic.GENES
PLANTED = synthetic.PLANTED


def _q(cells: list[str]) -> str:
    return "\t".join(f'"{c}"' for c in cells)


def write_geo(
    folder: Path,
    *,
    accession: str,
    trait: np.ndarray,
    rows: list[list[str]],
    titles: list[str] | None = None,
    sources: list[str] | None = None,
    seed: int = 0,
    shift: float = 3.0,
    linear: bool = False,
    planted: tuple[str, ...] = PLANTED,
    genes: tuple[str, ...] = GENES,
    nan_genes: dict[str, float] | None = None,
) -> Path:
    """A series matrix with probe IDs (``<i>_at``) and a GPL probe -> symbol table.

    ``rows`` are the characteristics lines; genes in ``planted`` shift with ``trait``; ``linear`` stores
    2**value (MAS5-like intensities); ``nan_genes`` blanks that share of samples for those genes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n = len(trait)
    gsm = [f"GSM{seed * 1000 + 100 + i}" for i in range(n)]
    rng = np.random.default_rng(seed)
    values = rng.normal(8.0, 1.0, size=(len(genes), n))
    for i, g in enumerate(genes):
        if g in planted:
            values[i] += shift * trait
    if linear:
        values = 2.0 ** values
    text_values = [[f"{v:.4f}" for v in row] for row in values]
    for g, share in (nan_genes or {}).items():
        i = genes.index(g)
        for j in range(round(share * n)):
            text_values[i][j] = ""
    lines = [
        f'!Series_title\t"Synthetic {accession}"',
        f'!Series_geo_accession\t"{accession}"',
        '!Series_summary\t"Synthetic cohort for the expression team tests."',
        '!Series_type\t"Expression profiling by array"',
        '!Series_platform_id\t"GPL1"',
        "",
        "!Sample_title\t" + _q(titles or [f"sample {i}" for i in range(n)]),
        "!Sample_geo_accession\t" + _q(gsm),
        "!Sample_source_name_ch1\t" + _q(sources or ["tissue"] * n),
    ]
    lines += ["!Sample_characteristics_ch1\t" + _q(r) for r in rows]
    lines.append("!series_matrix_table_begin")
    lines.append('"ID_REF"\t' + _q(gsm))
    lines += [f'"{i}_at"\t' + "\t".join(row) for i, row in enumerate(text_values)]
    lines.append("!series_matrix_table_end")
    path = folder / f"{accession}_series_matrix.txt.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    table = ["probe_id\tsymbol"] + [f"{i}_at\t{g}" for i, g in enumerate(genes)]
    (folder / "GPL1_probe2symbol.tsv").write_text("\n".join(table) + "\n")
    return path


def labels(n_cases: int, n_controls: int) -> np.ndarray:
    return np.array([1] * n_cases + [0] * n_controls)


def demographic_rows(n: int, seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed + 7)
    return [[f"gender: {'F' if rng.random() < 0.5 else 'M'}" for _ in range(n)],
            [f"age: {int(rng.integers(30, 80))}" for _ in range(n)]]


def geo_plain(folder: Path, accession: str, *, trait_name: str = "colorectal cancer", n_cases: int = 12,
              n_controls: int = 10, seed: int = 0, **kw) -> Path:
    """The trait in a characteristics row, as GenoTEX expects."""
    t = labels(n_cases, n_controls)
    rows = demographic_rows(len(t), seed) + [
        [f"disease state: {trait_name}" if v else "disease state: healthy control" for v in t]]
    return write_geo(folder, accession=accession, trait=t, rows=rows, seed=seed, **kw)


def geo_title_only(
    folder: Path,
    accession: str,
    *,
    case_label: str = "Crohn's disease patient",
    control_label: str = "healthy control",
    decoy: bool = True,
    seed: int = 0,
    n_cases: int = 12,
    n_controls: int = 10,
) -> Path:
    """No characteristics row names the trait: it is only in the sample titles. With ``decoy``, a
    ``smoking status: yes/no`` row reads as case/control to word rules."""
    t = labels(n_cases, n_controls)
    rows = demographic_rows(len(t), seed) + [["tissue: ileal mucosa"] * len(t)]
    if decoy:
        rows.append([f"smoking status: {'yes' if i % 3 == 0 else 'no'}" for i in range(len(t))])
    titles = [f"{case_label if v else control_label} {i}" for i, v in enumerate(t)]
    return write_geo(folder, accession=accession, trait=t, rows=rows, titles=titles, seed=seed)


def geo_abbreviation(folder: Path, accession: str, *, abbreviation: str = "RCC", seed: int = 0,
                     n_cases: int = 12, n_controls: int = 10) -> Path:
    """The disease only as an abbreviation (``diagnosis: RCC`` vs ``diagnosis: healthy control``)."""
    t = labels(n_cases, n_controls)
    rows = demographic_rows(len(t), seed) + [
        [f"diagnosis: {abbreviation}" if v else "diagnosis: healthy control" for v in t]]
    return write_geo(folder, accession=accession, trait=t, rows=rows, seed=seed)


def task_info(path: Path, tasks: dict[str, dict]) -> Path:
    path.write_text(json.dumps(tasks, indent=1))
    return path


def same_up_to_rounding(a, b, *, rel: float = 1e-9) -> bool:
    """Two JSON results are the same: equal structure, strings and order, and numbers equal up to ``rel``
    (relative). The team's sandboxed script and `expr analyze` run the same analysis function on the same
    files, yet on some machines (an AMD EPYC one here) their coefficients differ in the last bits, about
    1e-14 relative, while the gene lists agree."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_up_to_rounding(a[k], b[k], rel=rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_up_to_rounding(x, y, rel=rel) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and abs(a - b) <= rel * max(abs(a), abs(b), 1e-300))
    return a == b
