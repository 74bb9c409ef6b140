"""Where things live: the team's run folder and one unit workspace (shared by the host and the scripts).

    OUT/preprocess/<Trait>/...            GenoTEX preprocessing output (merged from the cohort workspaces)
    OUT/regress/<Trait>/...               GenoTEX regression output
    OUT/team/journal.json                 the team journal (PI: what is done, settings, brains)
    OUT/team/cohorts/<Trait>/<folder>/    one cohort: journal.json, workspace/, snapshots/, trajectory.jsonl
    OUT/team/problems/<Trait>/<Cond>/     one problem: the same for the statistician
    OUT/team/report.html, report/<Trait>__<Cond>.html

Inside a workspace (the only folder a script can write to):

    scratch/state/            what units hand to later units (parquet and JSON only: the host never unpickles)
    scratch/units/<unit>/     the scripts of every round, the unit input and output JSON, logs
    scratch/cache/            the alias-table cache of the scripts
    artifacts/preprocess/<Trait>/, artifacts/regress/<Trait>/   GenoTEX files of this cohort or problem
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TEAM_DIR = "team"
STATE = Path("scratch/state")
UNITS = Path("scratch/units")
CACHE = Path("scratch/cache")
PREPROCESS = Path("artifacts/preprocess")
REGRESS = Path("artifacts/regress")
MAX_OUTPUT_BYTES = 5_000_000  # a unit's output JSON is data for the host, not a dump


def safe_name(text: str) -> str:
    """A folder name for a trait, cohort or condition (letters, digits, ``._-()``)."""
    return re.sub(r"[^A-Za-z0-9._()\-]+", "_", str(text)).strip("_") or "_"


@dataclass(frozen=True)
class RunPaths:
    out: Path  # absolute

    @property
    def team(self) -> Path:
        return self.out / TEAM_DIR

    @property
    def journal(self) -> Path:
        return self.team / "journal.json"

    @property
    def preprocess(self) -> Path:
        return self.out / "preprocess"

    @property
    def regress(self) -> Path:
        return self.out / "regress"

    @property
    def aliases(self) -> Path:
        return self.team / "aliases"

    def cohort(self, trait: str, folder: str) -> Path:
        return self.team / "cohorts" / safe_name(trait) / safe_name(folder)

    def problem(self, trait: str, condition: str | None) -> Path:
        return self.team / "problems" / safe_name(trait) / safe_name(str(condition))

    @property
    def report(self) -> Path:
        return self.team / "report.html"

    def problem_report(self, trait: str, condition: str | None) -> Path:
        return self.team / "report" / f"{safe_name(trait)}__{safe_name(str(condition))}.html"
