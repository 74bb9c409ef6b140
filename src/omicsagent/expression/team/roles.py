"""Which brain each role gets: ``--brain expert|llm`` for all roles, refined per role in the config file.

    [llm]                          # shared by every LLM role (the keys of `omicsagent run --config`)
    model = "openai:gpt-4.1"

    [roles.geo]                    # one table per role: brain, model, base_url, temperature, ...
    model = "openai:gpt-4.1-mini"

    [roles.domain_expert]
    brain = "expert"               # this role stays offline

Keys come from the environment or ``--env-file``, never from this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omicsagent.configfile import read_toml
from omicsagent.errors import ConfigError
from omicsagent.expression.team.brain import RoleBrain
from omicsagent.expression.team.expert import ExpertBrain, check_expert_units
from omicsagent.expression.team.guideline import Guideline

LOOP_ROLES = ("geo", "tcga", "statistician", "code_reviewer", "domain_expert")  # the PI follows its guideline
ROLE_KEYS = ("brain", "model", "base_url", "temperature", "max_requests_per_step", "max_retries",
             "provider_retries", "request_timeout_s", "price_model")
BRAINS = ("expert", "llm")


def read_roles(config: Path | None) -> dict[str, dict[str, Any]]:
    if config is None:
        return {}
    path = Path(config)
    raw = read_toml(path)
    roles = raw.get("roles", {})
    if not isinstance(roles, dict):
        raise ConfigError(f"{path}: [roles] must hold one table per role, e.g. [roles.geo].")
    for role, table in roles.items():
        if role == "pi":
            raise ConfigError(
                f"{path}: the PI dispatches by its guideline and has no brain; remove [roles.pi]."
            )
        if role not in LOOP_ROLES:
            raise ConfigError(f"{path}: unknown role {role!r}; the roles are {', '.join(LOOP_ROLES)}.")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: roles.{role} must be a table.")
        for key in table:
            if "key" in key.lower() or "token" in key.lower():
                raise ConfigError(
                    f"{path} sets roles.{role}.{key}; keep keys out of config files (environment "
                    "or --env-file)."
                )
            if key not in ROLE_KEYS:
                raise ConfigError(f"{path}: unknown setting roles.{role}.{key}; use {', '.join(ROLE_KEYS)}.")
        if table.get("brain", "expert") not in BRAINS:
            raise ConfigError(f"{path}: roles.{role}.brain must be expert or llm.")
    return roles


def build_brains(*, brain: str, guides: dict[str, Guideline], config: Path | None = None,
                 env_file: Path | None = None, model: str | None = None) -> dict[str, RoleBrain]:
    """One brain per loop role. LLM configs are validated here, before any work starts."""
    if brain not in BRAINS:
        raise ConfigError(f"--brain {brain!r} is not known; use expert or llm.")
    roles = read_roles(config)
    kinds = {role: roles.get(role, {}).get("brain", brain) for role in LOOP_ROLES}
    if model and all(k == "expert" for k in kinds.values()):
        raise ConfigError("--model is for LLM roles; add --brain llm or drop --model.")
    check_expert_units(guides, [r for r in ("geo", "tcga", "statistician") if kinds[r] == "expert"])
    out: dict[str, RoleBrain] = {}
    for role in LOOP_ROLES:
        if kinds[role] == "expert":
            out[role] = ExpertBrain(role)
            continue
        try:
            from omicsagent.brains.llm.config import load_llm_config
            from omicsagent.expression.team.llm import LLMRoleBrain
        except ImportError as err:
            raise ConfigError(
                f"the LLM brain is not available in this installation ({err}); use --brain expert."
            ) from None
        table = {k: v for k, v in roles.get(role, {}).items() if k != "brain"}
        cfg = load_llm_config(model=table.pop("model", None) or model, base_url=table.pop("base_url", None),
                              env_file=env_file, config_file=config, **table)
        out[role] = LLMRoleBrain(role, cfg)
    return out


def describe_brains(brains: dict[str, RoleBrain]) -> str:
    parts = []
    for role, b in brains.items():
        info = b.describe()
        parts.append(f"{role}={info.get('model', b.name)}" if b.name == "llm" else f"{role}={b.name}")
    return ", ".join(parts)
