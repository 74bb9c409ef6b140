"""Resolve a trait to its disease names and find them in sample text (titles, characteristics, ...)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from omicsagent.expression.knowledge.table import DiseaseTable, load_table
from omicsagent.expression.knowledge.text import acronym_fits, fold, word_spans
from omicsagent.expression.pp.converters import CONTROL_TERMS, TraitConverter, split_cell

KIND_ORDER = ("name", "exact synonym", "related synonym", "narrow synonym")
_PAREN_HINT = re.compile(r"^(.*?)[\s_]*\(([^()]*)\)[\s_]*$")
_ABBR_LIKE = re.compile(r"^[A-Z][A-Z0-9\-]{1,9}$")
_DOID = re.compile(r"^DOID:\d+$", re.IGNORECASE)
_UPPER_TOKEN = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)(?![A-Za-z0-9])")
_NEGATION_BEFORE = re.compile(
    r"(?:(?<![a-z0-9])(?:non|not|no|without|free of|negative for|absence of|excluding|never)"
    r"|(?<![A-Za-z0-9])(?:NON|NOT|NO))[\s\-_]*$"
)
_NEGATION_AFTER = re.compile(r"^[\s\-_]*(?:free|negative)(?![a-z])")


@dataclass(frozen=True)
class TraitTerms:
    """What a trait is called. ``names`` and ``abbreviations`` are what ``match_text`` looks for.

    ``how``: ``name``, ``exact synonym``, ``related synonym``, ``narrow synonym`` (the trait phrase
    equals one of these of a term), ``abbreviation`` (the trait is an abbreviation in the table),
    ``words of a longer name`` (a trait of three or more words whose words are all in a name with
    one more word, e.g. "Large B-cell Lymphoma" in "diffuse large B-cell lymphoma"; shorter traits
    are not extended, "Mesothelioma" is not "benign mesothelioma"),
    ``contains a name`` (the trait holds a whole name of two or more words of another term, e.g.
    "Polycystic Kidney Disease" holds "kidney disease": that term's names go to ``partial`` and are
    not matched, since they would call other diseases cases), or ``not in the table`` (then only
    the trait's own words are used). ``canonical`` is the term's name, or the trait phrase when no
    term fits well enough; ``resolved`` is true when a term's names are matched.
    """

    trait: str
    query: str
    canonical: str
    doids: tuple[str, ...]
    how: str
    matched: str | None
    names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    narrower: tuple[str, ...] = ()
    partial: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        return bool(self.doids) and self.how != "contains a name"

    def fits_abbreviation(self, token: str) -> bool:
        """``token`` is a listed abbreviation, or fits a multi-word name by the acronym rule."""
        if token in self.abbreviations:
            return True
        return any(acronym_fits(token, name) for name in self.acronym_sources)

    @property
    def acronym_sources(self) -> tuple[str, ...]:
        """Names the acronym rule may abbreviate: the canonical name, exact synonyms, the trait phrase."""
        return self._sources

    _sources: tuple[str, ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class Match:
    """One hit in a text. ``kind``: ``name`` (canonical name or the trait's own words), ``synonym``,
    ``narrower`` (a name of a more specific term), ``abbreviation`` (listed in the table),
    ``acronym`` (an upper-case token fitting a name by the acronym rule), ``negated`` (a trait mention
    after ``non-``/``no``/``without``... or before ``-free``/``negative``) or ``control`` (a control
    word such as control, healthy, normal, ``non-``). ``start``/``end`` index the original text."""

    kind: str
    text: str
    start: int
    end: int
    term: str
    how: str

    @property
    def is_control(self) -> bool:
        return self.kind in ("control", "negated")

    @property
    def is_trait(self) -> bool:
        return self.kind in ("name", "synonym", "narrower", "abbreviation", "acronym")


def _query(trait: str) -> tuple[str, str | None]:
    """GenoTEX names: ``_`` -> space; ``Autism_spectrum_disorder_(ASD)`` -> phrase + abbreviation hint."""
    text = str(trait).strip()
    hint = None
    m = _PAREN_HINT.match(text)
    if m and m.group(1):
        text, inner = m.group(1), m.group(2).strip()
        hint = inner if _ABBR_LIKE.match(inner.replace(" ", "")) else None
        if hint is None:
            text = f"{text} {inner}"
    return re.sub(r"[\s_]+", " ", text).strip(), hint


def _best(table: DiseaseTable, hits: list[tuple[str, str]]) -> tuple[list[str], str]:
    rank = min(KIND_ORDER.index(kind) for _, kind in hits)
    doids = list(dict.fromkeys(d for d, kind in hits if KIND_ORDER.index(kind) == rank))
    return doids, KIND_ORDER[rank]


def _resolve(table: DiseaseTable, query: str, hint: str | None) -> tuple[list[str], str, str | None]:
    if _DOID.match(query) and query.upper() in table.terms:
        return [query.upper()], "DOID", query.upper()
    key = table.words(query)
    if key in table.by_words:
        doids, how = _best(table, table.by_words[key])
        return doids, how, query
    compact = query.replace(" ", "")
    for abbr in (hint, compact if _ABBR_LIKE.match(compact) else None):
        if abbr and abbr in table.by_abbr:
            return list(table.by_abbr[abbr]), "abbreviation", abbr
    if not key:
        return [], "not in the table", None
    wanted = set(key)
    longer = [
        (len(k) - len(wanted), KIND_ORDER.index(kind), d, k)
        for k, hits in table.by_words.items()
        if len(wanted) >= 3 and len(k) <= len(key) + 1 and wanted <= set(k)
        for d, kind in hits
    ]
    if longer:
        best = min(longer, key=lambda x: (x[0], x[1], x[3], x[2]))
        tied = [x[2] for x in longer if x[:2] == best[:2] and x[3] == best[3]]
        return list(dict.fromkeys(tied)), "words of a longer name", " ".join(best[3])
    inner = [
        (-len(k), KIND_ORDER.index(kind), d, k)
        for k, hits in table.by_words.items()
        if len(k) >= 2 and _contains(key, k)
        for d, kind in hits
    ]
    if inner:
        best = min(inner, key=lambda x: (x[0], x[1], x[3], x[2]))
        tied = [x[2] for x in inner if x[:2] == best[:2] and x[3] == best[3]]
        return list(dict.fromkeys(tied)), "contains a name", " ".join(best[3])
    return [], "not in the table", None


def _contains(seq: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(seq[i : i + n] == part for i in range(len(seq) - n + 1))


def _build_terms(trait: str, table: DiseaseTable) -> TraitTerms:
    query, hint = _query(trait)
    doids, how, matched = _resolve(table, query, hint)
    terms = [table.terms[d] for d in doids]
    partial: list[str] = []
    notes = []
    if how == "contains a name":  # a wider term: its names would call other diseases cases
        partial = [n for t in terms for n in t.names()]
        notes.append(
            f"the trait contains the name {matched!r} of a wider term; only the trait's own words are matched"
        )
        terms = []
    elif how == "words of a longer name":
        notes.append(f"no term is named {query!r}; the closest name has one more word: {matched!r}")
    names = [t.name for t in terms] + [n for t in terms for n in t.names()[1:]]
    abbreviations = [a for t in terms for a, _ in t.abbreviations]
    for extra in (hint, query if _ABBR_LIKE.match(query) else None):
        if extra:
            abbreviations.append(extra)
    if query and not _ABBR_LIKE.match(query) and table.words(query) not in {table.words(n) for n in names}:
        names.append(query)
    narrower = []
    for t in terms:
        for child in table.descendants(t.id):
            narrower.extend(table.terms[child].names())
    sources = [t.name for t in terms] + [n for t in terms for n in t.exact] + [query]
    if len(doids) > 1:
        notes.append(f"{len(doids)} terms share {matched!r}: {', '.join(doids)}")
    return TraitTerms(
        trait=trait,
        query=query,
        canonical=terms[0].name if terms else query,
        doids=tuple(doids),
        how=how,
        matched=matched,
        names=tuple(dict.fromkeys(names)),
        abbreviations=tuple(dict.fromkeys(abbreviations)),
        narrower=tuple(n for n in dict.fromkeys(narrower) if n not in names),
        partial=tuple(dict.fromkeys(partial)),
        notes=tuple(notes),
        _sources=tuple(dict.fromkeys(s for s in sources if s)),
    )


@lru_cache(maxsize=512)
def _default_terms(trait: str) -> TraitTerms:
    return _build_terms(trait, load_table())


def trait_terms(trait: str, *, table: DiseaseTable | None = None) -> TraitTerms:
    """Resolve a trait (``Alzheimers_Disease``, ``Type 2 Diabetes``, ``COPD``, ``DOID:9256``) against
    the disease table; never raises for an unknown trait (``how == "not in the table"``)."""
    return _default_terms(str(trait)) if table is None else _build_terms(str(trait), table)


@dataclass
class _Patterns:
    """Per-trait lookups for match_text: canonical word tuples -> (name, kind, how)."""

    names: dict[tuple[str, ...], tuple[str, str, str]]
    longest: int
    abbreviations: tuple[str, ...]


_PATTERNS: dict[tuple[TraitTerms, int], tuple[DiseaseTable, _Patterns]] = {}


def _patterns(terms: TraitTerms, table: DiseaseTable) -> _Patterns:
    cached = _PATTERNS.get((terms, id(table)))
    if cached is not None and cached[0] is table:
        return cached[1]
    if len(_PATTERNS) > 512:
        _PATTERNS.clear()
    names: dict[tuple[str, ...], tuple[str, str, str]] = {}
    canonical = {table.words(terms.canonical)}
    listed = [(n, "narrower", "a more specific term") for n in terms.narrower]
    for name in terms.names:
        key = table.words(name)
        if key in canonical or name == terms.query:
            listed.append((name, "name", "canonical name" if key in canonical else "the trait's own words"))
        else:
            listed.append((name, "synonym", "synonym in the ontology"))
    for name, kind, how in listed:
        key = table.words(name)
        if not key or (len(key) == 1 and len(key[0]) <= 3):
            continue  # one short word is an abbreviation, matched with case rules instead
        if key not in names or kind != "narrower":
            names[key] = (name, kind, how)
    pats = _Patterns(names, max((len(k) for k in names), default=0), terms.abbreviations)
    _PATTERNS[(terms, id(table))] = (table, pats)
    return pats


def _cue_pattern(cue: str) -> re.Pattern:
    c = cue.strip()
    if cue.endswith(("-", " ")):  # a prefix such as "non-"
        return re.compile(rf"(?<![a-z0-9]){re.escape(c.rstrip('-'))}[\-\s]")
    if c in ("no", "none"):  # "no" but not "No. 3"
        return re.compile(rf"(?<![a-z0-9]){c}(?![a-z0-9.])(?!\s*\d)")
    if len(c) <= 4:
        return re.compile(rf"(?<![a-z0-9]){re.escape(c)}(?![a-z0-9])")
    return re.compile(rf"(?<![a-z0-9]){re.escape(c)}")


_CUES = tuple((cue, _cue_pattern(cue)) for cue in CONTROL_TERMS)


def _control_cues(folded: str) -> list[tuple[int, int, str]]:
    unique: dict[tuple[int, int], str] = {}
    for cue, pattern in _CUES:
        for m in pattern.finditer(folded):
            unique.setdefault(m.span(), cue)
    return [(s, e, c) for (s, e), c in unique.items()]


def _overlaps(span: tuple[int, int], taken: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def match_text(trait: str | TraitTerms, text: object, *, table: DiseaseTable | None = None) -> list[Match]:
    """Every mention of the trait (names, synonyms, narrower names, abbreviations, acronyms) and every
    control cue in ``text``, in order of position.

    Names match whole words, case-insensitively, ignoring accents, apostrophes, ``_``/``-``
    separators, British spellings and plural ``s``. Abbreviations match case-sensitively as whole
    tokens (``AD`` matches "AD_3" and "AD patient", never "ADVANCED", "head" or "ad"); an abbreviation
    of three or more characters may carry a sample number ("CRC12"). In a text without lower-case
    letters, an abbreviation that is also an ordinary word of disease names ("COLD") is not taken.
    Control words inside a trait name ("non-" in "non-insulin-dependent diabetes") are not cues.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    text = str(text)
    terms = trait if isinstance(trait, TraitTerms) else trait_terms(trait, table=table)
    table = table or load_table()
    pats = _patterns(terms, table)
    folded = fold(text)
    all_caps = not any(ch.islower() for ch in text)
    found: list[Match] = []
    taken: list[tuple[int, int]] = []

    spans = word_spans(text)
    words = [table.canonical(w) for w, _, _ in spans]
    i = 0
    while i < len(words):
        for length in range(min(pats.longest, len(words) - i), 0, -1):
            hit = pats.names.get(tuple(words[i : i + length]))
            if hit:
                start, end = spans[i][1], spans[i + length - 1][2]
                found.append(Match(hit[1], text[start:end], start, end, hit[0], hit[2]))
                taken.append((start, end))
                i += length
                break
        else:
            i += 1

    for abbr in pats.abbreviations:
        if all_caps and fold(abbr) in table.vocabulary:
            continue
        number = r"\d*" if len(re.sub(r"[^A-Za-z]", "", abbr)) >= 3 and not abbr[-1].isdigit() else ""
        for m in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(abbr)}{number}(?![A-Za-z0-9])", text):
            if not _overlaps(m.span(), taken):
                found.append(
                    Match("abbreviation", m.group(), m.start(), m.end(), abbr, "abbreviation in the ontology")
                )
                taken.append(m.span())

    for m in _UPPER_TOKEN.finditer(text):
        token = m.group(1)
        if _overlaps(m.span(), taken) or (all_caps and fold(token) in table.vocabulary):
            continue
        base = token
        stripped = re.sub(r"\d+$", "", token)
        candidates = [token] + ([stripped] if stripped != token and len(stripped) >= 3 else [])
        for cand in candidates:
            source = next((n for n in terms.acronym_sources if acronym_fits(cand, n)), None)
            if source:
                found.append(Match("acronym", base, m.start(), m.end(), cand, f"acronym of {source!r}"))
                taken.append(m.span())
                break

    for idx, match in enumerate(found):
        before, after = folded[: match.start], folded[match.end :]
        if _NEGATION_BEFORE.search(before[-20:]) or _NEGATION_AFTER.match(after):
            found[idx] = Match(
                "negated", match.text, match.start, match.end, match.term, f"negated {match.kind}"
            )
    for start, end, cue in _control_cues(folded):
        if not _overlaps((start, end), taken):
            found.append(Match("control", text[start:end], start, end, cue, "control word"))
    return sorted(found, key=lambda m: (m.start, m.end))


def classify_text(
    trait: str | TraitTerms, text: object, *, table: DiseaseTable | None = None
) -> float | None:
    """0.0 when the text has a control cue or a negated mention (checked first, as the toolkit's
    converters do), 1.0 when it mentions the trait, None otherwise."""
    return _label(match_text(trait, text, table=table))


_YES_NO = TraitConverter(
    case=("yes", "positive", "present", "affected", "diagnosed", "true"),
    control=("no", "negative", "absent", "unaffected", "none", "false"),
)


def _label(hits: list[Match]) -> float | None:
    if any(m.is_control for m in hits):
        return 0.0
    if any(m.is_trait for m in hits):
        return 1.0
    return None


def _read_cell(
    terms: TraitTerms, cell: object, table: DiseaseTable | None
) -> tuple[float | None, tuple[str, ...], tuple[str, ...]]:
    """(label, trait words, control words) of one cell; see ``text_converter``."""
    key, value = split_cell(cell)
    if value is None:
        return None, (), ()
    if key:  # split_cell lower-cases the key; abbreviations need its original case
        raw_key = str(cell).split(":", 1)[0]
        key_hits = [m for m in match_text(terms, raw_key, table=table) if m.is_trait]
        answer = _YES_NO(value) if key_hits else None
        if answer is not None:
            named = tuple(m.text for m in key_hits)
            return answer, named if answer else (), () if answer else (value,)
    hits = match_text(terms, value, table=table)
    answer = _label(hits)
    if answer is None and key is not None:
        hits = match_text(terms, str(cell), table=table)
        answer = _label(hits)
    return (
        answer,
        tuple(m.text for m in hits if m.is_trait) if answer == 1.0 else (),
        tuple(m.text for m in hits if m.is_control) if answer == 0.0 else (),
    )


def text_converter(
    trait: str | TraitTerms, *, table: DiseaseTable | None = None
) -> Callable[[object], float | None]:
    """A converter for ``pp.select_geo_features``: one cell (``"key: value"`` or free text) -> 1.0 / 0.0
    / None. The value is read with ``classify_text`` (then the whole cell); when the key names the
    trait (``"AD: yes"``, ``"T2D: no"``) the value is read as yes/no."""
    terms = trait if isinstance(trait, TraitTerms) else trait_terms(trait, table=table)

    def convert(cell: object) -> float | None:
        return _read_cell(terms, cell, table)[0]

    return convert


@dataclass(frozen=True)
class RowScan:
    """How one sample row reads as the trait: counts of case / control / unreadable cells, the words
    that decided, and up to five distinct values as examples."""

    key: object
    n_case: int
    n_control: int
    n_unknown: int
    case_terms: tuple[str, ...]
    control_terms: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def two_classes(self) -> bool:
        return self.n_case > 0 and self.n_control > 0

    @property
    def coverage(self) -> float:
        total = self.n_case + self.n_control + self.n_unknown
        return (self.n_case + self.n_control) / total if total else 0.0


def scan_rows(
    trait: str | TraitTerms, rows: pd.DataFrame, *, table: DiseaseTable | None = None
) -> list[RowScan]:
    """Read every row of ``SeriesMatrix.clinical_rows()`` (characteristics rows, then title,
    source_name_ch1, description) with ``text_converter``; rows with both classes first, then by
    coverage. Use it to choose ``--trait-row`` and the words for ``--trait-case``/``--trait-control``."""
    terms = trait if isinstance(trait, TraitTerms) else trait_terms(trait, table=table)
    seen: dict[str, tuple[float | None, tuple[str, ...], tuple[str, ...]]] = {}
    out = []
    for key, row in rows.iterrows():
        cells = [str(c) for c in row.tolist() if not pd.isna(c) and str(c).strip()]
        counts = {1.0: 0, 0.0: 0, None: 0}
        case_terms: dict[str, None] = {}
        control_terms: dict[str, None] = {}
        for cell in cells:
            if cell not in seen:
                seen[cell] = _read_cell(terms, cell, table)
            label, trait_words, control_words = seen[cell]
            counts[label] += 1
            case_terms.update(dict.fromkeys(trait_words))
            control_terms.update(dict.fromkeys(control_words))
        out.append(
            RowScan(
                key,
                counts[1.0],
                counts[0.0],
                counts[None],
                tuple(case_terms)[:10],
                tuple(control_terms)[:10],
                tuple(dict.fromkeys(cells))[:5],
            )
        )
    return sorted(out, key=lambda s: (not s.two_classes, -s.coverage))
