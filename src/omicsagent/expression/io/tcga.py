"""UCSC Xena TCGA readers: the ``*_clinicalMatrix`` and the ``*_HiSeqV2_PANCAN`` expression matrix."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from omicsagent.errors import InputError
from omicsagent.expression._files import pick_file, read_text


@dataclass(frozen=True)
class XenaFiles:
    clinical: Path
    expression: Path


def find_xena_files(cohort_dir: str | Path, *, reference_compatible: bool = False) -> XenaFiles:
    """The clinical matrix and the PANCAN expression file of a Xena cohort folder."""
    folder = Path(cohort_dir)
    clinical = pick_file(folder, "clinicalmatrix", sort=not reference_compatible)
    expression = pick_file(folder, "pancan", sort=not reference_compatible)
    if clinical is None or expression is None:
        missing = "a *_clinicalMatrix file" if clinical is None else "a *_HiSeqV2_PANCAN(.gz) file"
        raise InputError(f"{folder} lacks {missing}; pass a UCSC Xena TCGA cohort folder.")
    return XenaFiles(clinical=clinical, expression=expression)


def _read_tsv(path: Path) -> pd.DataFrame:
    text = read_text(path)
    if not text.strip():
        raise InputError(f"{path} is empty; download it again.")
    return pd.read_csv(io.StringIO(text), sep="\t", index_col=0, low_memory=False)


def read_xena_expression(path: str | Path) -> pd.DataFrame:
    """Genes (HUGO symbols as given) x samples, float."""
    frame = _read_tsv(Path(path))
    frame.index = frame.index.astype(str)
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def read_xena_clinical(path: str | Path) -> pd.DataFrame:
    """Samples (``sampleID``) x clinical columns, values as read."""
    frame = _read_tsv(Path(path))
    frame.index = frame.index.astype(str)
    return frame
