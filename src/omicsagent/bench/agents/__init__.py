"""Agents: anything that turns ``public/`` into ``submission.csv`` within a time limit.

Built in: ``expert`` (the offline brain through the real ``omicsagent run`` loop, then ``omicsagent predict``
on the test inputs), ``llm:PROVIDER:MODEL`` (the same with the LLM brain), ``baseline:floor`` and
``baseline:autogluon``. External agents are command templates: ``--agent "name=cmd {public} {out}
{time_limit}"``, run in the bubblewrap sandbox with only ``public/`` readable and ``{out}`` writable.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import asdict, dataclass

from omicsagent.errors import ConfigError

BUILTIN = ("expert", "baseline:floor", "baseline:autogluon")
PLACEHOLDERS = ("public", "out", "time_limit", "seed")


@dataclass(frozen=True)
class AgentSpec:
    name: str
    kind: str  # expert | llm | floor | autogluon | external
    model: str | None = None  # llm: PROVIDER:MODEL
    command: str | None = None  # external: the template

    def to_dict(self) -> dict:
        return asdict(self)


def parse_external(defs: list[str]) -> dict[str, str]:
    """``name=command template`` definitions -> {name: template}."""
    out: dict[str, str] = {}
    for d in defs:
        name, sep, cmd = d.partition("=")
        name, cmd = name.strip(), cmd.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.:-]+", name) or not cmd:
            raise ConfigError(
                f'--agent {d!r} is not NAME=COMMAND; write it like --agent "mine=python agent.py '
                '{public} {out} {time_limit}".'
            )
        if name in BUILTIN or name.startswith("llm:"):
            raise ConfigError(f"--agent {name!r} reuses a built-in agent's name; pick another name.")
        if "{out}" not in cmd:
            raise ConfigError(f"--agent {name!r}: the command must contain {{out}} (the folder to write "
                              "submission.csv into).")
        for field in re.findall(r"\{([^}]*)\}", cmd):
            if field not in PLACEHOLDERS:
                raise ConfigError(f"--agent {name!r}: unknown placeholder {{{field}}}; use "
                                  f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}.")
        out[name] = cmd
    return out


def autogluon_available() -> bool:
    try:
        return importlib.util.find_spec("autogluon.tabular") is not None
    except ModuleNotFoundError:
        return False


def parse_agents(names: list[str], external: dict[str, str]) -> list[AgentSpec]:
    specs: list[AgentSpec] = []
    for raw in [*names, *[n for n in external if n not in names]]:
        name = raw.strip()
        if not name:
            continue
        if name in external:
            specs.append(AgentSpec(name, "external", command=external[name]))
        elif name == "expert":
            specs.append(AgentSpec(name, "expert"))
        elif name.startswith("llm:"):
            model = name[4:]
            if ":" not in model or not all(model.split(":", 1)):
                raise ConfigError(
                    f"agent {name!r} needs a model as llm:PROVIDER:MODEL, e.g. llm:openai:gpt-4.1."
                )
            specs.append(AgentSpec(name, "llm", model=model))
        elif name == "baseline:floor":
            specs.append(AgentSpec(name, "floor"))
        elif name == "baseline:autogluon":
            specs.append(AgentSpec(name, "autogluon"))
        else:
            raise ConfigError(
                f"unknown agent {name!r}; use expert, llm:PROVIDER:MODEL, baseline:floor, "
                'baseline:autogluon, or define it with --agent "NAME=COMMAND {public} {out}".'
            )
    if len({s.name for s in specs}) != len(specs):
        raise ConfigError("an agent is listed twice in --agents; list each once.")
    if not specs:
        raise ConfigError("no agent to run; pass --agents expert,baseline:floor (for example).")
    return specs
