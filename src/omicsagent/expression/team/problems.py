"""Problems and cohorts: the GenoTEX ``task_info.json`` and the GenoTEX input layout.

    task_info.json   {"<Trait>": {"related_genes": [...], "conditions": ["Age", "Gender", "<OtherTrait>"]}}
    COHORTS/GEO/<Trait>/<GSE...>/     one folder per series (series matrix + annotation)
    COHORTS/TCGA/<cohort>/            UCSC Xena cohorts (the TCGA engineer picks the one matching a trait)

Problems are ``(trait, None)`` for every trait plus ``(trait, condition)`` per listed condition, traits
sorted, conditions in the listed order. ``geo``/``tcga`` in lower case are accepted too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omicsagent.errors import InputError
from omicsagent.expression._files import normalize_trait_name
from omicsagent.expression.pipeline.analyze import load_task_info
from omicsagent.expression.tl.select import DEMOGRAPHIC

_DEMOGRAPHIC = {"age": "Age", "gender": "Gender", "sex": "Gender"}


@dataclass(frozen=True)
class Problem:
    trait: str
    condition: str | None

    @property
    def kind(self) -> str:
        if self.condition is None:
            return "unconditional"
        return "demographic" if self.condition in DEMOGRAPHIC else "two_step"


@dataclass
class ProblemSet:
    path: Path
    tasks: dict[str, dict]  # normalised trait -> {"related_genes": [...], "conditions": [...]}
    traits: list[str]  # the traits whose problems are solved
    problems: list[Problem]
    preprocess_traits: list[str]  # traits whose cohorts are needed (the traits and the condition traits)
    notes: list[str] = field(default_factory=list)


def load_problems(path: Path, traits: list[str] | None = None) -> ProblemSet:
    if not Path(path).is_file():
        raise InputError(f"{path} does not exist; pass a GenoTEX task_info.json to --problems.")
    raw = load_task_info(path)
    tasks: dict[str, dict] = {}
    for key, value in raw.items():
        if not isinstance(value, dict) or not isinstance(value.get("conditions", []), list) \
                or not isinstance(value.get("related_genes", []), list):
            raise InputError(f"{path}: the entry of {key!r} must be an object with lists related_genes and "
                             "conditions (GenoTEX task_info.json format).")
        tasks[normalize_trait_name(key)] = {"related_genes": [str(g) for g in value.get("related_genes", [])],
                                            "conditions": [str(c) for c in value.get("conditions", [])]}
    if not tasks:
        raise InputError(f"{path} lists no traits; pass a GenoTEX task_info.json.")
    chosen = sorted(tasks)
    if traits:
        chosen = []
        for name in traits:
            norm = normalize_trait_name(name)
            if norm not in tasks:
                shown = ", ".join(sorted(tasks)[:10]) + (" ..." if len(tasks) > 10 else "")
                raise InputError(
                    f"--traits names {name!r}, which {path.name} does not list; it lists {shown}."
                )
            chosen.append(norm)
        chosen = sorted(dict.fromkeys(chosen))
    problems, notes, needed = [], [], list(chosen)
    for trait in chosen:
        problems.append(Problem(trait, None))
        for cond in tasks[trait]["conditions"]:
            c = _DEMOGRAPHIC.get(cond.strip().lower()) or normalize_trait_name(cond)
            if c == trait:
                notes.append(f"{trait}: the condition {cond!r} is the trait itself; skipped")
                continue
            if c not in DEMOGRAPHIC and c not in tasks:
                notes.append(
                    f"{trait}: the condition {cond!r} is neither Age, Gender nor a trait of the file; skipped"
                )
                continue
            problems.append(Problem(trait, c))
            if c not in DEMOGRAPHIC and c not in needed:
                needed.append(c)
    return ProblemSet(Path(path), tasks, chosen, problems, sorted(needed), notes)


@dataclass(frozen=True)
class CohortJob:
    trait: str
    folder: str  # the series folder name, or "TCGA"
    kind: str  # GEO or TCGA
    path: Path  # absolute: the series folder, or the TCGA root whose cohorts the engineer chooses from


def _child(root: Path, name: str) -> Path | None:
    for cand in (root / name, root / name.lower()):
        if cand.is_dir():
            return cand
    return None


def discover_cohorts(root: Path, traits: list[str]) -> tuple[list[CohortJob], list[str]]:
    """One job per GEO series folder of every trait, plus one TCGA job per trait when TCGA cohorts exist."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; pass the cohort root holding GEO/ and TCGA/ (--cohorts).")
    geo, tcga = _child(root, "GEO"), _child(root, "TCGA")
    if geo is None and tcga is None:
        raise InputError(f"{root} holds neither GEO/ nor TCGA/; pass the GenoTEX input folder "
                         "(GEO/<Trait>/<GSE...>/, TCGA/<cohort>/).")
    jobs, notes = [], []
    geo_dirs = {normalize_trait_name(p.name): p for p in sorted(geo.iterdir()) if p.is_dir()} if geo else {}
    tcga_cohorts = sorted(p.name for p in tcga.iterdir() if p.is_dir()) if tcga else []
    for trait in traits:
        series = sorted(p for p in geo_dirs[trait].iterdir() if p.is_dir()) if trait in geo_dirs else []
        for s in series:
            jobs.append(CohortJob(trait, s.name, "GEO", s.resolve()))
        if tcga_cohorts:
            jobs.append(CohortJob(trait, "TCGA", "TCGA", tcga.resolve()))
        notes.append(
            f"{trait}: {len(series)} GEO series"
            + (
                f" ({', '.join(s.name for s in series[:6])}{' ...' if len(series) > 6 else ''})"
                if series
                else ""
            )
            + (f"; the TCGA engineer chooses among {len(tcga_cohorts)} TCGA cohorts" if tcga_cohorts else "")
        )
    return jobs, notes
