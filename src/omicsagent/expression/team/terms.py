"""What a trait is called, and whether a sample row or a cohort name is about it (the domain expert's).

Terms come from the trait's own name, the domain expert's guideline (``[synonyms]``) and the shipped
knowledge table ``omicsagent.expression.knowledge`` (Human Disease Ontology). Of that table only
``trait_terms(trait)`` is used: an object with ``names``, ``abbreviations``, ``narrower`` (names of more
specific diseases), ``canonical``, ``doids`` and ``how``. Names match case-insensitively on whole words;
abbreviations match case-sensitively as whole tokens (``AD`` is not "ad libitum").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from omicsagent.expression.pp.converters import CASE_TERMS, Converter, split_cell

# Case words that say nothing about which disease: a row read through these only (``smoking: yes``) is
# about something else unless it names the trait.
WEAK_CASE_WORDS = frozenset({"yes", "positive", "present", "case"})
_ABBREVIATION = re.compile(r"^[A-Z0-9][A-Za-z0-9\-]{0,9}$")


@dataclass
class TermSet:
    trait: str
    names: list[str]
    abbreviations: list[str]
    sources: dict[str, str] = field(default_factory=dict)  # term -> where it came from
    notes: list[str] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        return sorted({*self.names, *self.abbreviations}, key=lambda t: (-len(t), t))


def readable(trait: str) -> str:
    return re.sub(r"[\s_]+", " ", trait).strip()


def knowledge_terms(trait: str) -> tuple[list[str], list[str], str]:
    """(names, abbreviations, a note saying what the knowledge table made of the trait)."""
    try:
        from omicsagent.expression import knowledge  # built from the Human Disease Ontology (CC0)
    except ImportError:
        return [], [], "the knowledge table omicsagent.expression.knowledge is not installed"
    t = knowledge.trait_terms(trait)
    names = [*getattr(t, "names", ()), *getattr(t, "narrower", ())]
    abbreviations = list(getattr(t, "abbreviations", ()))
    doids = ", ".join(getattr(t, "doids", ())) or "no ontology term"
    note = f"knowledge table: {getattr(t, 'canonical', trait)} ({doids}; {getattr(t, 'how', '')})"
    return [str(n) for n in names if str(n).strip()], [str(a) for a in abbreviations if str(a).strip()], note


def trait_terms(
    trait: str, *, synonyms: dict[str, list[str]] | None = None, use_knowledge: bool = True
) -> TermSet:
    names, abbreviations = [readable(trait)], []
    sources = {readable(trait): "trait name"}
    notes = []
    for key, words in (synonyms or {}).items():
        if re.sub(r"[\s_]+", "_", key).lower() == trait.lower():
            for w in map(str, words):
                (abbreviations if _ABBREVIATION.match(w) and w.upper() == w else names).append(w)
                sources.setdefault(w, "domain expert guideline")
    if use_knowledge:
        more_names, more_abbr, note = knowledge_terms(trait)
        notes.append(note)
        for w in more_names:
            names.append(w)
            sources.setdefault(w, "knowledge table")
        for w in more_abbr:
            abbreviations.append(w)
            sources.setdefault(w, "knowledge table")
    return TermSet(trait, list(dict.fromkeys(names)), list(dict.fromkeys(abbreviations)), sources, notes)


def mentions(text: object, terms: TermSet, *, min_length: int = 2) -> list[str]:
    """The trait's names and abbreviations found in a text."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    raw = re.sub(r"['\u2019`]", "", str(text))  # GenoTEX trait names drop apostrophes: Crohn's -> Crohns
    low = raw.lower()
    found = [n for n in terms.names
             if len(n) >= min_length and re.search(rf"(?<![a-z0-9]){re.escape(n.lower())}(?![a-z0-9])", low)]
    found += [a for a in terms.abbreviations
              if len(a) >= min_length and re.search(rf"(?<![A-Za-z0-9]){re.escape(a)}(?![A-Za-z0-9])", raw)]
    return found


@dataclass
class RowHit:
    key: str
    terms: list[str]  # the trait terms the row names
    examples: list[str]
    classes: int  # distinct values the converter with these terms gives on the row's listed values


def case_words(trait: str, extra: list[str]) -> list[str]:
    """Case words when a row names the trait by other terms: those terms, the usual case words and the
    trait's own words (as ``trait_converter`` adds them by default)."""
    own = [w.lower() for w in re.split(r"[_\W]+", trait) if len(w) >= 4]
    return list(dict.fromkeys([*(t.lower() for t in extra), *CASE_TERMS, *own]))


def find_trait_rows(
    rows: dict[str, list], trait: str, terms: TermSet, *, min_length: int = 2
) -> list[RowHit]:
    """Rows of a load preview whose values name the trait, best first: rows where the converter with
    those terms as case words finds two classes, then by how many values name it."""
    from omicsagent.expression.pp.converters import trait_converter

    hits = []
    for key, values in rows.items():
        named: dict[str, None] = {}
        examples = []
        for v in values:
            found = mentions(split_cell(v)[1], terms, min_length=min_length) or mentions(
                v, terms, min_length=min_length
            )
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


def row_names_trait(values: list, convert: Converter, trait: str, terms: TermSet, *,
                    min_length: int = 2) -> tuple[bool, str]:
    """Is a row about the trait? Yes when it names the trait (or a synonym), or when its case cells are
    read through words that describe a disease state (patient, tumour, cancer, ...); no when they are
    read through words such as yes/positive alone (``smoking status: yes`` is about smoking)."""
    for v in values:
        if mentions(v, terms, min_length=min_length):
            return True, f"it names {readable(trait)} ({v})"
    cases = [v for v in values if convert(v) == 1.0]
    if not cases:
        return False, "no value reads as a case"
    strong = [w for w in (*CASE_TERMS, *(w.lower() for w in re.split(r"[_\W]+", trait) if len(w) >= 4))
              if w not in WEAK_CASE_WORDS]
    for v in cases:
        text = (split_cell(v)[1] or "").lower()
        if any(re.search(rf"(?<![a-z]){re.escape(w)}", text) for w in strong):
            return True, f"its cases read as a disease state ({v})"
    return (
        False,
        f"its cases are read only through words such as yes/positive ({'; '.join(map(str, cases[:2]))})",
    )


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
