"""Gene symbol normalisation with an alias table built from NCBI ``gene_info`` (cached after one build).

Two ways to build the table from the same file (both map UPPERCASE alias -> official symbol):

* ``reference``: GenoTEX's order-dependent rule. Genes are read in file order; an alias overwrites an
  earlier entry unless that entry maps the key to itself, which only protects official symbols written
  all in capitals (``C1orf112`` is not protected), and the placeholder ``-`` becomes an alias.
* ``official-first`` (default): every official symbol maps to itself whatever its letter case or file
  position; aliases fill the remaining keys, later genes winning as in the reference; ``-`` is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from omicsagent.errors import InputError
from omicsagent.expression._files import read_text
from omicsagent.permissions import make_normal

FORMAT_VERSION = 1
VARIANTS = ("official-first", "reference")


@dataclass(frozen=True)
class AliasTable:
    """UPPERCASE alias -> official symbol."""

    mapping: dict[str, str]
    variant: str
    source: str

    def __len__(self) -> int:
        return len(self.mapping)

    def lookup(self, symbol: object) -> str | None:
        return self.mapping.get(str(symbol).upper()) if isinstance(symbol, str) else None

    @property
    def official(self) -> set[str]:
        return set(self.mapping.values())


def parse_gene_info(text: str, *, tax_id: str = "9606") -> list[tuple[str, list[str]]]:
    """(official symbol, aliases) per gene of ``tax_id``, in file order."""
    genes = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 6 or cols[0] != tax_id:
            continue
        genes.append((cols[2], cols[4].split("|") if cols[4] else []))
    return genes


def build_alias_map(genes: list[tuple[str, list[str]]], *, variant: str = "official-first") -> dict[str, str]:
    if variant not in VARIANTS:
        raise InputError(f"Unknown alias-table variant {variant!r}; use one of {', '.join(VARIANTS)}.")
    table: dict[str, str] = {}
    if variant == "reference":
        for symbol, aliases in genes:
            for alias in {*aliases, symbol}:
                key = alias.upper()
                old = table.get(key)
                if old is not None and old != symbol and old == key:
                    continue  # the key is an (all-caps) official symbol of an earlier gene
                table[key] = symbol
        return table
    for symbol, aliases in genes:
        for alias in aliases:
            if alias and alias != "-":
                table[alias.upper()] = symbol
    for symbol, _ in genes:  # official symbols last, so they always win
        table[symbol.upper()] = symbol
    return table


def default_cache_dir() -> Path:
    root = os.environ.get("OMICSAGENT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "omicsagent"
    )
    return Path(root) / "expression"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    make_normal(Path(tmp))  # mkstemp makes it 0600; results are readable like any new file
    os.replace(tmp, path)


def load_alias_table(
    gene_info: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | Path | None = None,
    reference_compatible: bool = False,
) -> AliasTable:
    """The alias table for ``gene_info`` (NCBI ``*.gene_info[.gz]`` or a ready ``{alias: symbol}`` JSON).

    Built once per file content and variant, then read from ``cache_dir``. Without ``gene_info`` the
    table built most recently is used.
    """
    variant = "reference" if reference_compatible else "official-first"
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    latest = cache / f"gene_synonyms-{variant}-latest.txt"
    if gene_info is None:
        if not latest.is_file():
            raise InputError(
                "No gene alias table is cached yet; pass --gene-info with the NCBI "
                "Homo_sapiens.gene_info.gz file once to build it."
            )
        cached = cache / latest.read_text().strip()
        if not cached.is_file():
            raise InputError(f"The cached alias table {cached} is gone; pass --gene-info to rebuild it.")
        return _read_cached(cached)
    path = Path(gene_info)
    if not path.is_file():
        raise InputError(f"{path} does not exist; pass the NCBI Homo_sapiens.gene_info.gz file.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cached = cache / f"gene_synonyms-{variant}-{digest}.json"
    if cached.is_file():
        table = _read_cached(cached)
    else:
        text = read_text(path)
        if text.lstrip().startswith("{"):  # a ready GenoTEX gene_synonym.json: use it as it is
            mapping = json.loads(text)
            if not isinstance(mapping, dict):
                raise InputError(f"{path} is not an alias -> symbol JSON object; pass NCBI gene_info.")
            table = AliasTable(
                mapping={str(k).upper(): str(v) for k, v in mapping.items()},
                variant="given",
                source=str(path),
            )
        else:
            genes = parse_gene_info(text)
            if not genes:
                raise InputError(f"{path} has no human (tax 9606) rows; pass NCBI Homo_sapiens.gene_info.gz.")
            table = AliasTable(
                mapping=build_alias_map(genes, variant=variant), variant=variant, source=str(path)
            )
        _atomic_write(
            cached,
            json.dumps(
                {
                    "format": FORMAT_VERSION,
                    "variant": table.variant,
                    "source": table.source,
                    "aliases": table.mapping,
                }
            ),
        )
    _atomic_write(latest, cached.name)
    return table


def _read_cached(path: Path) -> AliasTable:
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT_VERSION:
            raise ValueError("old format")
        return AliasTable(mapping=data["aliases"], variant=data["variant"], source=data["source"])
    except (ValueError, KeyError) as err:
        raise InputError(
            f"The cached alias table {path} is unreadable ({err}); delete it and pass --gene-info again."
        ) from err


def normalize_gene_symbols(
    gene_df: pd.DataFrame, aliases: AliasTable, *, prefer_exact: bool = True
) -> pd.DataFrame:
    """Map the index to official symbols, drop unknown ones, and average rows sharing a symbol.

    ``prefer_exact`` (default): when a symbol is measured under its own official name, rows that only
    reach it through an alias are dropped instead of averaged in. An alias shared by several genes
    points at one of them arbitrarily (TCGA's ``MARS``, now ``MARS1``, would otherwise be averaged
    into ``SLA2``, which lists MARS as an alias). The reference averages everything.
    """
    mapped = pd.Series(gene_df.index.map(lambda s: aliases.lookup(s)), index=range(len(gene_df)))
    keep = mapped.notna().to_numpy()
    if prefer_exact:
        upper = pd.Series(gene_df.index.astype(str).str.upper(), index=mapped.index)
        exact = keep & (upper == mapped.str.upper()).to_numpy()
        measured = set(mapped[exact])
        keep &= exact | ~mapped.isin(measured).to_numpy()
    out = gene_df[keep]
    out.index = pd.Index(mapped[keep].to_numpy(), name="Gene")
    return out.groupby(level=0).mean()


@dataclass(frozen=True)
class SymbolReport:
    """How each input symbol fared: kept as is, renamed through an alias, merged, or dropped."""

    n_input: int
    n_output: int
    unchanged: list[str]
    renamed: dict[str, str]
    unknown: list[str]
    merged: dict[str, list[str]]  # official symbol -> the input symbols averaged into it


def symbol_report(symbols: list[str], aliases: AliasTable) -> SymbolReport:
    unchanged, renamed, unknown, groups = [], {}, [], {}
    for s in symbols:
        hit = aliases.lookup(s)
        if hit is None:
            unknown.append(s)
            continue
        groups.setdefault(hit, []).append(s)
        if hit == s:
            unchanged.append(s)
        else:
            renamed[s] = hit
    merged = {k: v for k, v in groups.items() if len(v) > 1}
    return SymbolReport(
        n_input=len(symbols),
        n_output=len(groups),
        unchanged=unchanged,
        renamed=renamed,
        unknown=unknown,
        merged=merged,
    )
