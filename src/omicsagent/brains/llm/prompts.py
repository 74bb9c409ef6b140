"""Render the prompt data files (``prompts/*.md``, ``prompts/steps.toml``) for one step.

A step sees the system prompt, the task card and description, the reflection's instruction, and the
structured outputs of earlier steps of this iteration (never their tool trajectories). Reflection also sees
every past iteration's outputs, metrics, duration and failure, and the time and budget left.
"""
from __future__ import annotations

import json
import os
import time
import tomllib
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

from omicsagent.agent.steps import STEPS

if TYPE_CHECKING:
    from omicsagent.agent.context import StepContext

MAX_PREVIOUS_CHARS = 3000
MAX_DESCRIPTION_CHARS = 6000


def load_text(name: str) -> str:
    return resources.files("omicsagent.brains.llm").joinpath("prompts", name).read_text(encoding="utf-8")


def step_guides() -> dict[str, str]:
    data = tomllib.loads(load_text("steps.toml"))
    return {name: str(entry.get("guide", "")).strip() for name, entry in data.items()}


def render(template: str, **values: Any) -> str:
    return Template(template).safe_substitute({k: str(v) for k, v in values.items()})


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} characters cut]"


def ml_catalogue() -> tuple[str, str]:
    """(blocks, models) as bullet lists read from the ``omicsagent.ml`` registries; generic text if
    unavailable."""
    try:
        from dataclasses import MISSING, fields

        from omicsagent.ml.features import block_classes
        from omicsagent.ml.models.base import model_classes
    except Exception:  # noqa: BLE001 - the catalogue is a convenience
        return "- see omicsagent.ml.features", "- see omicsagent.ml.models"

    def line(kind: str, cls: type, opts: list[str]) -> str:
        doc = " ".join((cls.__doc__ or "").split())
        return f"- `{kind}` ({', '.join(opts)}): {doc[:300]}"

    blocks, models = [], []
    try:
        for kind, cls in block_classes().items():
            opts = [
                f.name if f.default is MISSING and f.default_factory is MISSING else f"{f.name}={f.default!r}"
                for f in fields(cls)
                if f.init and not f.name.startswith("_")
            ]
            blocks.append(line(kind, cls, opts))
        for kind, cls in model_classes().items():
            models.append(line(kind, cls, cls.option_names()))
    except Exception:  # noqa: BLE001
        return "- see omicsagent.ml.features", "- see omicsagent.ml.models"
    return "\n".join(blocks), "\n".join(models)


def system_prompt(ctx: "StepContext", *, catalogue: tuple[str, str]) -> str:
    blocks, models = catalogue
    ml = render(load_text("ml_blocks.md"), blocks=blocks, models=models)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return render(load_text("system.md"), iter_dir=ctx.rel(ctx.iter_dir), cores=cores, ml_blocks=ml)


def _proba_note(ctx: "StepContext") -> str:
    classes = ctx.task.classes or []
    if ctx.task.task_type == "regression" or not classes:
        return " (numbers; regression)"
    cols = ", ".join(f"`probability_{c}`" for c in classes[:12])
    return f" (one of {', '.join(map(str, classes[:12]))}) plus {cols}"


def _compact(obj: Any) -> str:
    return json.dumps(_rounded(obj), default=str, ensure_ascii=False)


def _rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def _previous_block(ctx: "StepContext") -> str:
    if not ctx.previous or ctx.step == "reflection":  # reflection reads the whole history instead
        return ""
    parts = ["\n## Results of the earlier steps of this iteration"]
    for name, output in ctx.previous.items():
        title = "Harness scoring of this iteration" if name == "_iteration" else f"Step `{name}`"
        parts.append(f"### {title}\n```json\n{_clip(_compact(output), MAX_PREVIOUS_CHARS)}\n```")
    return "\n".join(parts) + "\n"


def step_prompt(ctx: "StepContext", *, max_requests: int, tool_timeout_s: float, spent: float | None,
                max_cost: float | None) -> str:
    from omicsagent.tasks.card import task_card_markdown

    iter_dir = ctx.rel(ctx.iter_dir)
    values = dict(iter_dir=iter_dir, train_file=ctx.train_file, seed=ctx.seed,
                  validation_features=ctx.validation_features or "(not prepared yet)",
                  n_validation=ctx.n_validation, proba_note=_proba_note(ctx))
    guide = render(step_guides().get(ctx.step, ""), **values)
    instruction = f"\n## Instruction from the last reflection\n{ctx.instruction}\n" if ctx.instruction else ""
    feedback = ""
    if ctx.feedback:
        feedback = (
            f"\n## Correction (attempt {ctx.attempt})\nYour previous answer to this step was rejected: "
            f"{ctx.feedback}\nFix the cause, check the result, then answer again.\n"
        )
    text = render(
        load_text("step_user.md"),
        step=ctx.step,
        iteration=ctx.iteration,
        purpose=STEPS[ctx.step].purpose,
        guide=guide + "\n",
        task_card=task_card_markdown(ctx.task),
        description=_clip(ctx.task.description or "(none)", MAX_DESCRIPTION_CHARS),
        instruction_block=instruction,
        previous_block=_previous_block(ctx),
        feedback_block=feedback,
        time_left=clock(ctx.time_left()),
        max_requests=max_requests,
        tool_timeout=clock(min(tool_timeout_s, ctx.time_left())),
        **values,
    )
    if ctx.step == "reflection":
        text += "\n" + reflection_history(ctx, spent=spent, max_cost=max_cost)
    return text


def _iteration_summary(it: Any, metric: str) -> dict[str, Any]:
    steps = {}
    for s in it.steps:
        if s.name in ("exploration", "split", "reflection"):
            continue
        entry: dict[str, Any] = {"status": s.status, "attempts": s.attempts}
        if s.error:
            entry["error"] = _clip(s.error, 600)
        if s.output:
            entry["output"] = {
                k: v for k, v in s.output.items() if k not in ("train_script", "inference_script")
            }
        steps[s.name] = entry
    return {
        "iteration": it.index,
        "status": it.status,
        "summary": it.summary,
        "representation": it.representation,
        "model": it.model,
        "hyperparameters": it.hyperparameters,
        "train_metrics": it.train_metrics,
        "validation_metrics": it.validation_metrics,
        f"validation_{metric}": it.validation_metrics.get(metric),
        "duration_s": round(it.duration_s or (time.time() - it.started_at if it.started_at else 0.0), 1),
        "failure": it.failure,
        "instructions_given_before_it": {},
        "steps": steps,
    }


def reflection_history(ctx: "StepContext", *, spent: float | None, max_cost: float | None) -> str:
    j = ctx.journal
    metric = j.task.metric
    items, prev_instr = [], {}
    for it in j.iterations:
        item = _iteration_summary(it, metric)
        item["instructions_given_before_it"] = prev_instr
        prev_instr = it.instructions
        items.append(_clip(_compact(item), 4000))
    best = j.best_iteration
    best_text = "none yet" if best is None else f"iteration {best.index} ({metric} = {j.primary(best)})"
    direction = "higher is better" if j.task.greater_is_better else "lower is better"
    spent_text = "unknown (local model)" if spent is None else f"${spent:.4f}"
    budget = f" of a ${max_cost:.2f} limit" if max_cost else " (no limit)"
    return render(load_text("reflection_user.md"), metric=metric, direction=direction,
                  iterations_planned=j.settings.iterations, iterations_done=len(j.iterations),
                  time_left=clock(ctx.time_left()), spent=spent_text, budget_note=budget, best=best_text,
                  history="\n\n".join(f"```json\n{x}\n```" for x in items) or "(no iterations yet)")
