"""Clinical features: which rows hold trait, age and gender, and the converted feature tables.

GEO rows are keyed by integers (the characteristics lines, 0..k-1, as in GenoTEX) or by the names of
extra sample fields (``title``, ``source_name_ch1``, ``description``) that sometimes carry the trait.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from omicsagent.errors import InputError
from omicsagent.expression.pp.converters import (
    Converter,
    TraitConverter,
    convert_age,
    convert_gender,
    split_cell,
)

RowKey = int | str
_TRAIT_KEYS = re.compile(
    r"disease|diagnos|status|state|group|condition|phenotype|type|tissue|class|"
    r"subject|case|control|patient|cohort|outcome|histolog|trait"
)


def _is_nan(value: object) -> bool:
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def parse_row_key(text: str | int | None) -> RowKey | None:
    """``"3"`` -> 3; ``"title"`` stays a name; None stays None."""
    if text is None or isinstance(text, int):
        return text
    text = str(text).strip()
    return int(text) if re.fullmatch(r"\d+", text) else text


def unique_values_by_row(rows: pd.DataFrame, *, max_values: int = 30, most_frequent: bool = False) -> dict:
    """``{row key: up to max_values distinct cells}``: first seen (GenoTEX) or most frequent (GenoMAS)."""
    out = {}
    for key, row in rows.iterrows():
        cells = [c for c in row.tolist()]
        if most_frequent:
            counts = Counter("nan" if _is_nan(c) else c for c in cells)
            out[key] = [c for c, _ in counts.most_common(max_values)]
        else:
            out[key] = list(dict.fromkeys(cells))[:max_values]
    return out


def describe_rows(preview: dict, *, max_values: int = 4, max_rows: int = 12, width: int = 40) -> str:
    """One line listing each row's first distinct values, for a cohort record that must say what it saw:
    ``0: 'tissue: colon' | 1: 'gender: F', 'gender: M' | title: 'AD 1', 'control 2', ... (22 values)``."""

    def cut(value: object) -> str:
        if value is None or _is_nan(value):
            return "NA"
        text = str(value)
        return repr(text if len(text) <= width else text[: width - 3] + "...")

    parts = []
    for key, values in list(preview.items())[:max_rows]:
        shown = ", ".join(cut(v) for v in values[:max_values])
        more = f", ... ({len(values)} values)" if len(values) > max_values else ""
        parts.append(f"{key}: {shown}{more}")
    if len(preview) > max_rows:
        parts.append(f"and {len(preview) - max_rows} more rows")
    return " | ".join(parts)


def characteristics_by_key(characteristics: pd.DataFrame) -> pd.DataFrame:
    """Characteristics realigned by key: one row per key (``"disease state"``, ``"age"``, ...) in order
    of first appearance, cells kept as ``"key: value"``, NaN where a sample lacks the key.

    GEO lines characteristics up by position, so when samples list different fields one integer row
    mixes keys (``treatment: ...`` next to ``disease state: ...``); reading by key undoes that. Cells
    without a key stay under ``row <i>``; when a sample repeats a key, its first cell is kept.
    """
    rows: dict[str, dict[str, object]] = {}
    for index, row in characteristics.iterrows():
        for sample, cell in row.items():
            if cell is None or _is_nan(cell) or not str(cell).strip():
                continue
            key, _ = split_cell(cell)
            rows.setdefault(key or f"row {index}", {}).setdefault(sample, cell)
    frame = pd.DataFrame.from_dict(rows, orient="index", dtype=object)
    return frame.reindex(columns=characteristics.columns)


@dataclass
class RowScore:
    key: RowKey
    coverage: float  # share of non-empty cells the converter understood
    distinct: int  # distinct converted values


def score_row(row: pd.Series, convert: Converter) -> RowScore:
    cells = [c for c in row.tolist() if not _is_nan(c) and c is not None]
    if not cells:
        return RowScore(row.name, 0.0, 0)
    values = [convert(c) for c in cells]
    good = [v for v in values if v is not None]
    return RowScore(row.name, len(good) / len(cells), len(set(good)))


def _key_share(row: pd.Series, pattern: str) -> float:
    keys = [split_cell(c)[0] for c in row.tolist() if not _is_nan(c) and c is not None]
    return sum(bool(k and re.search(pattern, k)) for k in keys) / len(keys) if keys else 0.0


@dataclass
class RowChoice:
    trait_row: RowKey | None = None
    age_row: RowKey | None = None
    gender_row: RowKey | None = None
    notes: list[str] = field(default_factory=list)


def detect_clinical_rows(
    rows: pd.DataFrame,
    trait: str,
    *,
    trait_convert: Converter,
    age_convert: Converter = convert_age,
    gender_convert: Converter = convert_gender,
) -> RowChoice:
    """Simple, explainable rules. A row qualifies when its converter understands at least half of its
    cells; a variable whose best row holds a single value is constant and so unavailable."""
    choice = RowChoice()

    def best(convert: Converter, keys: list[RowKey], key_pattern: str | None) -> RowScore | None:
        scored = []
        for k in keys:
            if key_pattern and isinstance(k, int) and _key_share(rows.loc[k], key_pattern) < 0.5:
                continue
            s = score_row(rows.loc[k], convert)
            if s.coverage >= 0.5:
                scored.append(s)
        return max(scored, key=lambda s: (s.distinct > 1, s.coverage), default=None)

    int_keys = [k for k in rows.index if isinstance(k, (int, np.integer))]
    for name, convert, pattern in (
        ("gender", gender_convert, r"sex|gender"),
        ("age", age_convert, r"(?<![a-z])age(?![a-z])"),
    ):
        s = best(convert, int_keys, pattern)
        if s is None:
            choice.notes.append(f"{name}: no characteristics row looks like {name}")
        elif s.distinct < 2:
            choice.notes.append(f"{name}: row {s.key} is constant, so {name} is unavailable")
        else:
            setattr(choice, f"{name}_row", s.key)
            choice.notes.append(
                f"{name}: row {s.key} ({s.coverage:.0%} of cells understood, {s.distinct} values)"
            )
    used = {choice.age_row, choice.gender_row}
    tiers = [
        [k for k in int_keys if k not in used and _key_share(rows.loc[k], _TRAIT_KEYS.pattern) >= 0.5],
        [k for k in int_keys if k not in used],
        [k for k in rows.index if not isinstance(k, (int, np.integer))],
    ]
    constant = None
    for tier in tiers:
        scored = [score_row(rows.loc[k], trait_convert) for k in tier]
        scored = [s for s in scored if s.coverage >= 0.5]
        two = [s for s in scored if s.distinct > 1]
        if two:
            s = max(two, key=lambda s: s.coverage)
            choice.trait_row = s.key
            choice.notes.append(
                f"trait: row {s.key!r} ({s.coverage:.0%} of cells understood as case/control)"
            )
            return choice
        constant = constant or next(iter(scored), None)
    if constant is not None:
        choice.notes.append(f"trait: row {constant.key!r} holds one class only, so the trait is constant")
    else:
        choice.notes.append(
            "trait: no row could be read as case/control; pass --trait-row and --trait-case/--trait-control"
        )
    return choice


def select_geo_features(
    rows: pd.DataFrame,
    trait: str,
    *,
    trait_row: RowKey,
    trait_convert: Converter,
    age_row: RowKey | None = None,
    age_convert: Converter | None = None,
    gender_row: RowKey | None = None,
    gender_convert: Converter | None = None,
) -> pd.DataFrame:
    """Rows ``[trait, Age?, Gender?]`` x GSM columns, float (NaN where the converter said None)."""
    out = []
    for name, key, convert in (
        (trait, trait_row, trait_convert),
        ("Age", age_row, age_convert),
        ("Gender", gender_row, gender_convert),
    ):
        if key is None:
            continue
        if key not in rows.index:
            raise InputError(f"Row {key!r} does not exist; the rows are {', '.join(map(str, rows.index))}.")
        values = [convert(c) for c in rows.loc[key].tolist()]
        out.append(
            pd.Series([np.nan if v is None else float(v) for v in values], index=rows.columns, name=name)
        )
    return pd.DataFrame(out)


# --- TCGA -------------------------------------------------------------------------------------------


def tcga_trait(sample_id: str, *, reference_compatible: bool = False) -> float:
    """Barcode suffix: 01-09 tumour = 1, 10-19 normal = 0; 20+ controls are -1 in the reference
    (which makes the trait non-binary) and NaN (sample dropped) by default."""
    try:
        code = int(str(sample_id)[-2:])
    except ValueError:
        return np.nan
    if 1 <= code <= 9:
        return 1.0
    if 10 <= code <= 19:
        return 0.0
    return -1.0 if reference_compatible else np.nan


def tcga_age(cell: object, *, days: bool = False) -> float | None:
    """First integer in the cell (reference); ``days=True`` reads ``days_to_birth`` as years."""
    if cell is None or _is_nan(cell):
        return None
    if days:
        m = re.search(r"-?\d+(?:\.\d+)?", str(cell))
        return abs(float(m.group())) / 365.25 if m else None
    m = re.search(r"\d+", str(cell))
    return float(m.group()) if m else None


def tcga_gender(cell: object) -> float | None:
    text = str(cell).strip().lower() if isinstance(cell, str) else None
    return {"female": 0.0, "male": 1.0}.get(text) if text else None


def guess_tcga_columns(clinical: pd.DataFrame) -> tuple[str | None, str | None, list[str]]:
    cols = list(clinical.columns)
    age = (
        next(
            (c for c in ("age_at_initial_pathologic_diagnosis", "age_at_diagnosis", "age") if c in cols), None
        )
        or next((c for c in cols if re.search(r"(?<![a-z])age(?![a-z])", c.lower())), None)
        or ("days_to_birth" if "days_to_birth" in cols else None)
    )
    gender = (
        "gender"
        if "gender" in cols
        else next((c for c in cols if re.search(r"gender|\bsex\b", c.lower())), None)
    )
    notes = [
        f"age: column {age!r}" if age else "age: no age column",
        f"gender: column {gender!r}" if gender else "gender: no gender column",
    ]
    return age, gender, notes


def select_tcga_features(
    clinical: pd.DataFrame,
    trait: str,
    *,
    age_col: str | None,
    gender_col: str | None,
    reference_compatible: bool = False,
) -> pd.DataFrame:
    """Samples x ``[trait, Age?, Gender?]``."""
    out = pd.DataFrame(index=clinical.index)
    out[trait] = [tcga_trait(s, reference_compatible=reference_compatible) for s in clinical.index]
    for name, col in (("Age", age_col), ("Gender", gender_col)):
        if col is None:
            continue
        if col not in clinical.columns:
            raise InputError(
                f"The clinical matrix has no column {col!r}; check --age-column/--gender-column."
            )
        if name == "Age":
            conv = partial(tcga_age, days=col == "days_to_birth" and not reference_compatible)
        else:
            conv = tcga_gender
        out[name] = [np.nan if (v := conv(c)) is None else v for c in clinical[col].tolist()]
    return out.astype(float)


def explain_choice(converter: TraitConverter) -> str:
    return (
        f"case words {', '.join(converter.case + converter.extra_case)}; control words "
        f"{', '.join(converter.control)}"
    )
