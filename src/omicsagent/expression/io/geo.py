"""GEO readers: series matrix, family SOFT platform table, GDS SOFT, plain probe -> symbol tables.

All readers are gzip transparent. Reading never guesses biology: it returns strings and numbers, and
the ``pp`` functions decide what they mean.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.errors import InputError
from omicsagent.expression._files import read_text

BACKGROUND_PREFIXES = ("!Series_title", "!Series_summary", "!Series_overall_design")
# Extra per-sample fields kept next to the characteristics: the trait sometimes lives only here.
SAMPLE_FIELDS = ("title", "source_name_ch1", "description")
TABLE_BEGIN, TABLE_END = "!series_matrix_table_begin", "!series_matrix_table_end"


def _cells(line: str) -> list[str]:
    """Tab-separated cells with one pair of enclosing double quotes removed."""
    out = []
    for cell in line.rstrip("\r\n").split("\t"):
        if len(cell) >= 2 and cell[0] == '"' and cell[-1] == '"':
            cell = cell[1:-1]
        out.append(cell)
    return out


@dataclass
class SeriesMatrix:
    """One GEO series matrix: background text, per-sample clinical text and the expression table."""

    path: Path
    accession: str | None
    background: str
    samples: list[str]
    characteristics: pd.DataFrame  # rows 0..k-1 (the "row keys"), columns GSM IDs, str or NaN
    sample_fields: pd.DataFrame  # rows title / source_name_ch1 / description, columns GSM IDs
    expression: pd.DataFrame  # rows probe (or gene) IDs as str, columns GSM IDs, float
    table_status: str  # "ok", "empty" (header only) or "missing" (no table markers)
    platforms: list[str] = field(default_factory=list)
    series_type: str = ""

    @property
    def has_expression(self) -> bool:
        return self.table_status == "ok"

    def clinical_rows(self) -> pd.DataFrame:
        """Characteristics rows (integer keys) followed by the named sample fields."""
        return pd.concat([self.characteristics, self.sample_fields], axis=0)


def read_series_matrix(path: str | Path, *, reference_compatible: bool = False) -> SeriesMatrix:
    path = Path(path)
    text = read_text(path)
    lines = text.splitlines()
    background: list[str] = []
    samples: list[str] = []
    chars: list[list[str]] = []
    fields: dict[str, list[str]] = {}
    platforms: list[str] = []
    accession: str | None = None
    series_type: list[str] = []
    begin = end = None
    for i, line in enumerate(lines):
        if line.startswith(TABLE_BEGIN):
            begin = i
            break
        if line.startswith(BACKGROUND_PREFIXES):
            background.append(line.strip())
        if line.startswith("!Series_geo_accession"):
            accession = _cells(line)[1] if len(_cells(line)) > 1 else None
        elif line.startswith("!Series_type"):
            series_type.extend(_cells(line)[1:])
        elif line.startswith("!Series_platform_id"):
            platforms.extend(c for c in _cells(line)[1:] if c)
        elif line.startswith("!Sample_geo_accession"):
            samples = _cells(line)[1:]
        elif line.startswith("!Sample_characteristics_ch1"):
            chars.append(_cells(line)[1:])
        else:
            for name in SAMPLE_FIELDS:
                if line.startswith(f"!Sample_{name}\t") and name not in fields:
                    fields[name] = _cells(line)[1:]
    if not samples:
        raise InputError(
            f"{path} has no !Sample_geo_accession line, so it is not a GEO series matrix; "
            "pass the *_series_matrix.txt.gz file."
        )
    n = len(samples)

    def _row(values: list[str]) -> list[object]:
        values = (values + [""] * n)[:n]
        return [v if v != "" else np.nan for v in values]

    characteristics = pd.DataFrame([_row(r) for r in chars], columns=samples, dtype=object)
    sample_fields = pd.DataFrame(
        [_row(v) for v in fields.values()], index=list(fields), columns=samples, dtype=object
    )
    if begin is None:
        expression, status = pd.DataFrame(columns=samples, dtype=float), "missing"
    else:
        for j in range(begin + 1, len(lines)):
            if lines[j].startswith(TABLE_END):
                end = j
                break
        body = lines[begin + 1 : end]  # a truncated plain-text file simply ends early
        expression = _read_table(body, reference_compatible=reference_compatible)
        status = "ok" if len(expression) and expression.shape[1] else "empty"
    return SeriesMatrix(
        path=path,
        accession=accession,
        background="\n".join(background),
        samples=samples,
        characteristics=characteristics,
        sample_fields=sample_fields,
        expression=expression,
        table_status=status,
        platforms=platforms,
        series_type="; ".join(series_type),
    )


def _read_table(body: list[str], *, reference_compatible: bool) -> pd.DataFrame:
    body = [ln for ln in body if ln and not ln.startswith("!")]
    if not body:
        return pd.DataFrame(dtype=float)
    # The reference lets pandas infer the ID type and then casts to str (so "007" becomes "7").
    dtype = None if reference_compatible else {0: str}
    frame = pd.read_csv(
        io.StringIO("\n".join(body)), sep="\t", dtype=dtype, on_bad_lines="skip", low_memory=False
    )
    first = frame.columns[0]
    frame = frame.rename(columns={first: "ID"})
    frame["ID"] = frame["ID"].astype(str)
    frame = frame.set_index("ID")
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def read_platform_table(
    path: str | Path, *, platform: str | None = None, reference_compatible: bool = False
) -> pd.DataFrame:
    """The platform annotation table of a family SOFT (or GPL SOFT) file, all columns as str.

    Default: only the rows between ``!platform_table_begin`` and ``!platform_table_end`` (of
    ``platform`` when given, else of the first platform). Reference mode reproduces GenoTEX: every
    line not starting with ``^``, ``!`` or ``#`` is read, so sample-table rows are appended below.
    """
    path = Path(path)
    text = read_text(path)
    if reference_compatible:
        kept = [ln for ln in text.splitlines() if ln and not ln.startswith(("^", "!", "#"))]
        if not kept:
            raise InputError(f"{path} holds no annotation table; pass a GEO family SOFT or GPL file.")
        frame = pd.read_csv(io.StringIO("\n".join(kept)), sep="\t", on_bad_lines="skip", low_memory=False)
        if "ID" in frame.columns:
            frame["ID"] = frame["ID"].astype(str)
        return frame
    tables: dict[str, list[str]] = {}
    current, inside = None, False
    for line in text.splitlines():
        if line.startswith("^PLATFORM"):
            current = line.split("=", 1)[-1].strip()
        elif line.startswith("!platform_table_begin"):
            inside = True
            tables[current or f"platform{len(tables)}"] = []
        elif line.startswith("!platform_table_end"):
            inside = False
        elif inside:
            tables[current or f"platform{len(tables) - 1}"].append(line)
    if not tables:
        raise InputError(
            f"{path} has no !platform_table_begin section; pass the GEO family SOFT file "
            "or a probe -> symbol table."
        )
    if platform is not None and platform not in tables:
        raise InputError(f"{path} has no table for platform {platform}; it has {', '.join(tables)}.")
    rows = tables[platform] if platform is not None else next(iter(tables.values()))
    frame = pd.read_csv(
        io.StringIO("\n".join(rows)),
        sep="\t",
        dtype=str,
        on_bad_lines="skip",
        keep_default_na=False,
        na_values=[""],
        low_memory=False,
    )
    return frame


def read_probe_table(path: str | Path) -> pd.DataFrame:
    """A plain probe -> symbol table (TSV or CSV, header optional) as columns ``ID`` and ``Gene``."""
    path = Path(path)
    text = read_text(path)
    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first else ","
    frame = pd.read_csv(
        io.StringIO(text),
        sep=sep,
        dtype=str,
        header=None,
        keep_default_na=False,
        na_values=["", "NA", "---"],
        on_bad_lines="skip",
    )
    if frame.shape[1] < 2:
        raise InputError(f"{path} needs two columns (probe ID, gene symbol); it has {frame.shape[1]}.")
    frame = frame.iloc[:, :2]
    frame.columns = ["ID", "Gene"]
    header = [str(v).lower() for v in frame.iloc[0]] if len(frame) else []
    if header and (
        header[0] in {"id", "id_ref", "probe", "probe_id", "probeid", "probe_set_id"}
        or header[1] in {"gene", "symbol", "gene_symbol", "gene symbol", "genesymbol"}
    ):
        frame = frame.iloc[1:]
    return frame.dropna().reset_index(drop=True)


@dataclass
class GdsSoft:
    """A GDS SOFT file: the value table, its probe -> identifier column, and the sample subsets."""

    path: Path
    accession: str | None
    background: str
    expression: pd.DataFrame
    identifiers: pd.DataFrame  # columns ID, Gene
    subsets: pd.DataFrame  # one row per subset type, cells "type: description", columns GSM IDs

    def as_series_matrix(self) -> SeriesMatrix:
        """The same content in series-matrix shape: subset types play the characteristics rows."""
        samples = list(self.expression.columns)
        status = "ok" if len(self.expression) and samples else "empty"
        return SeriesMatrix(
            path=self.path,
            accession=self.accession,
            background=self.background,
            samples=samples,
            characteristics=self.subsets.reset_index(drop=True),
            sample_fields=pd.DataFrame(columns=samples, dtype=object),
            expression=self.expression,
            table_status=status,
        )


def read_gds_soft(path: str | Path) -> GdsSoft:
    path = Path(path)
    lines = read_text(path).splitlines()
    accession, background = None, []
    subsets: list[dict[str, str]] = []
    table: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("^DATASET"):
            accession = line.split("=", 1)[-1].strip()
        elif line.startswith(("!dataset_title", "!dataset_description")):
            background.append(line.split("=", 1)[-1].strip())
        elif line.startswith("^SUBSET"):
            subsets.append({})
        elif subsets and line.startswith("!subset_") and "=" in line:
            key, value = line[1:].split("=", 1)
            subsets[-1][key.strip()] = value.strip()
        elif line.startswith("!dataset_table_begin"):
            inside = True
        elif line.startswith("!dataset_table_end"):
            inside = False
        elif inside:
            table.append(line)
    if not table:
        raise InputError(f"{path} has no !dataset_table_begin section; pass a GDS SOFT file.")
    frame = pd.read_csv(
        io.StringIO("\n".join(table)), sep="\t", dtype={0: str}, on_bad_lines="skip", low_memory=False
    )
    frame = frame.rename(columns={frame.columns[0]: "ID"})
    ident_col = "IDENTIFIER" if "IDENTIFIER" in frame.columns else None
    identifiers = (
        frame[["ID", ident_col]].rename(columns={ident_col: "Gene"}).dropna()
        if ident_col
        else pd.DataFrame(columns=["ID", "Gene"])
    )
    gsm = [c for c in frame.columns if re.fullmatch(r"GSM\d+", str(c))]
    expression = frame.set_index("ID")[gsm].apply(pd.to_numeric, errors="coerce").astype(float)
    by_type: dict[str, dict[str, str]] = {}
    for sub in subsets:
        kind = sub.get("subset_type", "subset")
        for gsm_id in sub.get("subset_sample_id", "").split(","):
            if gsm_id.strip():
                by_type.setdefault(kind, {})[gsm_id.strip()] = f"{kind}: {sub.get('subset_description', '')}"
    rows = pd.DataFrame(
        [[cells.get(s, np.nan) for s in gsm] for cells in by_type.values()], columns=gsm, dtype=object
    )
    return GdsSoft(
        path=path,
        accession=accession,
        background="\n".join(background),
        expression=expression,
        identifiers=identifiers,
        subsets=rows,
    )
