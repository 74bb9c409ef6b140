"""Converters from one characteristics cell (``"key: value"``) to a number or None.

GEO lines up characteristics by position, so one row can mix keys (``gender: F`` next to
``age: 45``): every converter checks the key before reading the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

Converter = Callable[[object], "float | None"]

UNKNOWN = frozenset(
    {
        "",
        "na",
        "n/a",
        "nan",
        "none",
        "null",
        "unknown",
        "unk",
        "not available",
        "missing",
        "--",
        "-",
        "?",
        "not applicable",
        "not reported",
        "nd",
    }
)
FEMALE = frozenset({"f", "female", "females", "woman", "women", "girl", "w", "k", "fem", "feminine"})
MALE = frozenset({"m", "male", "males", "man", "men", "boy", "masculine"})
CONTROL_TERMS = (
    "control",
    "healthy",
    "normal",
    "non-",
    "non ",
    "unaffected",
    "negative",
    "wild type",
    "wildtype",
    "wt",
    "no",
    "none",
    "absent",
    "sham",
    "ctrl",
    "hc",
)
CASE_TERMS = (
    "patient",
    "case",
    "tumor",
    "tumour",
    "cancer",
    "carcinoma",
    "disease",
    "affected",
    "positive",
    "yes",
    "lesion",
    "malignant",
    "diagnosed",
    "present",
)
_AGE_KEY = re.compile(r"(?<![a-z])age(?![a-z])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_UNIT_DIVISOR = MappingProxyType({"years": 1.0, "months": 12.0, "weeks": 52.1775, "days": 365.25})


def _text(cell: object) -> str | None:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    text = str(cell).strip().replace("\u2019", "'")
    return text or None


def split_cell(cell: object) -> tuple[str | None, str | None]:
    """(lower-cased key or None, value): the value is the text after the first ``:``."""
    text = _text(cell)
    if text is None:
        return None, None
    if ":" in text:
        key, value = text.split(":", 1)
        return key.strip().lower(), value.strip()
    return None, text


def convert_gender(cell: object, *, inverted: bool = False) -> float | None:
    """female = 0, male = 1 (swapped when ``inverted``); checks "female" before "male"."""
    key, value = split_cell(cell)
    if value is None or (key is not None and not re.search(r"sex|gender", key)):
        return None
    v = value.lower().strip(" .")
    if v in UNKNOWN or "mix" in v or "both" in v or ("female" in v and re.search(r"(?<!fe)male", v)):
        return None
    code = None
    if key is not None and re.fullmatch(r"\d", v):  # e.g. "sex (female=1, male=0): 1"
        fem = re.search(r"female\s*=\s*(\d)", key)
        mal = re.search(r"(?<!fe)male\s*=\s*(\d)", key)
        if fem and v == fem.group(1):
            code = 0.0
        elif mal and v == mal.group(1):
            code = 1.0
    elif v in FEMALE or "female" in v or v.startswith("wom"):
        code = 0.0
    elif v in MALE or re.search(r"\bmale\b|\bman\b", v):
        code = 1.0
    if code is None:
        return None
    return 1.0 - code if inverted else code


def convert_age(cell: object, *, unit: str | None = None, ranges: str = "midpoint") -> float | None:
    """Age in years from ``45``, ``45y``, ``45 years``, ``age (months): 30``, ``40-50``, ``>89``.

    Units come from ``unit`` or from the key/value text (months, weeks, days); a range gives its
    midpoint (``ranges="midpoint"``) or None (``ranges="none"``); ``>89`` gives 89.
    """
    key, value = split_cell(cell)
    if value is None or (key is not None and not _AGE_KEY.search(key)):
        return None
    v = value.lower()
    if v in UNKNOWN:
        return None
    numbers = [float(x) for x in _NUMBER.findall(v)]
    if not numbers or len(numbers) > 2:
        return None
    if len(numbers) == 2:
        if not re.search(r"-|–|to|<|>|~", v) or ranges != "midpoint":
            return None
        years = (numbers[0] + numbers[1]) / 2
    else:
        years = numbers[0]
    context = f"{key or ''} {v}"
    if unit is None:
        unit = next(
            (
                u
                for u, pat in (
                    ("months", r"month|\bmo\b|\bm\b"),
                    ("weeks", r"week|\bwk"),
                    ("days", r"\bday|\bd\b"),
                )
                if re.search(pat, context)
            ),
            "years",
        )
    if unit not in _UNIT_DIVISOR:
        raise ValueError(f"unknown age unit {unit!r}")
    return years / _UNIT_DIVISOR[unit]


def _has_term(text: str, term: str) -> bool:
    if term.endswith(("-", " ")):
        return term in text
    right = r"(?![a-z])" if len(term) <= 3 else ""  # "no" must not match "normal"
    return re.search(rf"(?<![a-z]){re.escape(term)}{right}", text) is not None


@dataclass(frozen=True)
class TraitConverter:
    """Binary trait from text: control terms (checked first) give 0, case terms give 1, else None.

    ``continuous=True`` reads a number instead. ``key`` restricts to cells whose key contains it.
    """

    case: tuple[str, ...] = CASE_TERMS
    control: tuple[str, ...] = CONTROL_TERMS
    key: str | None = None
    continuous: bool = False
    extra_case: tuple[str, ...] = field(default_factory=tuple)

    def __call__(self, cell: object) -> float | None:
        key, value = split_cell(cell)
        if value is None:
            return None
        if self.key is not None and (key is None or self.key.lower() not in key):
            return None
        v = value.lower()
        if v in UNKNOWN:
            return None
        if self.continuous:
            numbers = _NUMBER.findall(v)
            return float(numbers[0]) if len(numbers) == 1 else None
        if any(_has_term(v, t.lower()) for t in self.control):
            return 0.0
        if any(_has_term(v, t.lower()) for t in (*self.case, *self.extra_case)):
            return 1.0
        return None


def trait_converter(
    trait: str,
    *,
    case: list[str] | None = None,
    control: list[str] | None = None,
    key: str | None = None,
    continuous: bool = False,
) -> TraitConverter:
    """Default rules plus the trait's own words (``Colorectal_Cancer`` adds "colorectal")."""
    words = tuple(w.lower() for w in re.split(r"[_\W]+", trait) if len(w) >= 4)
    return TraitConverter(
        case=tuple(case) if case else CASE_TERMS,
        control=tuple(control) if control else CONTROL_TERMS,
        key=key,
        continuous=continuous,
        extra_case=() if case else words,
    )
