"""Two kinds of failure.

* ``OmicsAgentError`` and subclasses: problems with the user's input, configuration or machine. The
  message is one sentence saying what is wrong and how to fix it; the CLI prints it and exits with
  ``exit_code``. Never a traceback. ``InternalError`` is the one for our own bugs: exit code 1, the
  traceback in the run's log file.
* ``ModelMistake``: something a brain got wrong (a script that fails, a wrong output). It is recorded
  on the step and shown to the brain so it can correct itself; it never escapes the loop.
"""
from __future__ import annotations


class OmicsAgentError(Exception):
    """A user-facing error: ``str(err)`` is one sentence with the fix."""

    exit_code = 1


class InputError(OmicsAgentError):
    """Bad user input: a dataset, a file, an argument."""

    exit_code = 2


class ConfigError(OmicsAgentError):
    """Bad or missing configuration (model name, API key, config file)."""

    exit_code = 2


class SandboxUnavailable(OmicsAgentError):
    """The sandbox cannot run on this machine."""

    exit_code = 3


class RunStateError(OmicsAgentError):
    """A run directory is missing, corrupted, or in a state that forbids the action."""

    exit_code = 2


class InternalError(OmicsAgentError):
    """A bug in omicsagent itself (harness, validator, loop), never blamed on a brain: the run stops as
    ``failed``, the traceback goes to the run's log file and the message says where."""

    exit_code = 1


class ModelMistake(Exception):
    """A brain's mistake, fed back to the brain (never shown as a crash)."""


def command(*words: object) -> str:
    """A command to suggest in a message, each word shell-quoted so it can be pasted as shown.

    ``command("omicsagent", "resume", "runs/my run [v1]")`` -> ``omicsagent resume 'runs/my run [v1]'``.
    Every message that suggests a command builds it here.
    """
    import shlex

    return " ".join(shlex.quote(str(w)) for w in words)
