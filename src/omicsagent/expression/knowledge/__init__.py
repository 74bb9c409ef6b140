"""Disease and phenotype names, synonyms and abbreviations, and finding them in sample text.

Source and licence: the table ``omicsagent/expression/data/disease_terms.json.gz`` is built from the
released OBO subsets of the Human Disease Ontology (DO, https://disease-ontology.org,
github.com/DiseaseOntology/HumanDiseaseOntology), which is dedicated to the public domain under
CC0 1.0 Universal; the licence text ships beside the table (``disease_ontology.LICENSE.txt``) and
``data/README.md`` says which release and files. No rule or entry here is fitted to any cohort.
Rebuild: ``python -m omicsagent.expression.knowledge build --source DIR`` (docs/knowledge.md).

API (all pure functions over the shipped table; pass ``table=`` to use another one):

- ``trait_terms(trait: str, *, table=None) -> TraitTerms``: resolve a trait written as GenoTEX does
  (``Alzheimers_Disease``, ``Type_2_Diabetes``, ``Autism_spectrum_disorder_(ASD)``), as plain text,
  as an abbreviation (``COPD``) or as a DOID. ``TraitTerms`` has ``canonical``, ``names`` (canonical
  name, synonyms, the trait's own words), ``abbreviations``, ``narrower`` (names of more specific
  terms), ``doids``, ``how`` (how it matched), ``matched``, ``resolved`` and ``fits_abbreviation(tok)``.
- ``match_text(trait, text, *, table=None) -> list[Match]``: every mention of the trait and every
  control cue in one text; ``Match`` has ``kind`` (name, synonym, narrower, abbreviation, acronym,
  negated, control), ``text``, ``start``, ``end``, ``term``, ``how``, ``is_trait``, ``is_control``.
- ``classify_text(trait, text, *, table=None) -> float | None``: 0.0 control (checked first),
  1.0 case, None unknown.
- ``text_converter(trait, *, table=None) -> Callable[[object], float | None]``: a cell converter for
  ``pp.select_geo_features`` built on ``classify_text``.
- ``scan_rows(trait, rows: pd.DataFrame, *, table=None) -> list[RowScan]``: how every sample row reads
  as the trait (``n_case``, ``n_control``, ``n_unknown``, ``case_terms``, ``control_terms``,
  ``examples``, ``two_classes``, ``coverage``), best rows first.
- ``load_table(path=None) -> DiseaseTable`` (``terms`` by DOID, ``meta`` with source and licence),
  ``table_path()``, ``license_path()``, ``build_table(source_dir) -> dict``,
  ``write_table(table, path) -> Path``.

Matching rules (``match_text``): names are whole words, case-insensitive, accent-, apostrophe-,
separator-, British-spelling- and plural-tolerant; abbreviations are case-sensitive whole tokens
(``AD`` never inside "ADVANCED" or "head"; three or more letters may carry a sample number, "CRC12");
an upper-case token that is not listed counts when it fits a name by the acronym rule (``CRC`` for
"colorectal cancer", see ``knowledge.text``); control words inside a trait name are not cues.
"""

from __future__ import annotations

from pathlib import Path

from omicsagent.expression.knowledge.build import build_table, write_table
from omicsagent.expression.knowledge.match import (
    Match,
    RowScan,
    TraitTerms,
    classify_text,
    match_text,
    scan_rows,
    text_converter,
    trait_terms,
)
from omicsagent.expression.knowledge.table import (
    LICENSE_NAME,
    DiseaseTable,
    DiseaseTerm,
    load_table,
    table_path,
)


def license_path() -> Path:
    """The CC0 licence text of the Disease Ontology, shipped beside the table."""
    return table_path().with_name(LICENSE_NAME)


__all__ = [
    "DiseaseTable",
    "DiseaseTerm",
    "Match",
    "RowScan",
    "TraitTerms",
    "build_table",
    "classify_text",
    "license_path",
    "load_table",
    "match_text",
    "scan_rows",
    "table_path",
    "text_converter",
    "trait_terms",
    "write_table",
]
