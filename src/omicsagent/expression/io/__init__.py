"""Readers for GEO and TCGA (UCSC Xena) files. Gzip transparent; user mistakes raise InputError."""

from __future__ import annotations

from omicsagent.expression.io.geo import (
    GdsSoft,
    SeriesMatrix,
    read_gds_soft,
    read_platform_table,
    read_probe_table,
    read_series_matrix,
)
from omicsagent.expression.io.tcga import XenaFiles, find_xena_files, read_xena_clinical, read_xena_expression

__all__ = [
    "GdsSoft",
    "SeriesMatrix",
    "XenaFiles",
    "find_xena_files",
    "read_gds_soft",
    "read_platform_table",
    "read_probe_table",
    "read_series_matrix",
    "read_xena_clinical",
    "read_xena_expression",
]
