"""The reviewer's checks: what a unit's results must satisfy, verified from the files the unit wrote.

A guideline names checks per unit; each takes a ``CheckContext`` and returns problems (sentences that
say what is wrong and what to do). The host reads only JSON, CSV and parquet written by the sandboxed
script, never pickles. A file the script should have written but did not, or wrote unreadable, is a
problem of the attempt; anything else raising here is our bug and stops the run.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omicsagent.expression.pp.cohort import binary_biased, continuous_biased
from omicsagent.expression.pp.scale import value_scale
from omicsagent.expression.pp.symbols import AliasTable
from omicsagent.ml.io import read_parquet

READ_ERRORS = (OSError, ValueError, KeyError, IndexError, json.JSONDecodeError, pd.errors.ParserError)


@dataclass
class CheckContext:
    role: str
    unit: str
    output: dict[str, Any]
    trait: str
    workspace: Path
    settings: dict[str, Any]  # the role's guideline settings
    review: dict[str, Any]  # the code reviewer's guideline settings
    previous: dict[str, dict] = field(default_factory=dict)
    aliases: AliasTable | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # cohort_root, preprocess_root, condition, ...

    @property
    def state(self) -> Path:
        return self.workspace / "scratch" / "state"

    @property
    def trait_dir(self) -> Path:
        return self.workspace / "artifacts" / "preprocess" / self.trait

    @property
    def cohort_id(self) -> str | None:
        if self.role == "tcga":
            return "TCGA"
        for src in (self.output, self.previous.get("load", {})):
            if isinstance(src.get("cohort_id"), str):
                return src["cohort_id"]
        return None


Check = Callable[[CheckContext], list[str]]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn

    return register


def run_checks(names: list[str], ctx: CheckContext) -> list[str]:
    """Problems of every named check, each prefixed with the check's name."""
    problems = []
    if ctx.output.get("stop") is True:
        names = [n for n in names if n in STOP_CHECKS] + (
            ["record_if_stopped"] if ctx.role in ("geo", "tcga") else []
        )
    for name in dict.fromkeys(names):
        try:
            found = CHECKS[name](ctx)
        except READ_ERRORS as err:
            found = [f"could not read what the unit wrote ({type(err).__name__}: {str(err)[:200]})"]
        problems += [f"{name}: {p}" for p in found]
    return problems


# ----- small readers ------------------------------------------------------------------------------


def _header(path: Path) -> list[str]:
    with open(path, newline="") as fh:
        return next(csv.reader(fh), [])


def _first_column(path: Path) -> list[str]:
    return pd.read_csv(path, usecols=[0], dtype=str).iloc[:, 0].tolist()


def _dupes(values: list[str]) -> list[str]:
    seen, dup = set(), []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    return dup


def _records(ctx: CheckContext) -> dict[str, Any]:
    path = ctx.trait_dir / "cohort_info.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _clinical_samples(ctx: CheckContext, path: Path) -> list[str]:
    """GEO clinical tables are features x samples; TCGA ones samples x features."""
    return _header(path)[1:] if ctx.role == "geo" else _first_column(path)


# ----- the checks ---------------------------------------------------------------------------------

STOP_CHECKS = ("record_if_stopped",)


@check("record_if_stopped")
def record_if_stopped(ctx: CheckContext) -> list[str]:
    if ctx.output.get("stop") is not True or ctx.output.get("no_cohort"):
        return []
    cid = ctx.output.get("cohort_id") or ctx.cohort_id
    rec = _records(ctx).get(cid or "")
    if not rec:
        return [f"the unit stopped the cohort but cohort_info.json has no record for {cid!r}; write it"]
    if rec.get("is_usable") is not False or not rec.get("note"):
        return [
            f"the record of a stopped cohort must say is_usable false with the reason in note; it says {rec}"
        ]
    return []


@check("samples_present")
def samples_present(ctx: CheckContext) -> list[str]:
    n = ctx.output.get("n_samples")
    return (
        []
        if isinstance(n, int) and n > 0
        else [f"the series lists {n!r} samples; read !Sample_geo_accession"]
    )


