"""The LLM brain of one team role: a chat model per role (its own config), one structured answer per call.

It reuses the ML LLM brain's pieces: ``make_chat_model`` (providers), ``RecordedModel`` (retries on
provider errors, pricing, usage, trajectory), ``Pricing``, ``model_settings`` and ``Trajectory`` (keys
redacted). Each decision, script and review is one pydantic-ai agent run with the output type
``Decision``, ``Attempt`` or ``Review``; prompts are data files in ``team/prompts``. The model writes
scripts; the loop runs them in the sandbox. Calls are written to ``<task folder>/trajectory.jsonl``.
"""

from __future__ import annotations

import json
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from omicsagent.agent.journal import Usage
from omicsagent.brains.llm.config import LLMConfig
from omicsagent.brains.llm.models import (
    BudgetExceeded,
    Pricing,
    ProviderFailed,
    RecordedModel,
    make_chat_model,
    model_settings,
)
from omicsagent.brains.llm.trajectory import TRAJECTORY_FILE, Trajectory
from omicsagent.errors import ModelMistake, OmicsAgentError
from omicsagent.expression.team.brain import (
    Attempt,
    Decision,
    PlanContext,
    Review,
    ReviewContext,
    TaskInfo,
    UnitContext,
)
from omicsagent.expression.team.guideline import load_shipped

if TYPE_CHECKING:
    from pydantic_ai.models import Model

MAX_JSON = 6000
MAX_SCRIPT = 12000


def _prompt(name: str) -> str:
    return resources.files("omicsagent.expression.team").joinpath("prompts", name).read_text()


def _render(name: str, **values: Any) -> str:
    return Template(_prompt(name)).safe_substitute({k: str(v) for k, v in values.items()})


def _json(obj: Any, limit: int = MAX_JSON) -> str:
    text = json.dumps(obj, default=str, ensure_ascii=False, indent=1)
    return text if len(text) <= limit else text[:limit] + f"\n... [{len(text) - limit} characters cut]"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n# ... [{len(text) - limit} characters cut]"


def _task(task: TaskInfo) -> dict[str, str]:
    cond = f", condition {task.condition}" if task.kind == "problem" else ""
    return {"trait": task.trait, "subject": task.subject, "kind": task.kind, "condition": cond}


