"""Build the shipped disease table from Human Disease Ontology OBO files (gzipped or plain).

``python -m omicsagent.expression.knowledge build --source DIR --out FILE`` reads every ``*.obo`` /
``*.obo.gz`` in DIR (the DO release subsets), merges the records of each DOID, drops obsolete terms and
writes a compact, deterministic ``.json.gz`` (sorted terms, gzip without a timestamp): rebuilding from
the same files gives the same bytes.

Per term: ``id``, ``name``, ``exact`` / ``related`` / ``narrow`` synonyms (BROAD synonyms are dropped:
they name something wider), ``abbr`` as ``[text, source]`` pairs and ``parents`` (``is_a``). An
abbreviation comes from
- ``acronym``: a synonym the ontology marks as an acronym (type ``OMO:0003012`` or
  ``synonymtypedef="acronym"``);
- ``caps``: an unmarked synonym of 2-8 characters with no lower-case letter (``CAKUT``);
- ``embedded``: ``"AML - acute myeloid leukemia"`` or ``"... (ARC) syndrome"``, kept only when the
  abbreviation fits the long form by the acronym rule (``CA - bone cancer`` is not kept); the long
  form is kept as a synonym.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from omicsagent.errors import InputError
from omicsagent.expression.knowledge.text import acronym_fits

FORMAT = 1
SOURCE = (
    "Human Disease Ontology (DO), https://disease-ontology.org, "
    "github.com/DiseaseOntology/HumanDiseaseOntology: the released OBO subsets"
)
LICENSE = "CC0 1.0 Universal (public domain dedication)"
_SYNONYM = re.compile(
    r'^"((?:[^"\\]|\\.)*)"\s+(EXACT|RELATED|BROAD|NARROW)\s*([^\s\[]*)\s*\[[^\]]*\]\s*(.*)$'
)
_CAPS = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Z0-9][A-Z0-9+\-]{1,7}$")
_DASHED = re.compile(r"^([A-Z][A-Z0-9]{1,7})\s+-\s+(.+)$")
_PAREN = re.compile(r"^(.+?)\s*\(([A-Z][A-Z0-9]{1,7})\)\s*(.*)$")
SCOPES = {"EXACT": "exact", "RELATED": "related", "NARROW": "narrow"}


def parse_obo(text: str) -> tuple[list[dict], str | None]:
    """``[Term]`` stanzas as dicts (id, name, synonyms ``(text, scope, is_acronym)``, parents, obsolete),
    and the ``data-version`` header."""
    version = None
    m = re.search(r"^data-version:\s*(\S+)", text, re.MULTILINE)
    if m:
        version = m.group(1)
    terms = []
    for stanza in re.split(r"\n\s*\n", text):
        lines = stanza.strip().splitlines()
        if not lines or lines[0].strip() != "[Term]":
            continue
        term: dict = {"synonyms": [], "parents": [], "obsolete": False}
        for line in lines[1:]:
            key, _, value = line.partition(": ")
            if key == "id":
                term["id"] = value.strip()
            elif key == "name":
                term["name"] = value.strip()
            elif key == "is_obsolete":
                term["obsolete"] = value.strip() == "true"
            elif key == "is_a":
                term["parents"].append(value.split("!")[0].strip())
            elif key == "synonym":
                s = _SYNONYM.match(value.strip())
                if s:
                    text_, scope, kind, rest = s.groups()
                    acronym = kind == "OMO:0003012" or 'synonymtypedef="acronym"' in rest
                    term["synonyms"].append((text_.replace('\\"', '"'), scope, acronym))
        if "id" in term and "name" in term:
            terms.append(term)
    return terms, version


def _add(bucket: list, value: str) -> None:
    if value and value not in bucket:
        bucket.append(value)


def merge_terms(records: list[dict]) -> dict[str, dict]:
    """One entry per DOID (the subsets repeat terms); obsolete terms dropped."""
    out: dict[str, dict] = {}
    for rec in records:
        if rec["obsolete"]:
            continue
        term = out.setdefault(
            rec["id"],
            {
                "id": rec["id"],
                "name": rec["name"],
                "exact": [],
                "related": [],
                "narrow": [],
                "abbr": [],
                "parents": [],
            },
        )
        for parent in rec["parents"]:
            _add(term["parents"], parent)
        for text, scope, acronym in rec["synonyms"]:
            if scope == "BROAD":
                continue
            bucket = term[SCOPES[scope]]
            if acronym:
                _add_abbr(term, text, "acronym")
            elif _CAPS.match(text):
                _add_abbr(term, text, "caps")
            elif m := _DASHED.match(text):
                _add(bucket, m.group(2))
                if acronym_fits(m.group(1), m.group(2)):
                    _add_abbr(term, m.group(1), "embedded")
            elif m := _PAREN.match(text):
                _add(bucket, text)
                if acronym_fits(m.group(2), m.group(1)):
                    _add_abbr(term, m.group(2), "embedded")
            else:
                _add(bucket, text)
    for term in out.values():
        for scope in SCOPES.values():
            term[scope] = [s for s in term[scope] if s != term["name"]]
    return out


def _add_abbr(term: dict, text: str, source: str) -> None:
    if all(a[0] != text for a in term["abbr"]):
        term["abbr"].append([text, source])


def obo_files(source: Path) -> list[Path]:
    if not source.is_dir():
        raise InputError(
            f"{source} is not a folder; pass the folder holding the Disease Ontology *.obo.gz files."
        )
    files = sorted(p for p in source.iterdir() if p.name.endswith((".obo", ".obo.gz")))
    if not files:
        raise InputError(
            f"{source} holds no *.obo or *.obo.gz file; pass the Disease Ontology subsets folder."
        )
    return files


def build_table(source: str | Path) -> dict:
    """The table as a JSON-ready dict: provenance, licence, and the terms sorted by DOID."""
    source = Path(source)
    records, versions = [], set()
    files = obo_files(source)
    for path in files:
        raw = path.read_bytes()
        try:
            text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as err:
            raise InputError(f"{path} is not a readable OBO file ({err}); download it again.") from err
        terms, version = parse_obo(text)
        records.extend(terms)
        if version:
            versions.add(re.sub(r"/subsets/.*$", "", version))
    if not records:
        raise InputError(f"No [Term] record in the OBO files of {source}; pass Disease Ontology OBO files.")
    terms = merge_terms(records)
    compact = []
    for doid in sorted(terms, key=_doid_key):
        term = terms[doid]
        compact.append({k: v for k, v in term.items() if v or k in ("id", "name")})
    return {
        "format": FORMAT,
        "source": SOURCE,
        "license": LICENSE,
        "data_version": ", ".join(sorted(versions)) or "unknown",
        "files": [p.name for p in files],
        "terms": compact,
    }


def _doid_key(doid: str) -> tuple[str, int]:
    prefix, _, number = doid.partition(":")
    return (prefix, int(number) if number.isdigit() else -1)


def write_table(table: dict, path: str | Path) -> Path:
    """Deterministic ``.json.gz`` (no timestamp in the gzip header)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(table, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode()
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    return path
