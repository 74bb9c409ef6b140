"""What a trait is called: its name, the domain expert's synonyms and the shipped knowledge table.

The knowledge table is ``omicsagent.expression.knowledge`` (disease names, synonyms and abbreviations
from the Human Disease Ontology); this module assumes only ``trait_terms(text) -> iterable of str``.
The domain expert's guideline can add terms per trait (``[synonyms]``). Matching is case-insensitive on
whole words, so "RCC" matches "RCC" and "rcc" but not "ccRCC" (list that one too if it is meant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from omicsagent.expression.pp.converters import CASE_TERMS, split_cell, trait_converter


@dataclass
class TermSet:
    trait: str
    terms: list[str]  # longest first
    sources: dict[str, str] = field(default_factory=dict)  # term -> where it came from
    notes: list[str] = field(default_factory=list)


def readable(trait: str) -> str:
    return trait.replace("_", " ").strip()


def knowledge_terms(trait: str) -> tuple[list[str], str | None]:
    """Terms from the shipped knowledge table, or ([], why not)."""
    try:
        from omicsagent.expression import knowledge  # built from the Human Disease Ontology
    except ImportError:
        return [], "the knowledge table omicsagent.expression.knowledge is not installed"
    found = knowledge.trait_terms(readable(trait))
    return sorted({str(t).strip() for t in (found or ()) if str(t).strip()}), None


def trait_terms(
    trait: str, *, synonyms: dict[str, list[str]] | None = None, use_knowledge: bool = True
) -> TermSet:
    sources: dict[str, str] = {readable(trait): "trait name"}
    notes = []
    for key, words in (synonyms or {}).items():
        if key.replace(" ", "_").lower() == trait.lower():
            for w in words:
                sources.setdefault(str(w), "domain expert guideline")
    if use_knowledge:
        words, why = knowledge_terms(trait)
        if why:
            notes.append(why)
        for w in words:
            sources.setdefault(w, "knowledge table")
    terms = sorted(sources, key=lambda t: (-len(t), t.lower()))
    return TermSet(trait=trait, terms=terms, sources=sources, notes=notes)


def _pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(term.lower())}(?![a-z0-9])")


def value_mentions(value: object, terms: list[str], *, min_length: int = 2) -> list[str]:
    """The terms named in the value part of one cell (``key: value``)."""
    _, text = split_cell(value)
    if not text:
        return []
    low = text.lower()
    return [t for t in terms if len(t) >= min_length and _pattern(t).search(low)]


@dataclass
class RowHit:
    key: str
    terms: list[str]
    examples: list[str]
    classes: int  # distinct values the converter with these terms gives on the row's preview


def case_words(trait: str, extra: list[str]) -> list[str]:
    """Case words when a row names the trait by another term: those terms, the usual case words and the
    trait's own words (as ``trait_converter`` adds them by default)."""
    own = [w.lower() for w in re.split(r"[_\W]+", trait) if len(w) >= 4]
    return list(dict.fromkeys([*(t.lower() for t in extra), *CASE_TERMS, *own]))


def find_trait_rows(rows: dict[str, list], trait: str, terms: list[str], *, min_length: int = 2) -> list[RowHit]:
    """Rows of a load preview whose values name the trait (by any term), best first: rows where the
    converter with those terms finds two classes, then by how many values name it."""
    hits = []
    for key, values in rows.items():
        named: dict[str, None] = {}
        examples = []
        for v in values:
            found = value_mentions(v, terms, min_length=min_length)
            if found:
                named.update(dict.fromkeys(found))
                examples.append(str(v))
        if not named:
            continue
        conv = trait_converter(trait, case=case_words(trait, list(named)))
        classes = len({c for c in (conv(v) for v in values) if c is not None})
        hits.append(RowHit(str(key), list(named), examples[:5], classes))
    hits.sort(key=lambda h: (h.classes >= 2, len(h.examples)), reverse=True)
    return hits


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def cohort_code(name: str) -> str | None:
    """``TCGA_Bile_Duct_Cancer_(CHOL)`` -> ``CHOL``."""
    m = re.search(r"\(([A-Za-z0-9]+)\)\s*$", name)
    return m.group(1) if m else None


@dataclass
class CohortMatch:
    name: str
    term: str
    how: str


def match_cohorts(names: list[str], terms: list[str]) -> list[CohortMatch]:
    """Cohort folders named after the trait: a term (3+ characters) inside the folder's disease name, or
    equal to its code in parentheses. Longest matching term first."""
    out = []
    for name in sorted(names):
        code = cohort_code(name)
        body = _norm(re.sub(r"^TCGA[_\s-]*", "", re.sub(r"\([^)]*\)\s*$", "", name), flags=re.IGNORECASE))
        best = None
        for term in terms:
            t = _norm(term)
            if len(t) < 3:
                continue
            if code and t == code.lower():
                cand = CohortMatch(name, term, f"the cohort code {code} is the trait's abbreviation {term!r}")
            elif t in body:
                cand = CohortMatch(name, term, f"the cohort name contains {term!r}")
            else:
                continue
            if best is None or len(_norm(cand.term)) > len(_norm(best.term)):
                best = cand
        if best is not None:
            out.append(best)
    out.sort(key=lambda m: -len(_norm(m.term)))
    return out
