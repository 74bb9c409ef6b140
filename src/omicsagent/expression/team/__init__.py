"""The gene-expression agent team (GenoMAS-style) on omicsagent's engine.

Roles (PI, GEO and TCGA data engineers, statistician, code reviewer, domain expert) follow editable
guidelines (``guidelines/<role>.toml``) made of action units. Before each step the acting role plans
(advance, skip, go back, finish); each unit is a script run in the sandbox and reviewed; approved code
is remembered and reused. ``run_team`` solves GenoTEX problems and writes the GenoTEX output layout.
See docs/expression-team.md. Nothing runs on import.
"""

from __future__ import annotations

__all__ = ["TeamSettings", "run_team"]


def __getattr__(name: str):
    if name in __all__:
        from omicsagent.expression.team import pi

        return getattr(pi, name)
    raise AttributeError(name)