class LLMRoleBrain:
    """A ``RoleBrain`` whose decisions, scripts and reviews come from a chat model.

    ``chat_model`` replaces the configured provider (a scripted pydantic-ai model in unit tests).
    """

    name = "llm"

    def __init__(self, role: str, config: LLMConfig, *, chat_model: Model | None = None) -> None:
        self.role = role
        self.config = config
        self._chat_model = chat_model
        self._model_obj: Model | None = None
        self._pending = Usage()
        guide = load_shipped(role)
        self._system = _render(
            "system.md", role_title=guide.title, role_description=" ".join(guide.description.split())
        )

    def describe(self) -> dict[str, Any]:
        info = self.config.public()
        info.pop("base_url", None)
        info.pop("reflection_base_url", None)
        return {"brain": self.name, "role": self.role, **info}

    def take_usage(self) -> Usage:
        used, self._pending = self._pending, Usage()
        return used

    # ----- the three calls -----
    def decide(self, ctx: PlanContext) -> Decision:
        units = "\n".join(f"- {u.name}{'?' if u.optional else ''} [{u.status}]: {u.title}" for u in ctx.units)
        stopped = bool(ctx.last_unit and ctx.outputs.get(ctx.last_unit, {}).get("stop") is True)
        prompt = _render(
            "decide.md",
            role=self.role,
            **_task(ctx.task),
            units=units,
            last_unit=ctx.last_unit or "none",
            next_unit=ctx.next_unit or "none",
            stopped=str(stopped).lower(),
            backtracks_left=ctx.backtracks_left,
            outputs=_json(ctx.outputs),
            history="\n".join(f"- {h}" for h in ctx.history) or "(nothing yet)",
            feedback=f"\nYour previous decision was refused: {ctx.feedback}\n" if ctx.feedback else "",
        )
        return self._ask("decide", prompt, Decision, ctx.task)

    def write(self, ctx: UnitContext) -> Attempt:
        u = ctx.unit
        directive = ""
        if ctx.directive or ctx.directive_reason:
            directive = (f"\n## Why this unit runs again\n{ctx.directive_reason}\nDirective: "
                         f"`{json.dumps(ctx.directive)}`\n")
        feedback = ""
        if ctx.feedback:
            items = "\n".join(f"- {s}" for r in ctx.feedback for s in r.suggestions)
            feedback = f"\n## The reviews of your earlier rounds (fix every point)\n{items}\n"
        previous = ""
        if ctx.previous_script:
            previous = (
                f"\n## Your previous script\n```python\n{_clip(ctx.previous_script, MAX_SCRIPT)}\n```\n"
            )
        offers = ""
        if ctx.offers:
            blocks = [f"### id {e.sha} (approved on {', '.join(e.cohorts[-3:])})\n```python\n"
                      f"{_clip(e.code, MAX_SCRIPT)}\n```" for e in ctx.offers]
            offers = ("\n## Code memory: scripts approved for this unit on earlier cohorts\n"
                      "Reuse one as it is when it fits; adapt it otherwise.\n" + "\n".join(blocks) + "\n")
        prompt = _render(
            "write.md",
            role=self.role,
            **_task(ctx.task),
            unit=u.name,
            round=ctx.round,
            max_rounds=ctx.max_rounds,
            unit_title=u.title,
            instruction=" ".join(u.instruction.split()),
            produces=", ".join(f"`{k}` ({v})" for k, v in u.produces.items()) or "(anything useful)",
            checks=", ".join(u.checks) or "(none)",
            reviewer=u.reviewer,
            settings=_json(ctx.guideline.settings),
            directive=directive,
            feedback=feedback,
            previous_script=previous,
            offers=offers,
            outputs=_json(ctx.outputs),
            conventions=ctx.conventions,
        )
        return self._ask("write", prompt, Attempt, ctx.task, extra={"unit": u.name, "round": ctx.round})

    def review(self, ctx: ReviewContext) -> Review:
        u = ctx.unit
        checks = "\n".join(f"- FAILED: {c}" for c in ctx.checks) if ctx.checks else "All checks passed."
        prompt = _render(
            "review.md",
            role=self.role,
            **_task(ctx.task),
            unit=u.name,
            round=ctx.round,
            author=ctx.author_role,
            instruction=" ".join(u.instruction.split()),
            produces=", ".join(f"`{k}` ({v})" for k, v in u.produces.items()) or "(anything)",
            script=_clip(ctx.script, MAX_SCRIPT),
            run_status=ctx.run_status,
            run_log=_clip(ctx.run_log, 4000),
            output=_json(ctx.output),
            checks=checks,
            history="\n".join(f"- {h}" for h in ctx.history) or "(this is the first unit)",
        )
        return self._ask("review", prompt, Review, ctx.task, extra={"unit": u.name, "round": ctx.round})

    # ----- one agent run -----
    def _model(self) -> Model:
        if self._chat_model is not None:
            return self._chat_model
        if self._model_obj is None:
            self._model_obj = make_chat_model(self.config.model, self.config)
        return self._model_obj

    def _ask(self, kind: str, prompt: str, output_type: type[BaseModel], task: TaskInfo,
             extra: dict[str, Any] | None = None) -> Any:
        from pydantic_ai import Agent
        from pydantic_ai.exceptions import AgentRunError
        from pydantic_ai.usage import UsageLimits

        spec = self.config.model
        path = task.folder / TRAJECTORY_FILE if task.folder is not None else None
        trajectory = Trajectory(
            path,
            secrets=self.config.secret_values(),
            context={
                "role": self.role,
                "call": kind,
                "task": f"{task.trait}/{task.subject}",
                **(extra or {}),
            },
        )
        recorded = RecordedModel(self._model(), spec=spec, config=self.config,
                                 pricing=Pricing.for_model(spec, self.config), trajectory=trajectory)
        agent = Agent(recorded, output_type=output_type, instructions=self._system,
                      retries={"output": self.config.max_retries}, model_settings=model_settings(self.config),
                      name=f"omicsagent-team-{self.role}-{kind}")
        try:
            result = agent.run_sync(
                prompt, usage_limits=UsageLimits(request_limit=self.config.max_requests_per_step)
            )
        except OmicsAgentError:
            self._pending = self._pending.add(recorded.usage)
            raise
        except (BudgetExceeded, ProviderFailed, AgentRunError) as err:
            self._pending = self._pending.add(recorded.usage)
            trajectory.write("call_failed", error=str(err)[:500])
            raise ModelMistake(f"the {self.role} model gave no valid {kind} ({str(err)[:300]})") from err
        self._pending = self._pending.add(recorded.usage)
        trajectory.write("answer", output=result.output.model_dump(mode="json"))
        return result.output
