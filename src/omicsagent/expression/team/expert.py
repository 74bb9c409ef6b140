"""The offline expert brain of every role: deterministic, explainable, no LLM.

* Engineers and the statistician write scripts from templates (``scripts/<role>_<unit>.py.tmpl``) that
  call the ``omicsagent.expression`` library, so their outputs equal the deterministic pipeline's. A
  script's judgement lives in its ``PARAMS`` block; code approved on an earlier cohort is taken from the
  code memory when it comes from the same template (as is, or adapted by rewriting only ``PARAMS``).
* Planning: advance; skip probe mapping when the IDs are symbols; finish when a unit stopped the task;
  go back to ``load`` with the sample titles, source names and descriptions when no characteristics row
  reads as the trait (GenoTEX looks at characteristics first).
* The code reviewer approves exactly when the script ran and the unit's checks pass.
* The domain expert also recognises a trait written as an abbreviation or a synonym (the knowledge table
  and the guideline's synonyms) in sample rows and TCGA cohort names, and rejects with the row and the
  words that read it.
"""

from __future__ import annotations

import ast
import hashlib
import re
from importlib import resources
from pprint import pformat
from string import Template
from typing import Any

from omicsagent.agent.journal import Usage
from omicsagent.errors import ConfigError, ModelMistake
from omicsagent.expression.team.brain import (
    Attempt,
    Decision,
    PlanContext,
    Review,
    ReviewContext,
    UnitContext,
)
from omicsagent.expression.team.guideline import Guideline
from omicsagent.expression.team.terms import (
    TermSet,
    case_words,
    find_trait_rows,
    match_cohorts,
    readable,
    row_names_trait,
    trait_terms,
)
from omicsagent.expression.team.unitlib import converters

DEFAULT_PARAMS: dict[tuple[str, str], dict[str, Any]] = {
    ("geo", "load"): {"include_sample_fields": False},
    ("geo", "clinical_features"): {
        "trait_row": None, "age_row": None, "gender_row": None, "trait_case": None, "trait_control": None,
        "trait_key": None, "trait_continuous": False, "age_unit": None, "gender_inverted": False,
    },
    ("geo", "initial_filter"): {},
    ("geo", "gene_identifiers"): {},
    ("geo", "annotation"): {"id_column": None, "gene_column": None},
    ("geo", "gene_mapping"): {},
    ("geo", "link_and_save"): {},
    ("tcga", "select_cohort"): {"extra_terms": [], "cohort": None},
    ("tcga", "choose_columns"): {"age_column": None, "gender_column": None},
    ("tcga", "clinical_features"): {},
    ("tcga", "link_and_save"): {},
    ("statistician", "select_cohorts"): {},
    ("statistician", "regress"): {},
}
_PARAMS = re.compile(r"^PARAMS = (.*?)\n# --- end of decisions ---", re.DOTALL | re.MULTILINE)
MAPPING_UNITS = ("annotation", "gene_mapping")


def template_text(role: str, unit: str) -> str:
    return (
        resources.files("omicsagent.expression.team")
        .joinpath("scripts", f"{role}_{unit}.py.tmpl")
        .read_text()
    )


def template_id(role: str, unit: str) -> str:
    digest = hashlib.sha256(template_text(role, unit).encode()).hexdigest()[:8]
    return f"{role}/{unit}@{digest}"


def _literal(params: dict[str, Any]) -> str:
    return pformat(params, sort_dicts=True, width=100)


def render(role: str, unit: str, params: dict[str, Any] | None = None) -> str:
    """The expert's script for a unit with these decisions (the defaults when None)."""
    values = {**DEFAULT_PARAMS[(role, unit)], **(params or {})}
    return Template(template_text(role, unit)).substitute(
        template=template_id(role, unit), params=_literal(values)
    )


def read_params(code: str) -> dict[str, Any] | None:
    m = _PARAMS.search(code)
    if not m:
        return None
    try:
        value = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, dict) else None


def with_params(code: str, params: dict[str, Any]) -> str:
    return _PARAMS.sub(lambda m: f"PARAMS = {_literal(params)}\n# --- end of decisions ---", code, count=1)


def check_expert_units(guides: dict[str, Guideline], roles: list[str]) -> None:
    """The expert brain writes only the units it has templates for."""
    for role in roles:
        for unit in guides[role].units:
            if (role, unit.name) not in DEFAULT_PARAMS:
                known = ", ".join(u for r, u in DEFAULT_PARAMS if r == role)
                raise ConfigError(
                    f"The {role} guideline's unit {unit.name!r} has no expert script (known: {known}); "
                    f"remove it, or give the {role} role an LLM brain (--brain llm)."
                )