@check("unique_samples")
def unique_samples(ctx: CheckContext) -> list[str]:
    problems = []
    samples = ctx.output.get("samples")
    if isinstance(samples, list) and _dupes(samples):
        problems.append(f"samples listed twice: {_dupes(samples)[:5]}")
    expr = ctx.state / "expression.parquet"
    if ctx.unit == "load" and expr.is_file():
        import pyarrow.parquet as pq

        cols = [c for c in pq.read_schema(expr).names if not c.startswith("__")]
        if _dupes(cols):
            problems.append(f"the expression table has duplicated sample columns {_dupes(cols)[:5]}")
    cid = ctx.cohort_id
    if cid and ctx.unit == "link_and_save":
        genes = ctx.trait_dir / "gene_data" / f"{cid}.csv"
        linked = ctx.trait_dir / f"{cid}.csv"
        if genes.is_file() and _dupes(_header(genes)[1:]):
            problems.append(f"gene_data/{cid}.csv repeats samples {_dupes(_header(genes)[1:])[:5]}")
        if linked.is_file() and _dupes(_first_column(linked)):
            problems.append(f"the linked table repeats samples {_dupes(_first_column(linked))[:5]}")
    return problems


@check("rows_exist")
def rows_exist(ctx: CheckContext) -> list[str]:
    rows = ctx.previous.get("load", {}).get("rows", {})
    problems = []
    for name in ("trait_row", "age_row", "gender_row"):
        key = ctx.output.get(name)
        if key is not None and str(key) not in rows:
            problems.append(f"{name} {key!r} is not one of the rows the load unit listed ({', '.join(rows)})")
    return problems


@check("trait_two_classes")
def trait_two_classes(ctx: CheckContext) -> list[str]:
    if ctx.output.get("trait_row") is None:
        return []
    counts = ctx.output.get("trait_counts") or {}
    continuous = (ctx.output.get("converters") or {}).get("trait", {}).get("continuous")
    if continuous:
        return [] if len(counts) >= 2 else [f"the trait row {ctx.output['trait_row']!r} gives one value only"]
    classes = {k: v for k, v in counts.items() if v}
    if len(classes) < 2:
        return [
            (
                f"the trait row {ctx.output['trait_row']!r} gives {classes or 'no values'}: "
                "one class is not a trait; choose another row or other case/control words, "
                "or report the trait unavailable"
            )
        ]
    return []


@check("clinical_table_matches")
def clinical_table_matches(ctx: CheckContext) -> list[str]:
    if ctx.output.get("stop"):
        return []
    cid = ctx.cohort_id
    path = ctx.trait_dir / "clinical_data" / f"{cid}.csv"
    if not path.is_file():
        return [f"clinical_data/{cid}.csv was not written"]
    table = pd.read_csv(path, index_col=0)
    values = table.loc[ctx.trait] if ctx.role == "geo" else table[ctx.trait]
    counts = {f"{float(k):g}": int(v) for k, v in values.value_counts().sort_index().items()}
    problems = []
    if counts != (ctx.output.get("trait_counts") or {}):
        problems.append(f"the clinical table's trait counts {counts} differ from the reported "
                        f"{ctx.output.get('trait_counts')}")
    return problems


@check("annotation_matches_ids")
def annotation_matches_ids(ctx: CheckContext) -> list[str]:
    mapping = read_parquet(ctx.state / "mapping.parquet")
    if mapping.empty:
        return ["the probe -> gene mapping is empty; choose other annotation columns"]
    expr_ids = set(read_parquet(ctx.state / "expression.parquet", columns=[]).index.astype(str))
    share = len(expr_ids & set(mapping["ID"].astype(str))) / max(len(expr_ids), 1)
    if share < 0.2:
        return [
            (
                f"only {share:.0%} of the expression IDs appear in the ID column "
                f"{ctx.output.get('id_column')!r}; choose the annotation column that holds the probe IDs"
            )
        ]
    return []


