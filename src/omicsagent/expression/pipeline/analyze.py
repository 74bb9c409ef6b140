"""Find the genes associated with a trait, optionally conditioned on Age, Gender or another trait.

Reads a preprocessed root (``<root>/<Trait>/cohort_info.json`` plus linked tables), selects the
cohort(s), fits the regression, and writes ``<out>/<Trait>/significant_genes_condition_<Cond>.json``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from omicsagent.errors import InputError, command
from omicsagent.expression._files import normalize_trait_name
from omicsagent.expression.pp.cohort import write_json_atomic
from omicsagent.expression.tl import regress as rg
from omicsagent.expression.tl.select import (
    DEMOGRAPHIC,
    explain_one_step,
    load_cohort_info,
    select_one_step,
    select_two_step,
    unusable_reasons,
    usable_cohorts,
)

Progress = Callable[[str], None]


@dataclass
class AnalyzeOptions:
    condition: str | None = None
    reference_compatible: bool = False
    task_info: Path | None = None
    instrument_rule: str = "genotex"
    grid: tuple[float, ...] = rg.ALPHAS


@dataclass
class AnalyzeResult:
    trait: str
    condition: str | None
    cohort: str
    condition_cohort: str | None
    model: str
    penalty: float
    n_samples: int
    n_genes: int
    genes: list[str]
    coefficients: list[float]
    cv_performance: dict
    output: Path
    notes: list[str] = field(default_factory=list)
    reason: str = ""  # why this cohort (pair) was chosen
    warnings: list[str] = field(default_factory=list)  # the chosen cohort records' warnings, repeated
    cv_grid: list[dict] = field(default_factory=list)  # per penalty: mean and per-fold CV scores


def load_task_info(path: str | Path | None) -> dict[str, dict]:
    """GenoTEX ``metadata/task_info.json``: ``{trait: {"related_genes": [...], "conditions": [...]}}``."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} is not a file; pass GenoTEX metadata/task_info.json to --task-info.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(
            f"{path} is not text (it looks binary); pass GenoTEX metadata/task_info.json."
        ) from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not valid JSON ({err.msg}); pass GenoTEX task_info.json.") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must map traits to their related genes; pass GenoTEX task_info.json.")
    return data


def resolve_trait_dir(root: Path, trait: str) -> Path:
    """``root/<Trait>`` or ``root`` itself when it already is that trait's folder."""
    for cand in (root / trait, root):
        if (cand / "cohort_info.json").is_file() and (cand == root / trait or cand.name == trait):
            return cand
    raise InputError(
        f"No cohort_info.json for {trait} under {root}; run `omicsagent expr preprocess` for "
        "this trait first (with the same --out)."
    )


def _read_linked(trait_dir: Path, cohort: str) -> pd.DataFrame:
    path = trait_dir / f"{cohort}.csv"
    if not path.is_file():
        raise InputError(f"{path} is missing although cohort_info.json marks it usable; rerun preprocess.")
    return pd.read_csv(path, index_col=0).astype(float)


