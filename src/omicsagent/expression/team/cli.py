"""``omicsagent expr run | guideline | memory``: the expression team on the command line.

Registered on ``expr_app`` by ``omicsagent.expression.cli``. User mistakes print one sentence and exit
with the error's code (2 for bad input or configuration).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from omicsagent.expression.team.guideline import ROLES

guideline_app = typer.Typer(name="guideline", no_args_is_help=True, add_completion=False,
                            help="The team's guidelines: list the roles, print one to edit it.")
memory_app = typer.Typer(name="memory", no_args_is_help=True, add_completion=False,
                         help="The team's code memory: approved unit scripts offered on the next cohort.")


def _errors():
    from omicsagent.expression.cli import _user_errors

    return _user_errors()


def _split(values: list[str] | None) -> list[str] | None:
    out = [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]
    return out or None


MemoryOpt = Annotated[
    Path | None,
    typer.Option("--memory", help="Code-memory folder (default ~/.cache/omicsagent/expression/code_memory; "
                                  "OMICSAGENT_CACHE_DIR moves it)."),
]


def run_cmd(
    problems: Annotated[
        Path, typer.Option("--problems", help="GenoTEX task_info.json: traits, known genes, conditions.")
    ],
    cohorts: Annotated[
        Path,
        typer.Option(
            "--cohorts",
            help="Cohort root in the GenoTEX input layout: GEO/<Trait>/<GSE...>/ and TCGA/<cohort>/.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output folder: preprocess/, regress/ (GenoTEX layout) and "
            "team/ (journals, workspaces, reports).",
        ),
    ] = Path("output"),
    brain: Annotated[
        str,
        typer.Option(help="expert (offline, default) or llm, for every role; refine per role with --config."),
    ] = "expert",
    model: Annotated[str | None, typer.Option(help="Default model of the LLM roles, PROVIDER:MODEL.")] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="TOML with [llm] and one [roles.<role>] table per role (brain, model, base_url, ...)."
        ),
    ] = None,
    env_file: Annotated[Path | None, typer.Option(help=".env file with API keys.")] = None,
    guideline: Annotated[
        list[Path] | None,
        typer.Option(
            "--guideline",
            help="An edited guideline (repeatable; from `omicsagent expr guideline show ROLE`).",
        ),
    ] = None,
    traits: Annotated[
        list[str] | None, typer.Option(help="Only these traits (comma-separated or repeated).")
    ] = None,
    jobs: Annotated[int, typer.Option(help="Cohorts (then problems) run in parallel processes.")] = 1,
    gene_info: Annotated[
        Path | None,
        typer.Option(
            "--gene-info",
            envvar="OMICSAGENT_GENE_INFO",
            help="NCBI Homo_sapiens.gene_info.gz (or a GenoTEX gene_synonym.json); built once, then cached.",
        ),
    ] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Alias-table cache folder.")] = None,
    memory: MemoryOpt = None,
    no_memory: Annotated[
        bool, typer.Option("--no-memory", help="Neither offer nor store approved code.")
    ] = False,
    sandbox: Annotated[str, typer.Option(help="auto or bwrap (isolated), none (UNISOLATED).")] = "auto",
    json_progress: Annotated[bool, typer.Option("--json", help="Progress as JSON lines on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress lines.")] = False,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write the HTML reports.")] = True,
) -> None:
    """Solve GenoTEX problems with the expression team: preprocess every cohort, select, regress, report.

    Finished (trait, cohort) and (trait, condition) work is recorded in OUT/team/journal.json and skipped
    when the same command runs again.

    Example: omicsagent expr run --problems task_info.json --cohorts input --out output --jobs 2
    """
    from omicsagent.agent.progress import JsonProgress, NullProgress
    from omicsagent.expression.team.pi import TeamSettings, run_team
    from omicsagent.expression.team.progress import TeamConsoleProgress

    console = Console(soft_wrap=True)
    with _errors():
        settings = TeamSettings(
            problems=problems, cohorts=cohorts, out=out, brain=brain, model=model, config=config,
            env_file=env_file, guidelines=tuple(guideline or ()), traits=tuple(_split(traits) or ()) or None,
            jobs=jobs, gene_info=gene_info, cache_dir=cache_dir, memory=memory, use_memory=not no_memory,
            sandbox=sandbox, report=report,
        )
        progress = JsonProgress() if json_progress else NullProgress() if quiet else TeamConsoleProgress()
        try:
            result = run_team(settings, progress.event)
        except KeyboardInterrupt:
            Console(stderr=True).print(
                "[yellow]interrupted[/]: finished cohorts and problems are kept; run the "
                "same command again to continue"
            )
            raise typer.Exit(130) from None
    if json_progress:
        return
    j = result.journal
    table = Table("trait", "condition", "cohort(s)", "genes", "outcome", title="Problems")
    for p in result.problems.problems:
        e = j.problems.get(f"{p.trait}/{p.condition}")
        if e is None:
            continue
        cohorts_txt = (e.cohort or "-") + (f" + {e.condition_cohort}" if e.condition_cohort else "")
        table.add_row(p.trait, str(p.condition), cohorts_txt, "-" if e.n_genes is None else str(e.n_genes),
                      e.note[:90])
    console.print(table)
    usable = sum(1 for e in j.cohorts.values() if e.record and e.record.get("is_usable"))
    reuse = {"as_is": 0, "adapted": 0, "new": 0}
    for e in [*j.cohorts.values(), *j.problems.values()]:
        for k, v in e.reuse.items():
            reuse[k] = reuse.get(k, 0) + v
    console.print(
        f"cohorts: {len(j.cohorts)} processed, {usable} usable; code reuse: {reuse['as_is']} as is, "
        f"{reuse['adapted']} adapted, {reuse['new']} new",
        highlight=False,
    )
    console.print(f"GenoTEX output: {result.paths.preprocess} and {result.paths.regress}", highlight=False,
                  markup=False)
    if result.reports:
        console.print(f"report: {result.paths.report}", highlight=False, markup=False)


@guideline_app.command("list")
def guideline_list() -> None:
    """The roles and their action units.

    Example: omicsagent expr guideline list
    """
    from omicsagent.expression.team.guideline import load_shipped

    console = Console(soft_wrap=True)
    with _errors():
        table = Table("role", "title", "units", "settings")
        for role in ROLES:
            g = load_shipped(role)
            units = ", ".join(u.name + ("?" if u.optional else "") for u in g.units) or "-"
            table.add_row(role, g.title, units, ", ".join(g.settings))
        console.print(table)
        console.print(
            "Print one with `omicsagent expr guideline show ROLE > my.toml`, edit it, pass it back with "
            "`omicsagent expr run ... --guideline my.toml` (? = optional unit).",
            highlight=False,
        )


@guideline_app.command("show")
def guideline_show(role: Annotated[str, typer.Argument(help=f"One of {', '.join(ROLES)}.")]) -> None:
    """Print a shipped guideline (TOML) to edit and pass back with --guideline.

    Example: omicsagent expr guideline show geo > my-geo.toml
    """
    from omicsagent.expression.team.guideline import shipped_text

    with _errors():
        text = shipped_text(role)
    typer.echo(text, nl=False)


@memory_app.command("list")
def memory_list(memory: MemoryOpt = None,
                role: Annotated[str | None, typer.Option(help="Only this role.")] = None) -> None:
    """Approved unit scripts per role and unit, with the cohorts they were approved on.

    Example: omicsagent expr memory list --role geo
    """
    from omicsagent.expression.team.memory import CodeMemory

    console = Console(soft_wrap=True)
    with _errors():
        mem = CodeMemory(memory)
        entries = mem.entries(role)
    if not entries:
        console.print(f"The code memory {mem.root} is empty.", highlight=False, markup=False)
        return
    console.print(f"code memory {mem.root}: {len(entries)} approved script(s)", highlight=False, markup=False)
    for e in entries:  # plain lines: they stay whole when piped
        cohorts = e.cohorts
        shown = ", ".join(cohorts[-3:]) + (f" (+{len(cohorts) - 3} more)" if len(cohorts) > 3 else "")
        console.print(
            f"{e.role}/{e.unit}  {e.sha}  approved {len(e.approved)}x, {e.code.count(chr(10)) + 1} lines, "
            f"on {shown}",
            highlight=False,
            markup=False,
        )


@memory_app.command("show")
def memory_show(
    key: Annotated[
        str,
        typer.Argument(
            help="An entry id (its first characters), or ROLE/UNIT for "
            "the most recently approved script of that unit."
        ),
    ],
    memory: MemoryOpt = None,
) -> None:
    """Print an approved script and where it was approved.

    Example: omicsagent expr memory show geo/clinical_features
    """
    from omicsagent.errors import InputError
    from omicsagent.expression.team.memory import CodeMemory

    with _errors():
        found = CodeMemory(memory).find(key)
        if not found:
            raise InputError(f"No code-memory entry matches {key!r}; see `omicsagent expr memory list`.")
        e = found[0]
        approvals = json.dumps([{k: v for k, v in a.items() if k != "time"} for a in e.approved[-5:]])
    typer.echo(f"# {e.role}/{e.unit} {e.sha}; approved {len(e.approved)} time(s), last on: {approvals}")
    typer.echo(e.code, nl=not e.code.endswith("\n"))


@memory_app.command("clear")
def memory_clear(memory: MemoryOpt = None,
                 role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
                 yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Delete approved scripts (all, or one role's).

    Example: omicsagent expr memory clear --role geo --yes
    """
    from omicsagent.expression.team.memory import CodeMemory

    with _errors():
        mem = CodeMemory(memory)
        n = len(mem.entries(role))
        if n and not yes and not typer.confirm(f"Delete {n} entr{'y' if n == 1 else 'ies'} from {mem.root}?"):
            raise typer.Exit(1)
        removed = mem.clear(role)
    typer.echo(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {mem.root}")


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)
    app.add_typer(guideline_app, name="guideline")
    app.add_typer(memory_app, name="memory")
