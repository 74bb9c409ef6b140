"""Guidelines as data: one TOML file per role, shipped with the package, printable and replaceable.

A guideline names its role, holds the role's methodological settings (validated against the role's
schema below) and, for the engineers and the statistician, the ordered **action units**: name,
instruction (prose a scientist reads), reviewer, optional flag, the structured output the unit must
produce and the checks that output must pass.

    guides = load_guidelines([Path("my-geo.toml")])   # shipped guidelines, geo replaced by the file
    guides["geo"].unit("clinical_features").instruction
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from omicsagent.errors import ConfigError

ROLES = ("pi", "geo", "tcga", "statistician", "code_reviewer", "domain_expert")
ENGINEERS = ("geo", "tcga")
UNIT_ROLES = ("geo", "tcga", "statistician")  # roles whose guideline lists action units
REVIEWERS = ("code_reviewer", "domain_expert", "none")
_BASE_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "dict": dict}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# ----- settings per role --------------------------------------------------------------------------


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TcgaSettings(_Settings):
    reference_compatible: bool = False
    max_gene_missing: float = Field(0.2, ge=0, le=1)
    max_sample_missing: float = Field(0.05, ge=0, le=1)
    log_transform: Literal["never", "if_linear"] = "never"


class GeoSettings(TcgaSettings):
    row_preview_values: int = Field(30, ge=1)


class StatisticianSettings(_Settings):
    reference_compatible: bool = False
    penalty_grid: list[float] = Field(default_factory=lambda: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    instrument_rule: Literal["genotex", "genomas"] = "genotex"

    @field_validator("penalty_grid")
    @classmethod
    def _grid(cls, v: list[float]) -> list[float]:
        if not v or any(a <= 0 for a in v):
            raise ValueError("the penalty grid needs at least one positive value")
        return v


class PISettings(_Settings):
    max_backtracks: int = Field(2, ge=0)
    max_review_rounds: int = Field(3, ge=1)
    reuse_code: bool = True
    memory_offers: int = Field(3, ge=0)
    unit_timeout_s: float = Field(900, gt=0)
    unit_memory_mb: int = Field(6144, ge=256)


class CodeReviewerSettings(_Settings):
    min_symbol_fraction: float = Field(0.5, ge=0, le=1)
    min_genes: int = Field(10, ge=1)
    min_sample_overlap: float = Field(0.5, ge=0, le=1)


class DomainExpertSettings(_Settings):
    use_knowledge_table: bool = True
    min_term_length: int = Field(2, ge=1)


SETTINGS: dict[str, type[_Settings]] = {
    "pi": PISettings,
    "geo": GeoSettings,
    "tcga": TcgaSettings,
    "statistician": StatisticianSettings,
    "code_reviewer": CodeReviewerSettings,
    "domain_expert": DomainExpertSettings,
}


# ----- units and guidelines -----------------------------------------------------------------------


def check_type(value: Any, spec: str) -> bool:
    """Does ``value`` fit a ``produces`` type such as ``int``, ``str?`` (nullable) or ``int|str?``?"""
    nullable = spec.endswith("?")
    kinds = spec.rstrip("?").split("|")
    if value is None:
        return nullable
    if "any" in kinds:
        return True
    for kind in kinds:
        want = _BASE_TYPES[kind]
        if isinstance(value, bool) and kind != "bool":
            continue  # JSON true is not a number here
        if isinstance(value, want):
            return True
    return False


class ActionUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    title: str = ""
    instruction: str
    reviewer: Literal["code_reviewer", "domain_expert", "none"] = "code_reviewer"
    optional: bool = False
    produces: dict[str, str] = Field(default_factory=dict)
    checks: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"unit name {v!r} must be lower-case letters, digits and _")
        return v

    @field_validator("produces")
    @classmethod
    def _types(cls, v: dict[str, str]) -> dict[str, str]:
        for key, spec in v.items():
            kinds = spec.rstrip("?").split("|")
            bad = [k for k in kinds if k not in _BASE_TYPES and k != "any"]
            if bad:
                raise ValueError(
                    f"type {spec!r} of {key!r} is not one of {', '.join([*_BASE_TYPES, 'any'])} "
                    "(add ? for nullable, | for either)"
                )
        return v

    def output_problems(self, output: dict[str, Any]) -> list[str]:
        """Fields of ``produces`` that are missing or of the wrong type."""
        out = []
        for key, spec in self.produces.items():
            if key not in output:
                out.append(f"the output lacks {key!r} ({spec})")
            elif not check_type(output[key], spec):
                out.append(f"the output's {key!r} is {type(output[key]).__name__}, not {spec}")
        return out


class Guideline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["pi", "geo", "tcga", "statistician", "code_reviewer", "domain_expert"]
    title: str
    description: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    units: list[ActionUnit] = Field(default_factory=list)
    synonyms: dict[str, list[str]] = Field(default_factory=dict)  # domain expert: trait -> extra terms
    source: str = Field("shipped", exclude=True)

    def unit(self, name: str) -> ActionUnit:
        for u in self.units:
            if u.name == name:
                return u
        raise KeyError(name)

    @property
    def unit_names(self) -> list[str]:
        return [u.name for u in self.units]

    def typed_settings(self) -> _Settings:
        return SETTINGS[self.role].model_validate(self.settings)

    def digest(self) -> str:
        """Short hash of the guideline's content (recorded with every result)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def shipped_text(role: str) -> str:
    """The shipped guideline file of ``role``, exactly as it is (comments included)."""
    if role not in ROLES:
        raise ConfigError(f"There is no role {role!r}; the roles are {', '.join(ROLES)}.")
    return resources.files("omicsagent.expression.team").joinpath("guidelines", f"{role}.toml").read_text()