@check("symbol_fraction")
def symbol_fraction(ctx: CheckContext) -> list[str]:
    genes = read_parquet(ctx.state / "genes.parquet", columns=[]).index.astype(str)
    problems = []
    if len(genes) < int(ctx.review.get("min_genes", 10)):
        problems.append(f"only {len(genes)} genes after mapping; check the gene column")
    if ctx.aliases is not None and len(genes):
        share = sum(ctx.aliases.lookup(g) is not None for g in genes) / len(genes)
        floor = float(ctx.review.get("min_symbol_fraction", 0.5))
        if share < floor:
            problems.append(f"{share:.0%} of the mapped names are known gene symbols (at least {floor:.0%} "
                            "expected); the gene column probably holds something else (accessions, IDs)")
    return problems


@check("sample_overlap")
def sample_overlap(ctx: CheckContext) -> list[str]:
    cid = ctx.cohort_id
    genes, clinical = (
        ctx.trait_dir / "gene_data" / f"{cid}.csv",
        ctx.trait_dir / "clinical_data" / f"{cid}.csv",
    )
    if not genes.is_file() or not clinical.is_file():
        return [f"gene_data/{cid}.csv and clinical_data/{cid}.csv must both exist before linking"]
    g, c = set(_header(genes)[1:]), set(_clinical_samples(ctx, clinical))
    share = len(g & c) / max(len(g), 1)
    floor = float(ctx.review.get("min_sample_overlap", 0.5))
    if share < floor:
        return [
            (
                f"only {len(g & c)} of the {len(g)} gene-table samples are in the clinical table "
                f"({share:.0%}); the sample IDs of the two tables do not match"
            )
        ]
    return []


@check("value_scale")
def value_scale_check(ctx: CheckContext) -> list[str]:
    cid = ctx.cohort_id
    path = ctx.trait_dir / "gene_data" / f"{cid}.csv"
    if not path.is_file():
        return [f"gene_data/{cid}.csv was not written"]
    values = pd.read_csv(path, index_col=0).to_numpy(dtype=float)
    scale = value_scale(values)
    if ctx.settings.get("log_transform") == "if_linear" and scale.kind == "linear":
        return [f"the gene table is still linear-scale ({scale.reason}); the guideline asks for log2(x + 1)"]
    return []


@check("trait_classes")
def trait_classes(ctx: CheckContext) -> list[str]:
    cid = ctx.cohort_id
    rec = _records(ctx).get(cid or "", {})
    if not rec.get("is_usable"):
        return []
    linked = ctx.trait_dir / f"{cid}.csv"
    values = pd.read_csv(linked, index_col=0)[ctx.trait]
    if values.nunique() == 2:
        biased, why = binary_biased(values)
    else:
        biased, why = continuous_biased(values)
    if values.nunique() < 2 or biased:
        return [f"the record says usable but the linked trait is biased ({why}); judge bias again"]
    return []


@check("record_consistent")
def record_consistent(ctx: CheckContext) -> list[str]:
    cid = ctx.cohort_id
    rec = _records(ctx).get(cid or "")
    if rec is None:
        return [f"cohort_info.json has no record for {cid!r}"]
    problems = []
    reported = ctx.output.get("record")
    if isinstance(reported, dict) and reported != rec:
        problems.append("the reported record differs from cohort_info.json")
    linked = ctx.trait_dir / f"{cid}.csv"
    if rec.get("is_usable"):
        if not linked.is_file():
            return problems + [f"the record says usable but {cid}.csv (the linked table) is missing"]
        cols = _header(linked)[1:]
        n = len(_first_column(linked))
        if rec.get("sample_size") != n:
            problems.append(f"sample_size {rec.get('sample_size')} but the linked table has {n} rows")
        for name, col in (("has_age", "Age"), ("has_gender", "Gender")):
            if bool(rec.get(name)) != (col in cols):
                problems.append(
                    f"{name} is {rec.get(name)} but the linked table {'has' if col in cols else 'lacks'} "
                    f"{col}"
                )
        if not cols or cols[0] != ctx.trait:
            problems.append(f"the linked table's first column must be the trait {ctx.trait}")
    elif not rec.get("note"):
        problems.append("an unusable cohort needs the reason in note")
    return problems


@check("cohort_exists")
def cohort_exists(ctx: CheckContext) -> list[str]:
    if ctx.output.get("stop"):
        return []
    root = Path(ctx.extra.get("cohort_root", ""))
    name = ctx.output.get("cohort_dir")
    folder = root / str(name)
    if not name or not folder.is_dir():
        return [f"{name!r} is not a cohort folder of {root.name}"]
    if not any("clinicalmatrix" in p.name.lower() for p in folder.iterdir()):
        return [f"{name} holds no *_clinicalMatrix file"]
    return []


