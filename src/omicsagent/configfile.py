"""Reading a user's TOML configuration file (the one `--config` names), with one-sentence errors."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from omicsagent.errors import ConfigError


def read_toml(path: Path | str) -> dict[str, Any]:
    """The parsed file; ``ConfigError`` when it is missing or not TOML. Every ``--config`` reader uses it."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"The config file {path} does not exist; check the --config path.")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not valid TOML ({err}); fix the syntax.") from None
