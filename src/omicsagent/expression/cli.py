"""``omicsagent expr``: preprocess cohorts, analyze a trait, evaluate against a reference.

The lead mounts ``expr_app`` on the main CLI; it also runs standalone (tests use CliRunner on it).
User mistakes print one sentence on stderr and exit with the error's code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from omicsagent.errors import InputError, OmicsAgentError

expr_app = typer.Typer(
    name="expr",
    no_args_is_help=True,
    add_completion=False,
    help="Gene-expression analysis: GEO/TCGA cohorts -> trait-associated genes (GenoTEX layout).",
)

RefCompat = Annotated[
    bool,
    typer.Option(
        "--reference-compatible",
        help="Reproduce the GenoTEX reference exactly where docs/expression.md flags a questionable choice.",
    ),
]


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except OmicsAgentError as err:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(err))}", highlight=False)
        raise typer.Exit(err.exit_code) from None


@contextmanager
def _status(console: Console, first: str) -> Iterator:
    with console.status(first) as status:
        yield lambda msg: status.update(msg)


def _split(values: list[str] | None) -> list[str] | None:
    out = [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]
    return out or None


@expr_app.command("preprocess")
def preprocess_cmd(
    cohort_dir: Annotated[
        Path,
        typer.Argument(
            help="A GEO series folder (series matrix + annotation) or a UCSC Xena TCGA cohort folder."
        ),
    ],
    trait: Annotated[
        str, typer.Option("--trait", help="Trait name; spaces become _ (e.g. Colorectal_Cancer).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Preprocess root; files go to OUT/<Trait>/.")] = Path(
        "output/preprocess"
    ),
    gene_info: Annotated[
        Path | None,
        typer.Option(
            "--gene-info",
            envvar="OMICSAGENT_GENE_INFO",
            help="NCBI Homo_sapiens.gene_info.gz (or a GenoTEX gene_synonym.json); built once, then cached.",
        ),
    ] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Alias-table cache folder.")] = None,
    trait_row: Annotated[
        str | None,
        typer.Option(
            help="GEO row holding the trait: a characteristics index (0, 1, ...) or title / "
            "source_name_ch1 / "
            "description."
        ),
    ] = None,
    age_row: Annotated[str | None, typer.Option(help="GEO row holding age, or 'none'.")] = None,
    gender_row: Annotated[str | None, typer.Option(help="GEO row holding sex, or 'none'.")] = None,
    trait_case: Annotated[
        list[str] | None,
        typer.Option(help="Words meaning 'case' in the trait row (repeatable or comma-separated)."),
    ] = None,
    trait_control: Annotated[
        list[str] | None, typer.Option(help="Words meaning 'control' (checked first).")
    ] = None,
    trait_key: Annotated[
        str | None, typer.Option(help="Only read trait cells whose key contains this.")
    ] = None,
    trait_continuous: Annotated[bool, typer.Option(help="Read the trait as a number.")] = False,
    age_unit: Annotated[
        str | None, typer.Option(help="years, months, weeks or days (default: from the text).")
    ] = None,
    gender_inverted: Annotated[bool, typer.Option(help="Swap the sex coding (female=1).")] = False,
    annotation: Annotated[
        Path | None, typer.Option(help="Platform annotation (family SOFT or probe table).")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Probe-ID column of the annotation.")] = None,
    gene_column: Annotated[str | None, typer.Option(help="Gene-symbol column of the annotation.")] = None,
    age_column: Annotated[str | None, typer.Option(help="TCGA clinical column for age, or 'none'.")] = None,
    gender_column: Annotated[
        str | None, typer.Option(help="TCGA clinical column for sex, or 'none'.")
    ] = None,
    cohort_id: Annotated[str | None, typer.Option(help="Output name (default: GSE id, or TCGA).")] = None,
    show_rows: Annotated[bool, typer.Option(help="Print the distinct values of every GEO row.")] = False,
    reference_compatible: RefCompat = False,
) -> None:
    """Preprocess one cohort into OUT/<Trait>/ (clinical_data/, gene_data/, linked table, cohort_info.json).

    The first run needs --gene-info (NCBI Homo_sapiens.gene_info.gz); later runs use the cached table.

    Example: omicsagent expr preprocess GSE4107/ --trait Colorectal_Cancer --gene-info gene_info.gz
    """
    from omicsagent.expression._files import check_file_name, normalize_trait_name
    from omicsagent.expression.pipeline.preprocess import PreprocessOptions, preprocess_cohort
    from omicsagent.expression.pp.symbols import load_alias_table

    console = Console(soft_wrap=True)
    with _user_errors():
        options = PreprocessOptions(
            reference_compatible=reference_compatible,
            cohort_id=cohort_id,
            trait_row=trait_row,
            age_row=age_row,
            gender_row=gender_row,
            trait_case=_split(trait_case),
            trait_control=_split(trait_control),
            trait_key=trait_key,
            trait_continuous=trait_continuous,
            age_unit=age_unit,
            gender_inverted=gender_inverted,
            annotation=annotation,
            id_column=id_column,
            gene_column=gene_column,
            age_column=age_column,
            gender_column=gender_column,
        )
        if age_unit not in (None, "years", "months", "weeks", "days"):
            raise InputError(f"--age-unit {age_unit!r} is not one of years, months, weeks, days.")
        # names that become files are checked before anything is read or cached
        normalize_trait_name(trait)
        if cohort_id is not None:
            check_file_name(cohort_id, "cohort id")
        with _status(console, "loading the gene alias table") as progress:
            aliases = load_alias_table(
                gene_info, cache_dir=cache_dir, reference_compatible=reference_compatible
            )
            result = preprocess_cohort(
                cohort_dir, trait=trait, out_dir=out, aliases=aliases, options=options, progress=progress
            )
    rec = result.record
    colour = "green" if rec.is_usable else "yellow"
    console.print(
        f"[bold]{result.kind} cohort {escape(result.cohort_id)}[/] for trait "
        f"[bold]{escape(result.trait)}[/]: "
        f"[{colour}]{'usable' if rec.is_usable else 'not usable'}[/]"
        + (f", {rec.sample_size} samples" if rec.sample_size else ""),
        highlight=False,
    )
    for note in result.notes:
        console.print(f"  - {note}", highlight=False, markup=False)
    for warning in rec.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    if result.row_preview is not None and (show_rows or rec.is_trait_available is False):
        table = Table("row", "distinct values (most frequent first)", title="GEO sample rows")
        for key, values in result.row_preview.items():
            cells = "; ".join(map(str, values[:8])) + (" ..." if len(values) > 8 else "")
            table.add_row(Text(str(key)), Text(cells))
        console.print(table)
        console.print(
            "Pick rows with --trait-row/--age-row/--gender-row and words with --trait-case/--trait-control."
        )
    console.print(f"cohort record: {json.dumps(rec.to_dict())}", highlight=False, markup=False)
    for name, path in result.files.items():
        console.print(f"  wrote {name}: {path}", highlight=False, markup=False)


@expr_app.command("analyze")
def analyze_cmd(
    preprocessed_dir: Annotated[
        Path, typer.Argument(help="Preprocess root (holding <Trait>/cohort_info.json).")
    ],
    trait: Annotated[str, typer.Option("--trait", help="Trait to explain.")],
    condition: Annotated[
        str | None,
        typer.Option(help="Age, Gender or another preprocessed trait to control for (two-step)."),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Regress root; writes OUT/<Trait>/significant_genes_condition_<Cond>.json."
        ),
    ] = Path("output/regress"),
    task_info: Annotated[
        Path | None,
        typer.Option(
            help="GenoTEX metadata/task_info.json: known genes tune the penalty and pick two-step "
            "instruments."
        ),
    ] = None,
    instrument_rule: Annotated[
        str, typer.Option(help="genotex, or genomas (also excludes known trait genes).")
    ] = "genotex",
    reference_compatible: RefCompat = False,
) -> None:
    """Select the best cohort, fit the sparse regression and write the significant-gene JSON.

    Example: omicsagent expr analyze output/preprocess --trait Bile_Duct_Cancer --condition Age
    """
    from omicsagent.expression.pipeline.analyze import AnalyzeOptions, analyze

    console = Console(soft_wrap=True)
    with _user_errors():
        options = AnalyzeOptions(
            condition=condition,
            reference_compatible=reference_compatible,
            task_info=task_info,
            instrument_rule=instrument_rule,
        )
        with _status(console, "selecting cohorts") as progress:
            result = analyze(preprocessed_dir, trait=trait, out_dir=out, options=options, progress=progress)
    pred = result.cv_performance.get("prediction", {})
    score = ", ".join(f"{k} {v:.3g}" for k, v in pred.items())
    console.print(
        f"[bold]{escape(result.trait)}[/] | condition {escape(str(result.condition))}: cohort "
        + escape(result.cohort + (f" + {result.condition_cohort}" if result.condition_cohort else ""))
        + f", {result.n_samples} samples x {result.n_genes} genes, {result.model} penalty "
        f"{result.penalty:g}",
        highlight=False,
    )
    console.print(f"  chosen: {result.reason}", highlight=False, markup=False)
    for warning in result.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    console.print(f"  CV prediction: {score}", highlight=False, markup=False)
    for note in result.notes:
        console.print(f"  - {note}", highlight=False, markup=False)
    table = Table("rank", "gene", "coefficient", title=f"{len(result.genes)} significant genes")
    for i, (g, c) in enumerate(zip(result.genes[:20], result.coefficients[:20]), 1):
        table.add_row(str(i), Text(g), f"{c:+.4g}")
    console.print(table)
    console.print(f"wrote {result.output}", highlight=False, markup=False)


@expr_app.command("evaluate")
def evaluate_cmd(
    pred: Annotated[
        Path, typer.Option("--pred", help="Predicted output folder (preprocess/ and/or regress/).")
    ],
    ref: Annotated[Path, typer.Option("--ref", help="Reference output folder, same layout.")],
    variant: Annotated[str, typer.Option(help="Scoring variant: genotex or genomas.")] = "genotex",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write all scores to this JSON file.")
    ] = None,
) -> None:
    """Score predictions against a reference: CSC, dataset filtering/selection, gene P/R/F1, AUROC, GSEA-ES.

    Example: omicsagent expr evaluate --pred output --ref genotex_reference/output --variant genomas
    """
    from omicsagent.expression.pipeline.evaluate import evaluate

    console = Console(soft_wrap=True)
    with _user_errors():
        with _status(console, "evaluating") as progress:
            result = evaluate(pred, ref, variant=variant, progress=progress)
    if result.preprocess:
        console.print(
            f"Preprocessing CSC ({variant}): "
            + ", ".join(f"{k} {v:.4f}" for k, v in result.preprocess.items()),
            highlight=False,
        )
    if result.filtering:
        console.print(
            "Dataset filtering: "
            + ", ".join(f"{k} {v:.2f}" for k, v in result.filtering.items())
            + f"; one-step selection accuracy {result.selection.get('accuracy', float('nan')):.2f}",
            highlight=False,
        )
    if result.genes:
        keys = ["problems", "success", "precision", "recall", "f1", "auroc", "gsea_es"]
        table = Table("category", *keys, title=f"Gene identification ({variant})")
        for cat, row in result.genes.items():
            table.add_row(Text(str(cat)), *(f"{row[k]:g}" for k in keys))
        console.print(table)
    for note in result.notes:
        console.print(f"  - {note}", highlight=False, markup=False)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.to_dict(), indent=2, default=str))
        console.print(f"wrote {json_out}", highlight=False, markup=False)


def _mount_team() -> None:
    from omicsagent.expression.team.cli import register

    register(expr_app)


_mount_team()
