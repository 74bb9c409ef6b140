"""Text rules shared by the table builder and the matcher: folding, tokens, and the acronym rule.

- ``fold``: accents removed (``Sjögren`` -> ``Sjogren``), lower case, one character out for one in, so
  positions in the folded text are positions in the original.
- ``word_spans``: words of letters and digits (apostrophes kept inside a word, ``-``/``_``/spaces split).
- ``acronym_fits(abbr, name)``: could ``abbr`` abbreviate ``name``? Each content word of the name gives
  one chunk of the abbreviation, in order: its first letter (or the whole number, ``type 2`` -> ``2``),
  optionally followed by up to two letters that start a part of a compound after a combining vowel
  ``o`` (``colo|rectal`` gives ``CR``, ``hepato|cellular`` ``HC``, ``myelo|dysplastic`` ``MD``). So
  ``CRC`` fits "colorectal cancer", ``AD`` "Alzheimer's disease", ``T2DM`` "type 2 diabetes mellitus";
  ``CA`` does not fit "colorectal cancer" (``A`` starts no word).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from itertools import combinations

# Words an abbreviation usually skips ("head and neck cancer" -> HNC).
STOPWORDS = frozenset(
    {"of", "the", "and", "in", "with", "to", "by", "for", "or", "a", "an", "on", "due", "at"}
)
# British -> American spellings, applied to folded words (the ontology writes American English).
SPELLING = (
    ("tumour", "tumor"),
    ("behaviour", "behavior"),
    ("colour", "color"),
    ("oesophag", "esophag"),
    ("oedem", "edem"),
    ("oestr", "estr"),
    ("haem", "hem"),
    ("aemi", "emi"),
    ("paed", "ped"),
    ("foet", "fet"),
    ("coeli", "celi"),
    ("gynaec", "gynec"),
    ("diarrhoea", "diarrhea"),
    ("amoeb", "ameb"),
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def _fold_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    base = base.translate(_APOSTROPHES).lower()
    return base[:1] if base else " "


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Lower case without accents, same length as ``text`` (``"Sjögren’s"`` -> ``"sjogren's"``)."""
    return "".join(ch if ch.isascii() and not ch.isupper() else _fold_char(ch) for ch in text)


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(folded word, start, end) for every word of ``text``; positions index the original text."""
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(fold(text))]


def respell(word: str) -> str:
    """British spellings made American (``tumour`` -> ``tumor``, ``leukaemia`` -> ``leukemia``)."""
    for old, new in SPELLING:
        if old in word:
            word = word.replace(old, new)
    return word


def plain_word(word: str) -> str:
    """A folded word without apostrophes; a possessive ``'s`` is dropped (``alzheimer's`` -> alzheimer)."""
    word = word.removesuffix("'s")
    return respell(word.replace("'", ""))


def _chunks(word: str) -> tuple[str, ...]:
    """What one word may contribute to an acronym (see the module docstring)."""
    if word.isdigit():
        return (word,)
    starts = [i for i in range(1, len(word)) if word[i - 1] == "o" and word[i].isalpha() and word[i] != "o"]
    out = {word[0]}
    for r in (1, 2):
        for picked in combinations(starts, r):
            out.add(word[0] + "".join(word[i] for i in picked))
    return tuple(sorted(out, key=len, reverse=True))


def content_words(name: str) -> list[str]:
    return [w for w in (plain_word(w) for w, _, _ in word_spans(name)) if w and w not in STOPWORDS]


@lru_cache(maxsize=65536)
def acronym_fits(abbr: str, name: str) -> bool:
    """True when ``abbr`` (letters and digits; other characters ignored) can abbreviate ``name``."""
    letters = re.sub(r"[^a-z0-9]", "", fold(abbr))
    words = content_words(name)
    if len(letters) < 2 or len(words) < 2 or len(words) > len(letters):
        return False
    chunks = [_chunks(w) for w in words]

    @cache
    def fits(i: int, j: int) -> bool:
        if j == len(words):
            return i == len(letters)
        return any(letters.startswith(c, i) and fits(i + len(c), j + 1) for c in chunks[j])

    return fits(0, 0)
