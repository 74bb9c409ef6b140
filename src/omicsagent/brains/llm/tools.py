"""The tools a step agent may call. All of them act inside the workspace: commands run in the sandbox,
file paths are confined with ``Workspace.confine``; outputs are cut head-and-tail with a note.

A tool never raises for the model's mistakes (bad path, missing file, failing command): it returns the
error text so the model can correct itself without spending its retry budget.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic_ai import RunContext, Tool

from omicsagent.errors import ModelMistake

if TYPE_CHECKING:
    from omicsagent.agent.context import StepContext
    from omicsagent.sandbox import ExecResult

MAX_TOOL_OUTPUT = 12_000
MAX_FILE_BYTES = 2_000_000


@dataclass
class StepDeps:
    """What the tools and the output validator see."""

    ctx: StepContext
    tool_timeout_s: float
    max_output: int = MAX_TOOL_OUTPUT


def truncate(text: str, limit: int = MAX_TOOL_OUTPUT) -> str:
    """Keep the head and the tail; say how much was cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit // 2], text[-(limit // 2):]
    cut = len(text) - len(head) - len(tail)
    return f"{head}\n[... {cut} characters omitted: showing the first and last {limit // 2} ...]\n{tail}"


def _exec_report(res: ExecResult, deps: StepDeps) -> str:
    status = "ok" if res.ok else "FAILED"
    why = ""
    if res.timed_out:
        why = f", timed out after {res.duration_s:.0f} s"
    elif res.memory_exceeded:
        why = f", exceeded the memory limit ({res.peak_memory_mb:.0f} MB)"
    head = f"[{status}: exit code {res.exit_code}{why}, {res.duration_s:.1f} s]"
    note = "\n[the sandbox kept only part of a long output]" if res.truncated else ""
    return f"{head}\n{truncate(res.output, deps.max_output)}{note}"


def _timeout(deps: StepDeps, timeout_s: float | None) -> float:
    cap = deps.tool_timeout_s
    return cap if timeout_s is None or timeout_s <= 0 else min(float(timeout_s), cap)


def bash(ctx: RunContext[StepDeps], command: str, timeout_s: float | None = None) -> str:
    """Run a bash command in the sandbox, working directory = the workspace root. Returns exit code and
    output.

    Args:
        command: The shell command, e.g. "head -5 inputs/train.csv" or "pip list | grep torch".
        timeout_s: Seconds before the command is killed (capped by the run's limit).
    """
    deps = ctx.deps
    res = deps.ctx.run(["bash", "-lc", command], timeout_s=_timeout(deps, timeout_s), purpose="bash")
    return _exec_report(res, deps)


def run_python(ctx: RunContext[StepDeps], script: str, args: list[str] | None = None,
               timeout_s: float | None = None) -> str:
    """Run a Python script of the workspace in the sandbox with arguments; returns exit code and output.

    Args:
        script: Path of the script relative to the workspace root, e.g. "artifacts/iter_1/train.py".
        args: Command-line arguments, e.g. ["--input", "x.csv", "--output", "y.csv"].
        timeout_s: Seconds before the script is killed (capped by the run's limit).
    """
    deps = ctx.deps
    try:
        path = deps.ctx.workspace.confine(script)
    except ModelMistake as err:
        return f"error: {err}"
    if not path.is_file():
        return f"error: {script!r} does not exist; write it first with write_file."
    rel = deps.ctx.rel(path)
    res = deps.ctx.run(["python", rel, *[str(a) for a in (args or [])]], timeout_s=_timeout(deps, timeout_s),
                       purpose=f"python {rel}")
    return _exec_report(res, deps)


def write_file(ctx: RunContext[StepDeps], path: str, content: str) -> str:
    """Create or overwrite a text file (only under scratch/ or artifacts/); parent folders are created.

    Args:
        path: Path relative to the workspace root, e.g. "artifacts/iter_1/train.py".
        content: The complete file content.
    """
    try:
        target = ctx.deps.ctx.workspace.confine(path, writable=True)
    except ModelMistake as err:
        return f"error: {err}"
    if target.is_dir():
        return f"error: {path!r} is a folder; give a file path."
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    return f"wrote {len(content.encode())} bytes to {path}"


def replace_in_file(ctx: RunContext[StepDeps], path: str, old: str, new: str) -> str:
    """Replace one exact occurrence of `old` by `new` in a file under scratch/ or artifacts/.

    Args:
        path: Path relative to the workspace root.
        old: Text to replace; must occur exactly once (include surrounding lines to make it unique).
        new: Replacement text.
    """
    try:
        target = ctx.deps.ctx.workspace.confine(path, writable=True)
    except ModelMistake as err:
        return f"error: {err}"
    if not target.is_file():
        return f"error: {path!r} does not exist; create it with write_file."
    text = target.read_text(errors="replace")
    count = text.count(old) if old else 0
    if count != 1:
        return (f"error: the text to replace occurs {count} times in {path}; it must occur exactly once "
                f"(copy it exactly, with more surrounding lines if needed).")
    target.write_text(text.replace(old, new, 1))
    return f"replaced 1 occurrence in {path}"


def read_file(ctx: RunContext[StepDeps], path: str, start_line: int = 1, max_lines: int = 300) -> str:
    """Read lines of a workspace file (or list a folder).

    Args:
        path: Path relative to the workspace root, e.g. "inputs/train.csv" or "artifacts".
        start_line: First line to show (1-based).
        max_lines: How many lines to show.
    """
    deps = ctx.deps
    try:
        target = deps.ctx.workspace.confine(path)
    except ModelMistake as err:
        return f"error: {err}"
    if target.is_dir():
        entries = sorted(target.iterdir())
        shown = [
            f"{p.name}/" if p.is_dir() else f"{p.name}  ({p.stat().st_size} bytes)" for p in entries[:200]
        ]
        more = f"\n... {len(entries) - 200} more" if len(entries) > 200 else ""
        return "\n".join(shown) + more if shown else "(empty folder)"
    if not target.is_file():
        return f"error: {path!r} does not exist."
    with target.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES)
    lines = data.decode(errors="replace").splitlines()
    start = max(1, int(start_line))
    chunk = lines[start - 1: start - 1 + max(1, int(max_lines))]
    end = start + len(chunk) - 1
    note = f"\n[lines {start}-{end} of {len(lines)}{'+' if len(data) == MAX_FILE_BYTES else ''}]"
    return truncate("\n".join(chunk), deps.max_output) + note


def step_tools(step: str) -> list[Tool[StepDeps]]:
    """Reflection reads; every other step may also run commands and write files.

    Every tool is ``sequential``: calls the model sends together run one after another, in order, so
    "write the script, then run it" in one turn does what it says.
    """
    funcs = (
        [read_file] if step == "reflection" else [bash, run_python, write_file, replace_in_file, read_file]
    )
    return [Tool(f, takes_ctx=True, sequential=True) for f in funcs]
