"""Preprocess one cohort folder (GEO series or Xena TCGA) into the GenoTEX layout under ``<out>/<Trait>/``.

Every outcome ends in a cohort record: a cohort that cannot be used (unreadable file, no table, trait
not found or constant) is recorded with the reason in ``note`` instead of raising.
"""

from __future__ import annotations

from pathlib import Path

from omicsagent.errors import InputError
from omicsagent.expression._files import list_files, normalize_trait_name
from omicsagent.expression.pipeline.common import PreprocessOptions, PreprocessResult, Progress
from omicsagent.expression.pipeline.geo import preprocess_geo
from omicsagent.expression.pipeline.tcga import preprocess_tcga
from omicsagent.expression.pp.cohort import TraitLayout
from omicsagent.expression.pp.symbols import AliasTable

__all__ = ["PreprocessOptions", "PreprocessResult", "detect_kind", "preprocess_cohort"]


def detect_kind(cohort_dir: Path) -> str:
    """``TCGA`` for a Xena folder (a clinicalMatrix file), ``GEO`` for a series folder."""
    names = [n.lower() for n in list_files(cohort_dir)]
    if any("clinicalmatrix" in n for n in names):
        return "TCGA"
    if any("matrix" in n or (n.startswith("gds") and "soft" in n) for n in names):
        return "GEO"
    raise InputError(
        f"{cohort_dir} holds neither a GEO series matrix nor Xena TCGA files; pass a cohort "
        "folder such as GSE4107/ or TCGA_Bile_Duct_Cancer_(CHOL)/."
    )


def preprocess_cohort(
    cohort_dir: str | Path,
    *,
    trait: str,
    out_dir: str | Path,
    aliases: AliasTable,
    options: PreprocessOptions | None = None,
    progress: Progress | None = None,
) -> PreprocessResult:
    """Write ``<out_dir>/<Trait>/`` files for one cohort and return what was found and decided."""
    folder = Path(cohort_dir)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; pass the cohort folder (e.g. .../GSE4107).")
    folder = folder.resolve()  # its real name, also when given as "." or "GSE1/.."
    options = options or PreprocessOptions()
    trait = normalize_trait_name(trait)
    layout = TraitLayout(Path(out_dir) / trait)
    run = preprocess_tcga if detect_kind(folder) == "TCGA" else preprocess_geo
    return run(folder, trait, layout, aliases, options, progress or (lambda _m: None))