class ExpertBrain:
    """One role's offline brain."""

    name = "expert"

    def __init__(self, role: str) -> None:
        self.role = role

    def describe(self) -> dict[str, Any]:
        return {"brain": self.name, "role": self.role}

    def take_usage(self) -> Usage:
        return Usage()

    # ----- plan -----
    def decide(self, ctx: PlanContext) -> Decision:
        last = ctx.last_unit
        out = ctx.outputs.get(last, {}) if last else {}
        if out.get("stop") is True:
            note = (out.get("record") or {}).get("note") or out.get("reason") or "the task ended"
            return Decision(action="finish", reason=f"{last} ended the task: {note}")
        names = [u.name for u in ctx.units]
        if (self.role == "geo" and last == "clinical_features" and out.get("trait_row") is None
                and out.get("is_gene_available") and not out.get("used_sample_fields") and "load" in names
                and ctx.backtracks_left > 0):
            return Decision(action="back", unit="load", directive={"include_sample_fields": True},
                            reason="no characteristics row reads as the trait; look at the sample titles, "
                                   "source names and descriptions too")
        nxt = ctx.next_unit
        if nxt is None:
            return Decision(action="finish", reason="every unit is done")
        view = next(u for u in ctx.units if u.name == nxt)
        ids = ctx.outputs.get("gene_identifiers", {})
        if view.optional and nxt in MAPPING_UNITS and ids.get("requires_gene_mapping") is False:
            return Decision(action="skip", unit=nxt, reason="the row IDs already are gene symbols")
        return Decision(action="advance", reason=f"next unit: {nxt}")

    # ----- write -----
    def write(self, ctx: UnitContext) -> Attempt:
        key = (self.role, ctx.unit.name)
        if key not in DEFAULT_PARAMS:
            raise ModelMistake(f"the expert brain has no script for unit {ctx.unit.name!r}")
        params = dict(DEFAULT_PARAMS[key])
        params.update({k: v for k, v in ctx.directive.items() if k in params})
        for review in ctx.feedback:
            params.update({k: v for k, v in review.patch.items() if k in params})
        if ctx.feedback and not any(k in params for k in ctx.feedback[-1].patch):
            raise ModelMistake("the expert brain has no other way to do this unit; the review said: "
                               + "; ".join(ctx.feedback[-1].suggestions[:3]))
        marker = f"(template {template_id(*key)})"
        for offer in ctx.offers:
            if marker in offer.code and read_params(offer.code) is not None:
                code = with_params(offer.code, params)
                how = "as it is" if code == offer.code else "with this cohort's decisions"
                return Attempt(script=code, based_on=offer.sha, notes=f"approved code from the memory, {how}")
        return Attempt(script=render(*key, params), notes="written from the expert template")

    # ----- review -----
    def review(self, ctx: ReviewContext) -> Review:
        if not ctx.run_ok or ctx.checks:
            return Review(
                approved=False, suggestions=list(ctx.checks) or [f"the script failed: {ctx.run_status}"]
            )
        if self.role == "domain_expert":
            return self._domain_review(ctx)
        return Review(approved=True)

    def _terms(self, ctx: ReviewContext) -> TermSet:
        guide = ctx.reviewer_guideline
        settings = guide.settings if guide else {}
        return trait_terms(ctx.task.trait, synonyms=guide.synonyms if guide else {},
                           use_knowledge=bool(settings.get("use_knowledge_table", True)))

    def _domain_review(self, ctx: ReviewContext) -> Review:
        out, trait = ctx.output, ctx.task.trait
        guide = ctx.reviewer_guideline
        min_len = int(guide.settings.get("min_term_length", 2)) if guide else 2
        if ctx.author_role == "geo" and ctx.unit.name == "clinical_features":
            return self._review_trait_row(ctx, out, trait, min_len)
        if ctx.author_role == "tcga" and ctx.unit.name == "select_cohort" and out.get("cohort_dir") is None:
            terms = self._terms(ctx)
            matches = match_cohorts([str(c) for c in out.get("candidates", [])], terms.terms)
            if matches:
                m = matches[0]
                return Review(approved=False, patch={"extra_terms": [m.term]},
                              suggestions=[f"{m.name} fits {readable(trait)}: {m.how}"])
            return Review(
                approved=True,
                suggestions=[
                    f"no TCGA cohort is named after {readable(trait)} or a synonym ({_shown(terms)})",
                    *terms.notes,
                ],
            )
        return Review(approved=True)

    def _review_trait_row(self, ctx: ReviewContext, out: dict, trait: str, min_len: int) -> Review:
        terms = self._terms(ctx)
        rows = ctx.outputs.get("load", {}).get("rows", {})
        chosen = out.get("trait_row")
        tried = (out.get("converters") or {}).get("trait", {}).get("case") or []
        if chosen is not None:
            t_conv, _, _ = converters(out, trait)
            ok, why = row_names_trait(rows.get(str(chosen), []), t_conv, trait, terms, min_length=min_len)
            if ok:
                return Review(approved=True, suggestions=[f"row {chosen} is about {readable(trait)}: {why}"])
        for hit in find_trait_rows(rows, trait, terms, min_length=min_len):
            words = case_words(trait, hit.terms)
            if hit.classes < 2 or (hit.key == str(chosen) and set(words) <= set(tried)):
                continue
            return Review(
                approved=False,
                patch={"trait_row": hit.key, "trait_case": words},
                suggestions=[
                    (
                        f"row {hit.key} names {readable(trait)} as {', '.join(hit.terms)} "
                        f"(e.g. {'; '.join(hit.examples[:2])}): read that row with these terms "
                        "as case words"
                    )
                ],
            )
        if chosen is not None:
            return Review(
                approved=False,
                patch={"trait_row": "none"},
                suggestions=[
                    (
                        f"row {chosen} is not about {readable(trait)}: {why}; no other row listed names it, "
                        "so report the trait as not found in these rows"
                    )
                ],
            )
        return Review(
            approved=True,
            suggestions=[
                f"no row listed names {readable(trait)} or a synonym ({_shown(terms)}); "
                "the trait is not in these rows",
                *terms.notes,
            ],
        )


def _shown(terms: TermSet, n: int = 8) -> str:
    items = terms.terms
    return ", ".join(items[:n]) + (" ..." if len(items) > n else "")
