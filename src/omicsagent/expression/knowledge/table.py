"""The shipped disease table, loaded once, with the indexes the resolver and the matcher use."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from omicsagent.errors import InputError
from omicsagent.expression.knowledge.text import plain_word, word_spans

TABLE_NAME = "disease_terms.json.gz"
LICENSE_NAME = "disease_ontology.LICENSE.txt"


def table_path() -> Path:
    """Where the shipped table lives (``omicsagent/expression/data/disease_terms.json.gz``)."""
    return Path(str(resources.files("omicsagent.expression").joinpath("data", TABLE_NAME)))


@dataclass(frozen=True)
class DiseaseTerm:
    """One Disease Ontology term as shipped: names, abbreviations ``(text, source)`` and ``is_a`` parents."""

    id: str
    name: str
    exact: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    narrow: tuple[str, ...] = ()
    abbreviations: tuple[tuple[str, str], ...] = ()
    parents: tuple[str, ...] = ()

    def names(self, *, related: bool = True) -> tuple[str, ...]:
        """The canonical name, the exact synonyms, then (by default) the related and narrow ones."""
        out = (self.name, *self.exact) + ((*self.related, *self.narrow) if related else ())
        return tuple(dict.fromkeys(out))


@dataclass
class DiseaseTable:
    """Terms by DOID plus the indexes: canonical word tuples -> DOIDs, abbreviations -> DOIDs, children."""

    terms: dict[str, DiseaseTerm]
    meta: dict
    vocabulary: frozenset[str] = frozenset()
    possessive: frozenset[str] = frozenset()
    by_words: dict[tuple[str, ...], list[tuple[str, str]]] = field(default_factory=dict)
    by_abbr: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    _canonical: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: dict) -> DiseaseTable:
        if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
            raise InputError(
                "The disease table has no 'terms' list; rebuild it with "
                "`python -m omicsagent.expression.knowledge build`."
            )
        terms = {}
        for t in data["terms"]:
            terms[t["id"]] = DiseaseTerm(
                id=t["id"],
                name=t["name"],
                exact=tuple(t.get("exact", ())),
                related=tuple(t.get("related", ())),
                narrow=tuple(t.get("narrow", ())),
                abbreviations=tuple((a, s) for a, s in t.get("abbr", ())),
                parents=tuple(t.get("parents", ())),
            )
        meta = {k: v for k, v in data.items() if k != "terms"}
        table = cls(terms=terms, meta=meta)
        table._index()
        return table

    def _index(self) -> None:
        raw_words, possessive = set(), set()
        for term in self.terms.values():
            for name in term.names():
                for word, _, _ in word_spans(name):
                    if word.endswith("'s"):
                        possessive.add(plain_word(word))
                    raw_words.add(plain_word(word))
        self.vocabulary, self.possessive = frozenset(raw_words), frozenset(possessive)
        by_words: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
        by_abbr: dict[str, list[str]] = defaultdict(list)
        children: dict[str, list[str]] = defaultdict(list)
        for term in self.terms.values():
            for kind, names in (
                ("name", (term.name,)),
                ("exact synonym", term.exact),
                ("related synonym", term.related),
                ("narrow synonym", term.narrow),
            ):
                for name in names:
                    key = self.words(name)
                    if key and (term.id, kind) not in by_words[key]:
                        by_words[key].append((term.id, kind))
            for abbr, _ in term.abbreviations:
                if term.id not in by_abbr[abbr]:
                    by_abbr[abbr].append(term.id)
            for parent in term.parents:
                children[parent].append(term.id)
        self.by_words, self.by_abbr, self.children = dict(by_words), dict(by_abbr), dict(children)

    def canonical(self, word: str) -> str:
        cached = self._canonical.get(word)
        if cached is None:
            if len(self._canonical) > 200_000:
                self._canonical.clear()
            cached = self._canonical[word] = self._canonical_form(word)
        return cached

    def _canonical_form(self, word: str) -> str:
        """A folded word in the form names are indexed by: no apostrophe or possessive
        (``alzheimers`` -> ``alzheimer`` because the ontology writes "Alzheimer's"), American spelling,
        a plural ``s`` dropped when the singular is an ontology word (``tumors`` -> ``tumor``)."""
        word = plain_word(word)
        if word.endswith("s") and len(word) > 3:
            stem = word[:-1]
            if stem in self.possessive:
                return stem
            if not word.endswith(("ss", "us", "is")) and stem in self.vocabulary:
                return stem
        return word

    def words(self, text: str) -> tuple[str, ...]:
        return tuple(self.canonical(w) for w, _, _ in word_spans(text))

    def descendants(self, doid: str, *, limit: int = 400) -> list[str]:
        """DOIDs below ``doid`` (breadth first, at most ``limit``)."""
        out, queue, seen = [], list(self.children.get(doid, ())), {doid}
        while queue and len(out) < limit:
            nxt = queue.pop(0)
            if nxt in seen:
                continue
            seen.add(nxt)
            out.append(nxt)
            queue.extend(self.children.get(nxt, ()))
        return out


def read_table(path: str | Path) -> DiseaseTable:
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path} does not exist; build it with `python -m omicsagent.expression.knowledge build`."
        )
    try:
        data = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, ValueError) as err:
        raise InputError(f"{path} is not a gzipped JSON disease table ({err}); rebuild it.") from err
    return DiseaseTable.from_dict(data)


@lru_cache(maxsize=4)
def _cached(path: str) -> DiseaseTable:
    return read_table(path)


@lru_cache(maxsize=1)
def _shipped() -> DiseaseTable:
    return _cached(str(table_path()))


def load_table(path: str | Path | None = None) -> DiseaseTable:
    """The shipped table (or the one at ``path``), read once per process."""
    return _shipped() if path is None else _cached(str(Path(path)))