@check("columns_exist")
def columns_exist(ctx: CheckContext) -> list[str]:
    if ctx.output.get("stop"):
        return []
    import pyarrow.parquet as pq

    cols = set(pq.read_schema(ctx.state / "clinical_raw.parquet").names)
    return [f"{kind} column {ctx.output.get(kind)!r} is not in the clinical matrix"
            for kind in ("age_column", "gender_column")
            if ctx.output.get(kind) is not None and ctx.output.get(kind) not in cols]


@check("selection_rule")
def selection_rule(ctx: CheckContext) -> list[str]:
    """Recompute the method's selection from the preprocessed records and compare."""
    from omicsagent.expression.pipeline.analyze import load_task_info
    from omicsagent.expression.tl.select import (
        DEMOGRAPHIC,
        load_cohort_info,
        select_one_step,
        select_two_step,
    )

    root = Path(ctx.extra["preprocess_root"])
    condition = ctx.extra.get("condition")
    ref = bool(ctx.settings.get("reference_compatible", False))
    if condition is None or condition in DEMOGRAPHIC:
        want = (select_one_step(load_cohort_info(root / ctx.trait / "cohort_info.json"), condition,
                                reference_compatible=ref), None)
    else:
        related = {
            k: list(v.get("related_genes", []))
            for k, v in load_task_info(ctx.extra["task_info"]).items()
            if isinstance(v, dict)
        }
        choice = None
        if related.get(condition) and (root / ctx.trait).is_dir() and (root / condition).is_dir():
            choice = select_two_step(root / ctx.trait, root / condition, trait=ctx.trait, condition=condition,
                                     related=related, rule=ctx.settings.get("instrument_rule", "genotex"),
                                     reference_compatible=ref)
        want = (choice.trait_cohort, choice.condition_cohort) if choice else (None, None)
    got = (ctx.output.get("cohort"), ctx.output.get("condition_cohort"))
    if got != want:
        return [f"the selection rule gives {want}, the unit chose {got}"]
    if (want[0] is None) != bool(ctx.output.get("stop")):
        return ["stop must be true exactly when no cohort qualifies"]
    return []


@check("gene_json_format")
def gene_json_format(ctx: CheckContext) -> list[str]:
    cond = ctx.extra.get("condition")
    path = ctx.workspace / "artifacts" / "regress" / ctx.trait / f"significant_genes_condition_{cond}.json"
    if not path.is_file():
        return [f"{path.name} was not written under artifacts/regress/{ctx.trait}/"]
    data = json.loads(path.read_text())
    sig = data.get("significant_genes", {})
    if set(sig) != {"Variable", "Coefficient", "Absolute Coefficient"} or "cv_performance" not in data:
        return [
            "the JSON needs significant_genes {Variable, Coefficient, Absolute Coefficient} "
            "and cv_performance"
        ]
    genes, coefs, absolute = sig["Variable"], sig["Coefficient"], sig["Absolute Coefficient"]
    problems = []
    if not (len(genes) == len(coefs) == len(absolute)):
        problems.append("Variable, Coefficient and Absolute Coefficient differ in length")
    if any(not np.isclose(abs(c), a) for c, a in zip(coefs, absolute)):
        problems.append("Absolute Coefficient is not |Coefficient|")
    if absolute != sorted(absolute, reverse=True):
        problems.append("genes must be sorted by absolute coefficient, largest first")
    if any(c == 0 for c in coefs):
        problems.append("genes with a zero coefficient are not significant")
    if cond in genes or ctx.trait in genes:
        problems.append("the trait or the condition is listed among the genes")
    cohort = ctx.output.get("cohort")
    linked = Path(ctx.extra["preprocess_root"]) / ctx.trait / f"{cohort}.csv"
    if linked.is_file():
        missing = [g for g in genes if g not in set(_header(linked)[1:])]
        if missing:
            problems.append(f"genes not in the cohort's linked table: {missing[:5]}")
    return problems
