"""Probe -> gene mapping: is it needed, which annotation columns to use, and how values are combined.

Reference rule (GenoTEX): a fixed regular expression turns the gene field into candidate symbols; a
probe with n candidates gives value/n to each (n counts junk words too) and a gene is the *sum* of its
contributions, so a gene whose probes are all NaN in a sample gets 0.

Default rule: the field is split on its separators (``///`` between genes; ``acc // SYMBOL // ...``
inside Affymetrix ``gene_assignment``), falling back to the regular expression only for free text;
every candidate gets the full probe value and a gene is the NaN-aware *mean* of its probes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from omicsagent.errors import InputError
from omicsagent.expression.pp.symbols import AliasTable

# Whole words: an uppercase letter then 1-9 uppercase letters, digits or hyphens, or C<n>orf<n>;
# nothing starting LOC<digit> or LINC<digit>.
_TOKEN = re.compile(r"\b(?!LOC\d|LINC\d)(?:[A-Z][A-Z0-9-]{1,9}|C\d+orf\d+)\b")
_LAB_WORDS = frozenset({"DNA", "RNA", "PCR", "EST", "CHR"})
_EMPTY = frozenset({"", "-", "--", "---", "nan", "NA", "null"})
PREFERRED_GENE_COLUMNS = (
    "Gene Symbol",
    "Symbol",
    "GENE_SYMBOL",
    "SYMBOL",
    "gene_symbol",
    "Gene",
    "GENE",
    "gene_assignment",
    "ORF",
    "GeneName",
    "Gene_Symbol",
)


def extract_gene_symbols(text: object) -> list[str]:
    """The reference tokenizer: candidate symbols in order of first appearance (junk included)."""
    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(t for t in _TOKEN.findall(text) if t not in _LAB_WORDS))


def split_gene_field(text: object) -> list[str]:
    """Default parser: symbols from ``A /// B`` lists and ``acc // SYMBOL // desc`` assignments."""
    if not isinstance(text, str):
        return []
    out = []
    for entry in text.split("///"):
        parts = entry.split("//")
        value = (parts[1] if len(parts) > 1 else parts[0]).strip()
        if value not in _EMPTY:
            out.append(value)
    if len(out) == 1 and re.search(r"\s", out[0]):  # free text such as a description column
        return extract_gene_symbols(out[0])
    return list(dict.fromkeys(out))


def requires_gene_mapping(
    ids: pd.Index | list[str], aliases: AliasTable, *, sample: int = 1000
) -> tuple[bool, str]:
    """True when the expression IDs are not gene symbols (probes, accessions, row numbers)."""
    head = [str(i) for i in list(ids)[:sample]]
    if not head:
        return False, "the expression table has no rows"
    share = sum(aliases.lookup(i) is not None for i in head) / len(head)
    verdict = share < 0.5
    return verdict, (
        f"{share:.0%} of the first {len(head)} IDs are known gene symbols, so "
        + ("probe -> gene mapping is needed" if verdict else "no mapping is needed")
    )


@dataclass(frozen=True)
class AnnotationChoice:
    id_column: str
    gene_column: str
    explanation: str


def guess_annotation_columns(
    annotation: pd.DataFrame, expression_ids: pd.Index, aliases: AliasTable, *, sample: int = 3000
) -> AnnotationChoice:
    """Pick the probe-ID column (best overlap with the expression IDs) and the gene column (most rows
    yielding a known symbol; ties go to the usual names such as ``Gene Symbol``)."""
    ids = set(map(str, expression_ids))
    if annotation.empty or not ids:
        raise InputError("The annotation table or the expression table is empty, so probes cannot be mapped.")
    overlap = {c: annotation[c].astype(str).isin(ids).mean() for c in annotation.columns}
    id_col = "ID" if overlap.get("ID", 0) > 0 else max(overlap, key=overlap.get)
    if overlap[id_col] == 0:
        raise InputError(
            "No annotation column matches the expression IDs; pass the platform file of "
            "this series (or --id-column/--gene-column)."
        )
    rows = annotation[annotation[id_col].astype(str).isin(ids)].head(sample)
    scores = {}
    for col in annotation.columns:
        if col == id_col:
            continue
        values = rows[col]
        hits = values.map(lambda v: any(aliases.lookup(s) for s in split_gene_field(v)))
        scores[col] = float(hits.mean()) if len(hits) else 0.0
    if not scores or max(scores.values()) == 0:
        raise InputError("No annotation column holds recognisable gene symbols; pass --gene-column.")
    best = max(scores.values())
    rank = {c: i for i, c in enumerate(PREFERRED_GENE_COLUMNS)}
    tied = [c for c, s in scores.items() if s >= best - 0.01]
    gene_col = min(tied, key=lambda c: rank.get(c, len(rank)))
    top = sorted(scores.items(), key=lambda kv: -kv[1])[:3]
    why = ", ".join(f"{c} {s:.0%}" for c, s in top)
    return AnnotationChoice(
        id_col,
        gene_col,
        f"probe IDs from column {id_col!r} "
        f"({overlap[id_col]:.0%} of annotation rows are in the table); gene symbols "
        f"from {gene_col!r} (rows with a known symbol: {why})",
    )


def gene_mapping_frame(annotation: pd.DataFrame, *, id_column: str = "ID", gene_column: str) -> pd.DataFrame:
    """Columns ``ID`` (str) and ``Gene``, rows with a missing value dropped."""
    for col in (id_column, gene_column):
        if col not in annotation.columns:
            have = ", ".join(map(str, annotation.columns[:20]))
            raise InputError(f"The annotation has no column {col!r}; it has {have}.")
    frame = annotation[[id_column, gene_column]].dropna()
    frame.columns = ["ID", "Gene"]
    return frame.astype({"ID": str})


def apply_gene_mapping(
    expression: pd.DataFrame, mapping: pd.DataFrame, *, reference_compatible: bool = False
) -> pd.DataFrame:
    """Probe x sample values -> gene x sample values (see the module docstring for both rules)."""
    mapping = mapping[mapping["ID"].isin(expression.index)].copy()
    parse = extract_gene_symbols if reference_compatible else split_gene_field
    mapping["Gene"] = mapping["Gene"].map(parse)
    mapping["n"] = mapping["Gene"].map(len)
    mapping = mapping.explode("Gene").dropna(subset=["Gene"])
    if mapping.empty:
        return pd.DataFrame(columns=expression.columns, dtype=float).rename_axis("Gene")
    values = expression.loc[mapping["ID"]].to_numpy()
    frame = pd.DataFrame(values, columns=expression.columns)
    frame.insert(0, "Gene", mapping["Gene"].to_numpy())
    if reference_compatible:
        frame[expression.columns] = frame[expression.columns].div(mapping["n"].to_numpy(), axis=0)
        out = frame.groupby("Gene").sum()  # all-NaN sums to 0, as in the reference
    else:
        out = frame.groupby("Gene").mean()
    out.index.name = "Gene"
    return out
