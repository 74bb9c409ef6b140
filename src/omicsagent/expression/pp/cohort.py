"""Linking, missing values, bias judgement, the cohort record and the GenoTEX output layout."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.permissions import make_normal

COVARIATES = ("Age", "Gender")


def _numeric_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One float block (wide frames built by concat/join otherwise have thousands of blocks)."""
    return pd.DataFrame(frame.to_numpy(dtype=float), index=frame.index, columns=frame.columns)


def link_geo(clinical_rows: pd.DataFrame, genes: pd.DataFrame) -> pd.DataFrame:
    """Clinical rows stacked on gene rows, transposed: samples x [trait, Age?, Gender?, genes] (outer)."""
    return _numeric_frame(pd.concat([clinical_rows, genes], axis=0).T)


def link_tcga(clinical: pd.DataFrame, genes: pd.DataFrame) -> pd.DataFrame:
    """Inner join of samples x clinical features with the transposed gene table."""
    return _numeric_frame(clinical.join(genes.T, how="inner"))


def handle_missing_values(
    df: pd.DataFrame, trait: str, *, max_gene_missing: float = 0.2, max_sample_missing: float = 0.05
) -> pd.DataFrame:
    """Drop samples without trait, genes with more than ``max_gene_missing`` NaN (20%), samples with more
    than ``max_sample_missing`` NaN genes (5%); then impute (mean / mode)."""
    df = df.dropna(subset=[trait])
    clin_cols = [c for c in df.columns if c in (trait, *COVARIATES)]
    gene_cols = [c for c in df.columns if c not in (trait, *COVARIATES)]
    genes = df[gene_cols].to_numpy(dtype=float)
    keep_genes = (
        np.isnan(genes).mean(axis=0) <= max_gene_missing if len(df) else np.zeros(len(gene_cols), bool)
    )
    genes = genes[:, keep_genes]
    gene_cols = [c for c, k in zip(gene_cols, keep_genes) if k]
    keep_rows = (
        np.isnan(genes).mean(axis=1) <= max_sample_missing if genes.shape[1] else np.ones(len(df), bool)
    )
    genes, clin = genes[keep_rows], df[clin_cols][keep_rows].copy()
    if "Age" in clin.columns:
        clin["Age"] = clin["Age"].fillna(clin["Age"].mean())
    if "Gender" in clin.columns:
        mode = clin["Gender"].mode()
        if len(mode):
            clin["Gender"] = clin["Gender"].fillna(mode.iloc[0])
        else:
            clin = clin.drop(columns="Gender")
    if genes.size:
        genes = np.where(np.isnan(genes), _nanmean_columns(genes), genes)
    out = pd.DataFrame(genes, index=clin.index, columns=gene_cols)
    return _numeric_frame(pd.concat([clin, out], axis=1)) if len(clin.columns) else out


def _nanmean_columns(values: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN; an all-NaN column stays NaN (as pandas ``mean`` gives)."""
    count = (~np.isnan(values)).sum(axis=0)
    total = np.nansum(values, axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


@dataclass(frozen=True)
class BiasJudgement:
    trait_biased: bool
    reason: str
    dropped: tuple[str, ...]


def binary_biased(values: pd.Series, *, min_share: float = 0.1, min_count: int = 5) -> tuple[bool, str]:
    counts = values.value_counts()
    if len(counts) < 2:
        return True, f"only one value ({counts.index[0] if len(counts) else 'none'})"
    rare, n = counts.idxmin(), int(counts.min())
    share = n / len(values)
    biased = share < min_share and n < min_count
    return biased, f"least common value {rare:g} in {n} of {len(values)} samples ({share:.0%})"


def continuous_biased(values: pd.Series) -> tuple[bool, str]:
    lo, hi = values.min(), values.max()
    return bool(lo == hi), f"range {lo:g} to {hi:g}"


def judge_bias(df: pd.DataFrame, trait: str) -> tuple[BiasJudgement, pd.DataFrame]:
    """Binary iff exactly two distinct values. A biased trait makes the cohort unusable; a biased Age
    or Gender is dropped."""
    if df.empty:
        return BiasJudgement(True, "no samples left", ()), df
    values = df[trait]
    n_values = values.nunique()
    kind = "binary" if n_values == 2 else "constant" if n_values < 2 else "continuous"
    biased, detail = binary_biased(values) if kind == "binary" else continuous_biased(values)
    if kind == "constant":
        detail = f"every one of the {len(values)} samples has the value {values.iloc[0]:g}"
    reason = f"trait {trait} ({kind}): {detail}"
    dropped = []
    for col, judge in (("Age", continuous_biased), ("Gender", binary_biased)):
        if col in df.columns and judge(df[col])[0]:
            dropped.append(col)
    return BiasJudgement(bool(biased), reason, tuple(dropped)), df.drop(columns=dropped)


@dataclass
class CohortRecord:
    """One entry of ``cohort_info.json`` (GenoTEX fields; ``note`` says why when unusable)."""

    is_usable: bool
    is_gene_available: bool | None
    is_trait_available: bool | None
    is_available: bool
    is_biased: bool | None
    has_age: bool | None
    has_gender: bool | None
    sample_size: int | None
    note: str | None
    warnings: list[str] = field(default_factory=list)  # doubts that do not change usability

    @classmethod
    def initial_failure(cls, *, gene: bool, trait: bool, note: str) -> CohortRecord:
        return cls(False, gene, trait, False, None, None, None, None, note)

    @classmethod
    def final(cls, df: pd.DataFrame, *, gene: bool, trait: bool, biased: bool, note: str) -> CohortRecord:
        if len(df) == 0 or len(df.columns) <= 4:
            gene = False
            trait = trait and len(df) > 0
        available = gene and trait
        return cls(
            is_usable=available and not biased,
            is_gene_available=gene,
            is_trait_available=trait,
            is_available=available,
            is_biased=biased if available else None,
            has_age=("Age" in df.columns) if available else None,
            has_gender=("Gender" in df.columns) if available else None,
            sample_size=len(df) if available else None,
            note=note,
        )

    def to_dict(self) -> dict:
        return asdict(self)


def write_json_atomic(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    make_normal(Path(tmp))  # mkstemp makes it 0600; results are readable like any new file
    os.replace(tmp, path)


def save_cohort_record(info_path: Path, cohort_id: str, record: CohortRecord) -> None:
    """Merge ``record`` into ``cohort_info.json`` (other cohorts' entries are kept)."""
    records = json.loads(info_path.read_text()) if info_path.is_file() else {}
    records[cohort_id] = record.to_dict()
    write_json_atomic(info_path, records)


@dataclass(frozen=True)
class TraitLayout:
    """``<root>/<Trait>/``: clinical_data/, gene_data/, <id>.csv (linked), cohort_info.json."""

    trait_dir: Path

    def clinical(self, cohort: str) -> Path:
        return self.trait_dir / "clinical_data" / f"{cohort}.csv"

    def genes(self, cohort: str) -> Path:
        return self.trait_dir / "gene_data" / f"{cohort}.csv"

    def linked(self, cohort: str) -> Path:
        return self.trait_dir / f"{cohort}.csv"

    @property
    def info(self) -> Path:
        return self.trait_dir / "cohort_info.json"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path)
