"""Compare a predicted output tree with a reference one (GenoTEX ``eval.py`` semantics, both variants).

A tree may hold ``preprocess/`` and ``regress/`` folders, or be either of them directly:
``<Trait>/cohort_info.json``, ``<Trait>/{gene_data,clinical_data}/<id>.csv``, ``<Trait>/<id>.csv`` and
``<Trait>/significant_genes_condition_<Cond>.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from omicsagent.errors import InputError
from omicsagent.expression import metrics as mt
from omicsagent.expression.tl.select import DEMOGRAPHIC, load_cohort_info, select_one_step

Progress = Callable[[str], None]
CATEGORIES = (
    ("unconditional", "Unconditional one-step"),
    ("demographic", "Conditional one-step"),
    ("two_step", "Two-step"),
)


@dataclass
class Roots:
    preprocess: Path | None
    regress: Path | None


def find_roots(folder: str | Path) -> Roots:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; pass an output folder with preprocess/ and/or regress/.")
    pre = folder / "preprocess" if (folder / "preprocess").is_dir() else None
    reg = folder / "regress" if (folder / "regress").is_dir() else None
    if pre is None and any(folder.glob("*/cohort_info.json")):
        pre = folder
    if reg is None and any(folder.glob("*/significant_genes_condition_*.json")):
        reg = folder
    return Roots(pre, reg)


@dataclass
class Evaluation:
    variant: str
    preprocess: dict[str, float] = field(default_factory=dict)
    filtering: dict[str, float] = field(default_factory=dict)
    selection: dict[str, float] = field(default_factory=dict)
    genes: dict[str, dict[str, float]] = field(default_factory=dict)
    per_problem: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "variant": self.variant,
            "preprocess": self.preprocess,
            "filtering": self.filtering,
            "selection": self.selection,
            "gene_identification": self.genes,
            "problems": self.per_problem,
            "notes": self.notes,
        }


def _category(condition: str | None) -> str:
    if condition in (None, "None"):
        return "unconditional"
    return "demographic" if condition in DEMOGRAPHIC else "two_step"


def evaluate_preprocess(
    pred_root: Path | None, ref_root: Path, *, variant: str, progress: Progress | None = None
) -> tuple[dict, dict, dict, list[str]]:
    """(CSC by subtask, filtering scores macro-averaged over traits, one-step selection accuracy, notes)."""
    notes, filt, sel = [], [], []
    csc = {"gene": [], "clinical": [], "linked": []}
    for trait_dir in sorted(p.parent for p in ref_root.glob("*/cohort_info.json")):
        trait = trait_dir.name
        pred_dir = pred_root / trait if pred_root else None
        pred_info_path = pred_dir / "cohort_info.json" if pred_dir else None
        if pred_info_path is None or not pred_info_path.is_file():
            if variant == "genotex":
                notes.append(f"{trait}: no predicted cohort_info.json, skipped (genotex)")
                continue
            pred_info = {}
        else:
            pred_info = load_cohort_info(pred_info_path)
        ref_info = load_cohort_info(trait_dir / "cohort_info.json")
        filt.append(mt.filtering_scores(pred_info, ref_info))
        for cond in (None, *DEMOGRAPHIC):
            # eval.py picks with max() in dict order, so ties are broken the same way here
            same = select_one_step(pred_info, cond, reference_compatible=True) == select_one_step(
                ref_info, cond, reference_compatible=True
            )
            sel.append(100.0 if same else 0.0)
        if progress:
            progress(f"CSC for {trait}")
        for kind, sub, transpose in (
            ("gene", "gene_data", True),
            ("clinical", "clinical_data", True),
            ("linked", "", False),
        ):
            for ref_file in sorted((trait_dir / sub).glob("*.csv") if sub else trait_dir.glob("*.csv")):
                pred_file = (pred_dir / sub / ref_file.name) if pred_dir else None
                if pred_file is None or not pred_file.is_file():
                    if variant == "genomas":
                        csc[kind].append(0.0)
                    continue
                csc[kind].append(mt.csc_files(pred_file, ref_file, transpose=transpose)["csc"])
    pre = {k: mt.nanmean_rounded(v, 4) for k, v in csc.items()}
    filtering = (
        {k: mt.nanmean_rounded([f[k] for f in filt]) for k in ("precision", "recall", "f1", "accuracy")}
        if filt
        else {}
    )
    selection = {"accuracy": mt.nanmean_rounded(sel)} if sel else {}
    return pre, filtering, selection, notes


def _gene_list(path: Path) -> tuple[list[str], dict]:
    try:
        data = json.loads(path.read_text())
        return list(data["significant_genes"]["Variable"]), data.get("cv_performance", {})
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise InputError(
            f"{path} is not a significant-genes JSON ({err}); rerun `omicsagent expr analyze`."
        ) from err


def evaluate_genes(pred_root: Path | None, ref_root: Path, *, variant: str) -> tuple[dict, list[dict]]:
    rows = []
    for ref_file in sorted(ref_root.glob("*/significant_genes_condition_*.json")):
        trait = ref_file.parent.name
        condition = ref_file.stem.removeprefix("significant_genes_condition_")
        ref_genes, _ = _gene_list(ref_file)
        pred_file = pred_root / trait / ref_file.name if pred_root else None
        row = {"trait": trait, "condition": condition, "category": _category(condition)}
        if pred_file is None or not pred_file.is_file():
            fill = 0.0 if variant == "genomas" else math.nan
            row.update(
                {
                    "success": 0.0,
                    "precision": fill,
                    "recall": fill,
                    "f1": fill,
                    "auroc": fill,
                    "gsea_es": fill,
                }
            )
        else:
            pred_genes, cv = _gene_list(pred_file)
            row.update({"success": 100.0, **mt.gene_scores(pred_genes, ref_genes, variant=variant)})
            pred = cv.get("prediction", {}) if isinstance(cv, dict) else {}
            row["trait_pred_accuracy"] = pred.get("accuracy", math.nan)
            row["trait_pred_f1"] = pred.get("f1", math.nan)
        rows.append(row)
    keys = (
        "success",
        "precision",
        "recall",
        "f1",
        "auroc",
        "gsea_es",
        "trait_pred_accuracy",
        "trait_pred_f1",
    )
    summary = {}
    for cat, label in (*CATEGORIES, ("overall", "Overall")):
        chosen = [r for r in rows if cat == "overall" or r["category"] == cat]
        if chosen:
            summary[label] = {k: mt.nanmean_rounded(r.get(k, math.nan) for r in chosen) for k in keys}
            summary[label]["problems"] = len(chosen)
    return summary, rows


def evaluate(
    pred: str | Path, ref: str | Path, *, variant: str = "genotex", progress: Progress | None = None
) -> Evaluation:
    if variant not in mt.VARIANTS:
        raise InputError(f"Unknown scoring variant {variant!r}; use genotex or genomas.")
    pred_roots, ref_roots = find_roots(pred), find_roots(ref)
    if ref_roots.preprocess is None and ref_roots.regress is None:
        raise InputError(
            f"{ref} holds no cohort_info.json nor significant_genes_*.json under <Trait>/ folders; "
            "pass a reference output folder."
        )
    out = Evaluation(variant=variant)
    if ref_roots.preprocess is not None:
        out.preprocess, out.filtering, out.selection, notes = evaluate_preprocess(
            pred_roots.preprocess, ref_roots.preprocess, variant=variant, progress=progress
        )
        out.notes.extend(notes)
    if ref_roots.regress is not None:
        out.genes, out.per_problem = evaluate_genes(pred_roots.regress, ref_roots.regress, variant=variant)
    return out