def predict_condition(
    trait_df: pd.DataFrame, cond_df: pd.DataFrame, condition: str, instruments: list[str]
) -> np.ndarray:
    """Step one of two: learn the condition from the instruments in its own cohort, then predict it in
    the trait cohort (each cohort standardised with its own statistics)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression

    Xc, _ = rg.standardize(cond_df[instruments].to_numpy())
    yc = cond_df[condition].to_numpy()
    wide = Xc.shape[1] > Xc.shape[0]
    binary = len(np.unique(yc)) == 2
    if binary:
        model = (
            LogisticRegression(penalty="l1", solver="liblinear", random_state=42)
            if wide
            else LogisticRegression()
        )
    else:
        model = Lasso() if wide else LinearRegression()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xc, yc)
    Xt, _ = rg.standardize(trait_df[instruments].to_numpy())
    return model.predict_proba(Xt)[:, 1] if binary else model.predict(Xt)


def analyze(
    preprocessed_dir: str | Path,
    *,
    trait: str,
    out_dir: str | Path,
    options: AnalyzeOptions | None = None,
    progress: Progress | None = None,
) -> AnalyzeResult:
    options = options or AnalyzeOptions()
    progress = progress or (lambda _m: None)
    trait = normalize_trait_name(trait)
    condition = normalize_trait_name(options.condition) if options.condition else None
    aliases = {"none": None, "age": "Age", "gender": "Gender", "sex": "Gender"}
    if condition is not None and condition.lower() in aliases:
        condition = aliases[condition.lower()]
    if condition == trait:
        raise InputError(
            f"The condition must differ from the trait {trait}; pick Age, Gender or another trait."
        )
    if options.instrument_rule not in ("genotex", "genomas"):
        raise InputError(f"Unknown instrument rule {options.instrument_rule!r}; use genotex or genomas.")
    root = Path(preprocessed_dir)
    trait_dir = resolve_trait_dir(root, trait)
    tasks = load_task_info(options.task_info)
    related = {k: list(v.get("related_genes", [])) for k, v in tasks.items() if isinstance(v, dict)}
    notes = []
    if not related.get(trait):
        notes.append(
            f"no known genes for {trait} (task info {'absent' if not tasks else 'empty for it'}): "
            f"the penalty falls back to {rg.FALLBACK_ALPHA}"
        )
    cond_cohort = None
    info = load_cohort_info(trait_dir / "cohort_info.json")
    if condition is None or condition in DEMOGRAPHIC:
        cohort = select_one_step(info, condition, reference_compatible=options.reference_compatible)
        if cohort is None:
            need = f" with {condition}" if condition else ""
            raise InputError(
                f"No usable cohort for {trait}{need} in {trait_dir / 'cohort_info.json'} "
                f"({unusable_reasons(info, condition)}); preprocess more cohorts"
                + (" or pick another condition." if condition else ".")
            )
        reason = explain_one_step(info, cohort, condition)
        progress(f"loading {cohort}")
        frame = _read_linked(trait_dir, cohort)
        drop = [c for c in DEMOGRAPHIC if c != condition and c in frame.columns]
        frame = frame.drop(columns=drop)
    else:
        if not related.get(condition):
            raise InputError(
                f"Two-step analysis needs known genes for the condition {condition}; pass "
                "--task-info with GenoTEX task_info.json listing them."
            )
        cond_dir = resolve_trait_dir(trait_dir.parent, condition)
        choice = select_two_step(
            trait_dir,
            cond_dir,
            trait=trait,
            condition=condition,
            related=related,
            rule=options.instrument_rule,
            reference_compatible=options.reference_compatible,
        )
        if choice is None:
            raise InputError(
                f"No pair of usable {trait} and {condition} cohorts shares known {condition} genes; "
                "preprocess more cohorts for either trait."
            )
        cohort, cond_cohort = choice.trait_cohort, choice.condition_cohort
        n_trait = dict(usable_cohorts(info))[cohort]
        n_cond = dict(usable_cohorts(load_cohort_info(cond_dir / "cohort_info.json")))[cond_cohort]
        reason = (
            f"the pair with the most samples ({n_trait} x {n_cond}) whose linked tables share known "
            f"{condition} genes ({len(choice.instruments)})"
        )
        progress(f"loading {cohort} and {cond_cohort}")
        frame = _read_linked(trait_dir, cohort).drop(columns=list(DEMOGRAPHIC), errors="ignore")
        cond_frame = _read_linked(cond_dir, cond_cohort)
        frame[condition] = predict_condition(frame, cond_frame, condition, choice.instruments)
        notes.append(
            f"two-step: {len(choice.instruments)} instruments ({options.instrument_rule} rule), "
            f"condition cohort {cond_cohort}"
        )
        if not options.reference_compatible:  # the reference leaves the instruments among the predictors
            frame = frame.drop(columns=choice.instruments)
    warnings = [str(w) for w in info.get(cohort, {}).get("warnings") or []]
    return _fit_and_save(
        frame,
        reason=reason,
        warnings=warnings,
        trait=trait,
        condition=condition,
        cohort=cohort,
        cond_cohort=cond_cohort,
        related=related.get(trait, []),
        out_dir=Path(out_dir),
        options=options,
        notes=notes,
        progress=progress,
    )


def _fit_and_save(
    frame: pd.DataFrame,
    *,
    trait: str,
    condition: str | None,
    cohort: str,
    cond_cohort: str | None,
    related: list[str],
    out_dir: Path,
    options: AnalyzeOptions,
    notes: list[str],
    progress: Progress,
    reason: str = "",
    warnings: list[str] | None = None,
) -> AnalyzeResult:
    if trait not in frame.columns:
        raise InputError(
            f"The linked table of {cohort} has no column {trait}; rerun preprocess with "
            f"{command('--trait', trait)}."
        )
    genes = [c for c in frame.columns if c not in (trait, condition)]
    y = frame[trait].to_numpy(dtype=float)
    X = frame[genes].to_numpy(dtype=float)
    Z = frame[condition].to_numpy(dtype=float) if condition else None
    if len(X) < 5:
        raise InputError(f"{cohort} has {len(X)} samples; 5-fold cross-validation needs at least 5.")
    kind = "lmm" if rg.detect_batch_effect(X) else "lasso"
    notes.append(f"{cohort}: {X.shape[0]} samples x {X.shape[1]} genes; model {kind}")
    tuned = rg.tune_penalty(
        kind,
        X,
        y,
        genes,
        related=related,
        Z=Z,
        grid=options.grid,
        reference_compatible=options.reference_compatible,
        progress=progress,
    )
    progress(f"final fit with penalty {tuned.penalty:g}")
    Xs, _ = rg.standardize(X)
    Zs = rg.standardize(Z.reshape(-1, 1))[0] if Z is not None else None
    final = rg.make_model(kind, tuned.penalty, reference_compatible=options.reference_compatible)
    with rg.quiet_fits():
        model = rg.ResidualizedRegressor(final).fit(Xs, y, Zs)
    beta_x = np.asarray(model.model.coef_).ravel()
    table = pd.DataFrame({"Variable": genes, "Coefficient": beta_x})
    table = table[table["Coefficient"] != 0].copy()
    table["Absolute Coefficient"] = table["Coefficient"].abs()
    table = table.sort_values("Absolute Coefficient", ascending=False, kind="mergesort")
    cv = {"prediction": tuned.prediction, "selection": tuned.selection}
    cv_grid = _plain(
        [
            {
                "penalty": r.penalty,
                "prediction": r.prediction,
                "selection": r.selection,
                "fold_prediction": r.fold_prediction,
                "fold_selection": r.fold_selection,
            }
            for r in tuned.grid
        ]
    )
    payload = {
        "significant_genes": {
            k: [v.item() if hasattr(v, "item") else v for v in table[k]] for k in table.columns
        },
        "cv_performance": _plain(cv),
        "provenance": {
            "cohort": cohort,
            "condition_cohort": cond_cohort,
            "model": kind,
            "penalty": tuned.penalty,
            "n_samples": int(X.shape[0]),
            "n_genes": int(X.shape[1]),
            "condition_coefficient": None if model.beta_z is None else float(model.beta_z[1]),
            "reference_compatible": options.reference_compatible,
            "selection": reason,
            "warnings": warnings or [],
            "notes": notes,
            "cv_grid": cv_grid,
        },
    }
    path = out_dir / trait / f"significant_genes_condition_{condition}.json"
    write_json_atomic(path, payload)
    return AnalyzeResult(
        trait=trait,
        condition=condition,
        cohort=cohort,
        condition_cohort=cond_cohort,
        model=kind,
        penalty=tuned.penalty,
        n_samples=int(X.shape[0]),
        n_genes=int(X.shape[1]),
        genes=list(table["Variable"]),
        coefficients=[float(c) for c in table["Coefficient"]],
        cv_performance=cv,
        output=path,
        notes=notes,
        reason=reason,
        warnings=warnings or [],
        cv_grid=cv_grid,
    )


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if np.isnan(v) else v
    return obj
