"""The LLM brain: each step is a pydantic-ai agent with the step's output type, the workspace tools, and an
output validator that runs the loop's own validator and sends its correction back to the model.

Failures the model could not fix within the bounded retries become ``ModelMistake`` (the loop retries the
step or fails the iteration); a rejected key or unknown model becomes ``ConfigError`` (the run stops).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.exceptions import AgentRunError, UnexpectedModelBehavior, UsageLimitExceeded
from pydantic_ai.usage import UsageLimits

from omicsagent.agent.context import StepContext, StepOutcome
from omicsagent.agent.journal import Usage
from omicsagent.agent.layout import RunLayout
from omicsagent.agent.steps import STEPS
from omicsagent.brains.llm import prompts
from omicsagent.brains.llm.config import LLMConfig, public_url
from omicsagent.brains.llm.models import (
    BudgetExceeded,
    Pricing,
    ProviderFailed,
    RecordedModel,
    check_cost_limit,
    make_chat_model,
    model_settings,
)
from omicsagent.brains.llm.tools import StepDeps, step_tools
from omicsagent.brains.llm.trajectory import Trajectory
from omicsagent.errors import ModelMistake, OmicsAgentError

if TYPE_CHECKING:
    from pydantic_ai.models import Model

log = logging.getLogger("omicsagent.llm")

# Where the harness expects an iteration's files (it copies these to best/): IterationFiles attributes.
EXPECTED_NAMES = {("training", "train_script"): "train_script", ("training", "model_dir"): "model_dir",
                  ("inference", "inference_script"): "inference_script"}


def check_names(output: BaseModel, ctx: StepContext) -> None:
    """The harness promotes ``<iter>/train.py``, ``<iter>/inference.py`` and ``<iter>/model``: insist on
    them."""
    for (step, field), attr in EXPECTED_NAMES.items():
        if step != ctx.step:
            continue
        given = str(getattr(output, field))
        want = getattr(ctx.files, attr)
        if ctx.workspace.confine(given) != want:
            raise ModelMistake(f"{field} is {given!r} but must be {ctx.rel(want)!r} (the harness copies that "
                               f"path to the final model); move or rewrite it there and answer again.")


class LLMBrain:
    """A ``Brain`` whose decisions and code come from a chat model.

    ``chat_model`` replaces the configured provider (for scripted models in tests, e.g. pydantic-ai's
    ``FunctionModel``); it is used for every step.
    """

    name = "llm"

    def __init__(self, config: LLMConfig, *, chat_model: Model | None = None) -> None:
        check_cost_limit(config)  # a --max-cost that could not be enforced is refused, never ignored
        self.config = config
        self._chat_model = chat_model
        self._models: dict[str, Model] = {}
        self._catalogue: tuple[str, str] | None = None
        self._baseline: float | None = None  # cost recorded in the journal before this brain started
        self._spent = 0.0  # cost of every request this brain made, failed attempts included
        self._cost_known = True
        self.usage = Usage()  # everything this brain used, failed attempts included

    # ----- Brain protocol -----
    def preflight(self) -> None:
        """Before a run folder exists: every model server answers and accepts the key (``ConfigError``)."""
        if self._chat_model is None:
            from omicsagent.brains.llm.preflight import check_servers

            check_servers(self.config)

    def describe(self) -> dict[str, Any]:
        info = self.config.public()
        for key in ("base_url", "reflection_base_url"):
            info[key] = public_url(info.get(key))
        return {"brain": self.name, **{k: v for k, v in info.items() if v is not None}}

    def over_budget(self) -> str | None:
        limit = self.config.max_cost_usd
        if limit is None:
            return None
        spent = self.spent()
        if spent is not None and spent >= limit:
            return f"cost limit reached: ${spent:.4f} spent of --max-cost ${limit:g}"
        return None

    def spent(self) -> float | None:
        """Dollars spent in this run so far (None when no request could be priced)."""
        if not self._cost_known and self._spent == 0:
            return None
        return (self._baseline or 0.0) + self._spent

    def run_step(self, ctx: StepContext) -> StepOutcome:
        if self._baseline is None:
            self._baseline = ctx.journal.total_usage().cost_usd or 0.0
        step = STEPS[ctx.step]
        spec = self.config.reflection_model if ctx.step == "reflection" and self.config.reflection_model \
            else self.config.model
        trajectory = Trajectory(
            ctx.layout.trajectory,
            secrets=self.config.secret_values(),
            context={"iteration": ctx.iteration, "step": ctx.step, "attempt": ctx.attempt},
        )
        recorded = RecordedModel(self._model(spec), spec=spec, config=self.config,
                                 pricing=Pricing.for_model(spec, self.config), trajectory=trajectory,
                                 spent_before=self.spent() or 0.0)
        agent = self._agent(ctx, recorded, step.output_type)
        prompt = prompts.step_prompt(ctx, max_requests=self.config.max_requests_per_step,
                                     tool_timeout_s=self.config.tool_timeout_s, spent=self.spent(),
                                     max_cost=self.config.max_cost_usd)
        deps = StepDeps(ctx=ctx, tool_timeout_s=self.config.tool_timeout_s)
        limits = UsageLimits(request_limit=self.config.max_requests_per_step)
        try:
            result = agent.run_sync(prompt, deps=deps, usage_limits=limits)
        except OmicsAgentError:
            self._account(recorded.usage, ctx)
            raise
        except (BudgetExceeded, ProviderFailed, AgentRunError) as err:
            usage = self._account(recorded.usage, ctx)
            mistake = ModelMistake(self._explain(err))
            mistake.usage = usage  # type: ignore[attr-defined]  # the loop may record what the attempt cost
            trajectory.write("step_failed", error=str(mistake))
            raise mistake from err
        usage = self._account(recorded.usage, ctx)
        trajectory.write("step_done", output=result.output.model_dump(mode="json"))
        return StepOutcome(output=result.output, usage=usage, notes=[f"model {spec}"])

    # ----- helpers -----
    def _model(self, spec: str) -> Model:
        if self._chat_model is not None:
            return self._chat_model
        if spec not in self._models:
            self._models[spec] = make_chat_model(spec, self.config)
        return self._models[spec]

    def _agent(self, ctx: StepContext, model: Model, output_type: type[BaseModel]) -> Agent:
        if self._catalogue is None:
            self._catalogue = prompts.ml_catalogue()
        agent: Agent[StepDeps, Any] = Agent(
            model, output_type=output_type, deps_type=StepDeps, tools=step_tools(ctx.step),
            instructions=prompts.system_prompt(ctx, catalogue=self._catalogue),
            retries={"tools": max(2, self.config.max_retries), "output": self.config.max_retries},
            model_settings=model_settings(self.config), name=f"omicsagent-{ctx.step}",
        )
        @agent.output_validator
        def _check(rctx: RunContext[StepDeps], output: Any) -> Any:
            try:
                check_names(output, rctx.deps.ctx)
                rctx.deps.ctx.validate(output)  # the loop's own check, not repeated by the loop once passed
            except ModelMistake as err:
                rctx.deps.ctx.log(f"correction sent to the model: {str(err)[:200]}")
                raise ModelRetry(str(err)) from None
            return output

        return agent

    def _account(self, usage: Usage, ctx: StepContext) -> Usage:
        self.usage = self.usage.add(usage)
        if usage.cost_usd is None:
            self._cost_known = self._cost_known and usage.requests == 0
        else:
            self._spent += usage.cost_usd
        cost = "cost unknown" if usage.cost_usd is None else f"${usage.cost_usd:.4f}"
        ctx.log(f"llm {ctx.step}: {usage.requests} requests, {usage.input_tokens} input + "
                f"{usage.output_tokens} output tokens, {cost}")
        return usage

    def _explain(self, err: BaseException) -> str:
        if isinstance(err, BudgetExceeded):
            return f"{err}; the step was stopped before its next model request"
        if isinstance(err, UsageLimitExceeded):
            return (
                f"the step used its {self.config.max_requests_per_step} model requests "
                "without a valid answer; "
                "work in fewer, larger actions and answer as soon as the files are in place"
            )
        if isinstance(err, UnexpectedModelBehavior):
            return (
                f"the model gave no valid answer within {self.config.max_retries} corrections "
                f"({str(err)[:300]})"
            )
        return str(err)[:500]


def trajectory_path(run_dir: Path) -> Path:
    return RunLayout.at(run_dir).trajectory
