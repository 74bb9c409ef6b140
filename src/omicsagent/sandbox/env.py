"""The environment a sandboxed command gets: rebuilt from an allow-list, never inherited."""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

log = logging.getLogger("omicsagent.sandbox")

# Names that look like credentials are refused even when the caller passes them explicitly.
_SECRET = re.compile(r"(KEY$|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|^AWS_)", re.IGNORECASE)
_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def is_secret_name(name: str) -> bool:
    """True for names such as OPENAI_API_KEY, GITHUB_TOKEN, DB_PASSWORD, AWS_REGION."""
    return bool(_SECRET.search(name))


def default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def build_env(
    extra: Mapping[str, str] | None = None,
    *,
    path: str,
    home: str,
    tmpdir: str,
) -> dict[str, str]:
    """The allow-listed base environment plus ``extra``, minus anything that looks secret."""
    threads = str(default_threads())
    env = {
        "PATH": path,
        "HOME": home,
        "TMPDIR": tmpdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",  # no display in the sandbox
        **{name: threads for name in THREAD_VARS},
    }
    for name, value in (extra or {}).items():
        if not _VALID_NAME.match(name):
            raise ValueError(f"Environment variable name {name!r} is not valid; use letters, digits, _.")
        if is_secret_name(name):
            log.warning("Refusing to pass %s into the sandbox: it looks like a secret.", name)
            continue
        env[name] = str(value)
    return env
