"""``python -m omicsagent.expression.knowledge build|lookup|match``: rebuild the disease table from the
Disease Ontology OBO files, look a trait up, or show what a trait matches in a text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from omicsagent.errors import OmicsAgentError

app = typer.Typer(
    name="knowledge",
    no_args_is_help=True,
    add_completion=False,
    help="Disease names, synonyms and abbreviations from the Human Disease Ontology (CC0).",
)


def _fail(err: OmicsAgentError) -> None:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(err))}", highlight=False)
    raise typer.Exit(err.exit_code)


@app.command("build")
def build_cmd(
    source: Annotated[
        Path, typer.Option("--source", help="Folder with the Disease Ontology *.obo / *.obo.gz files.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Table to write (default: the one shipped in the package)."),
    ] = None,
) -> None:
    """Build the disease table (deterministic .json.gz) from the ontology files, read in place.

    Example (from the repository):
    python -m omicsagent.expression.knowledge build --source ../shared/datasets/ontology/disease_ontology
    """
    from omicsagent.expression.knowledge.build import build_table, write_table
    from omicsagent.expression.knowledge.table import table_path

    try:
        table = build_table(source)
        path = write_table(table, out if out is not None else table_path())
    except OmicsAgentError as err:
        _fail(err)
    n_abbr = sum(len(t.get("abbr", ())) for t in table["terms"])
    print(
        f"wrote {path}: {len(table['terms'])} terms, {n_abbr} abbreviations, "
        f"{path.stat().st_size / 1024:.0f} KiB, release {table['data_version']} ({table['license']})"
    )


@app.command("lookup")
def lookup_cmd(
    trait: Annotated[str, typer.Argument(help="Trait, e.g. Alzheimers_Disease, 'type 2 diabetes', COPD.")],
    table: Annotated[Path | None, typer.Option(help="Another table built with `build`.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Resolve a trait to its Disease Ontology term, names and abbreviations.

    Example: python -m omicsagent.expression.knowledge lookup Alzheimers_Disease
    """
    from omicsagent.expression.knowledge import load_table, trait_terms

    try:
        terms = trait_terms(trait, table=load_table(table) if table else None)
    except OmicsAgentError as err:
        _fail(err)
    data = {
        "trait": terms.trait,
        "canonical": terms.canonical,
        "doids": list(terms.doids),
        "how": terms.how,
        "matched": terms.matched,
        "names": list(terms.names),
        "abbreviations": list(terms.abbreviations),
        "narrower": list(terms.narrower),
        "notes": list(terms.notes),
    }
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    print(f"{terms.trait} -> {terms.canonical} [{', '.join(terms.doids) or 'no DOID'}] ({terms.how})")
    print(f"  names: {'; '.join(terms.names)}")
    print(f"  abbreviations: {', '.join(terms.abbreviations) or '-'}")
    print(f"  narrower terms: {len(terms.narrower)}")
    for note in terms.notes:
        print(f"  note: {note}")


@app.command("match")
def match_cmd(
    trait: Annotated[str, typer.Argument(help="Trait, e.g. Colorectal_Cancer.")],
    texts: Annotated[list[str], typer.Argument(help="Texts to read (sample titles, characteristics cells).")],
) -> None:
    """Show what the trait matches in each text and how each text classifies (1 case, 0 control).

    Example: python -m omicsagent.expression.knowledge match Colorectal_Cancer "CRC patient 3" "control 2"
    """
    from omicsagent.expression.knowledge import classify_text, match_text

    for text in texts:
        label = classify_text(trait, text)
        hits = "; ".join(f"{m.kind} {m.text!r} ({m.how})" for m in match_text(trait, text)) or "no match"
        print(f"{'?' if label is None else int(label)}\t{text}\t{hits}")


if __name__ == "__main__":
    app()
