"""Cohort selection over ``cohort_info.json`` (one-step and two-step with instruments)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from omicsagent.errors import InputError

DEMOGRAPHIC = ("Age", "Gender")


def load_cohort_info(path: str | Path) -> dict[str, dict]:
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not valid JSON ({err.msg}); rerun preprocess for this trait.") from err
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object of cohort records; rerun preprocess.")
    return data


def usable_cohorts(info: dict[str, dict], condition: str | None = None) -> list[tuple[str, int]]:
    """(cohort, sample size) of usable cohorts (with Age/Gender when that is the condition), in file order."""
    need = f"has_{condition.lower()}" if condition in DEMOGRAPHIC else None
    out = []
    for cohort, rec in info.items():
        if rec.get("is_usable") is True and (need is None or rec.get(need) is True):
            out.append((cohort, int(rec.get("sample_size") or 0)))
    return out


def select_one_step(
    info: dict[str, dict], condition: str | None = None, *, reference_compatible: bool = False
) -> str | None:
    """The usable cohort with the most samples. Ties: first in file order (reference ``max``) or, by
    default, the alphabetically first cohort ID so the answer does not depend on file order."""
    cands = usable_cohorts(info, condition)
    if not cands:
        return None
    if reference_compatible:
        return max(cands, key=lambda c: c[1])[0]
    return sorted(cands, key=lambda c: (-c[1], c[0]))[0][0]


def explain_one_step(info: dict[str, dict], chosen: str, condition: str | None = None) -> str:
    """Why ``select_one_step`` chose ``chosen``: its size against the other usable cohorts."""
    cands = dict(usable_cohorts(info, condition))
    need = f" with {condition}" if condition else ""
    if len(cands) == 1:
        why = f"the only usable cohort{need} ({cands[chosen]} samples)"
    else:
        why = f"the usable cohort{need} with the most samples ({cands[chosen]})"
    if any(n == cands[chosen] for c, n in cands.items() if c != chosen):
        why += ", first of the tied cohorts by id"
    others = [f"{c} ({n})" for c, n in sorted(cands.items(), key=lambda kv: (-kv[1], kv[0])) if c != chosen]
    if others:
        why += f"; other usable: {', '.join(others)}"
    rest = [c for c in info if c not in cands]
    if rest:
        why += f"; not usable{need}: {', '.join(rest)}"
    return why


def unusable_reasons(info: dict[str, dict], condition: str | None = None) -> str:
    """Each recorded cohort and why it cannot be used (its record's note), for the "no cohort" error."""
    if not info:
        return "no cohort is recorded"
    parts = []
    for cohort, rec in info.items():
        if rec.get("is_usable") is True and condition in DEMOGRAPHIC:
            parts.append(f"{cohort} has no usable {condition}")
        else:
            parts.append(f"{cohort}: {rec.get('note') or 'not usable'}")
    return "; ".join(parts)


def linked_columns(trait_dir: Path, cohort: str) -> list[str]:
    path = trait_dir / f"{cohort}.csv"
    if not path.is_file():
        raise InputError(f"{path} is missing although cohort_info.json marks it usable; rerun preprocess.")
    return [str(c) for c in pd.read_csv(path, nrows=0, index_col=0).columns]


@dataclass(frozen=True)
class TwoStepChoice:
    trait_cohort: str
    condition_cohort: str
    instruments: list[str]


def select_two_step(
    trait_dir: Path,
    condition_dir: Path,
    *,
    trait: str,
    condition: str,
    related: dict[str, list[str]],
    rule: str = "genotex",
    reference_compatible: bool = False,
) -> TwoStepChoice | None:
    """First pair (by product of sample sizes, largest first) with a non-empty instrument set:
    genes in both linked tables that are known condition genes (GenoMAS also removes the trait's
    known genes, an exclusion restriction)."""
    if rule not in ("genotex", "genomas"):
        raise InputError(f"Unknown instrument rule {rule!r}; use genotex or genomas.")
    t_cands = usable_cohorts(load_cohort_info(trait_dir / "cohort_info.json"))
    c_cands = usable_cohorts(load_cohort_info(condition_dir / "cohort_info.json"))
    pairs = [(t, c, nt * nc) for t, nt in t_cands for c, nc in c_cands]
    pairs.sort(key=(lambda p: -p[2]) if reference_compatible else (lambda p: (-p[2], p[0], p[1])))
    cond_genes = related.get(condition, [])
    excluded = set(related.get(trait, [])) if rule == "genomas" else set()
    skip = {trait, condition, *DEMOGRAPHIC}
    for t, c, _ in pairs:
        common = (set(linked_columns(trait_dir, t)) - skip) & (set(linked_columns(condition_dir, c)) - skip)
        instruments = [g for g in cond_genes if g in common and g not in excluded]
        if instruments:
            return TwoStepChoice(t, c, instruments)
    return None