def parse_guideline(text: str, *, source: str) -> Guideline:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source} is not valid TOML ({err}); fix the syntax.") from None
    role = raw.get("role")
    if role not in ROLES:
        raise ConfigError(f"{source} names role {role!r}; set role to one of {', '.join(ROLES)}.")
    try:
        guide = Guideline.model_validate({**raw, "source": source})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{source}: {where} is invalid ({first['msg']}); fix it or start again from "
                          f"`omicsagent expr guideline show {role}`.") from None
    try:
        typed = SETTINGS[role].model_validate(guide.settings)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        known = ", ".join(SETTINGS[role].model_fields)
        raise ConfigError(f"{source}: setting {where!r} is invalid ({first['msg']}); the {role} settings are "
                          f"{known}.") from None
    guide.settings = typed.model_dump()
    _validate_units(guide, source)
    return guide


def _validate_units(guide: Guideline, source: str) -> None:
    from omicsagent.expression.team.checks import CHECKS

    names = guide.unit_names
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ConfigError(f"{source} lists unit {min(dup)!r} twice; give every unit its own name.")
    if guide.role in UNIT_ROLES and not guide.units:
        raise ConfigError(f"{source} has no [[units]]; the {guide.role} guideline needs at least one.")
    if guide.role not in UNIT_ROLES and guide.units:
        raise ConfigError(f"{source}: the {guide.role} role runs no action units; remove its [[units]].")
    for unit in guide.units:
        unknown = [c for c in unit.checks if c not in CHECKS]
        if unknown:
            raise ConfigError(
                f"{source}: unit {unit.name!r} names the unknown check {unknown[0]!r}; the checks "
                f"are {', '.join(sorted(CHECKS))}."
            )
    if guide.synonyms and guide.role != "domain_expert":
        raise ConfigError(f"{source}: [synonyms] belongs in the domain_expert guideline.")


def load_shipped(role: str) -> Guideline:
    return parse_guideline(shipped_text(role), source=f"shipped {role} guideline")


def load_guidelines(paths: list[Path] | None = None) -> dict[str, Guideline]:
    """The shipped guideline of every role, each replaced by a user file naming the same role."""
    guides = {role: load_shipped(role) for role in ROLES}
    seen: dict[str, Path] = {}
    for path in paths or []:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"The guideline file {path} does not exist; write one with "
                              "`omicsagent expr guideline show ROLE > FILE`.")
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ConfigError(f"{path} is not a text file; pass a TOML guideline.") from None
        guide = parse_guideline(text, source=str(path))
        if guide.role in seen:
            raise ConfigError(f"{seen[guide.role]} and {path} are both {guide.role} guidelines; pass one.")
        seen[guide.role] = path
        guides[guide.role] = guide
    return guides
