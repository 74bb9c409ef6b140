"""The offline expert brain: deterministic, no LLM. It writes real scripts from templates and runs them in
the sandbox, like any other brain; its knowledge lives in ``recipes`` and its search policy in ``policy``.
"""
from __future__ import annotations

import math
from importlib import resources
from string import Template
from typing import Any

from omicsagent.agent.context import StepContext, StepOutcome, failure_reason
from omicsagent.agent.steps import (
    ArchitectureOutput,
    ExplorationOutput,
    InferenceOutput,
    PredictionExplorationOutput,
    ReflectionOutput,
    RepresentationOutput,
    SplitOutput,
    TrainingOutput,
)
from omicsagent.brains.expert import explore, policy, recipes
from omicsagent.errors import ModelMistake
from omicsagent.ml.io import read_table


def _template(name: str) -> Template:
    return Template(resources.files("omicsagent.brains.expert").joinpath("templates", name).read_text())


def _literal(value: Any, indent: int = 0) -> str:
    """A Python literal laid out like hand-written code: short values inline, nested ones one per line."""
    flat = repr(value)
    if len(flat) + indent <= 90 or not isinstance(value, (dict, list)) or not value:
        return flat
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{pad}{k!r}: {_literal(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    items = [f"{pad}{_literal(v, indent + 4)}," for v in value]
    return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"


def _excluded_comment(ctx: StepContext) -> str:
    rows = [f"#   {c.name}: {c.role} ({c.reason})" for c in ctx.task.excluded_columns]
    return ("# Columns NOT used as inputs, and why:\n" + "\n".join(rows) + "\n") if rows else ""


class ExpertBrain:
    """Rule-based planner; one attempt per step (retrying a deterministic brain gives the same answer)."""

    name = "expert"
    max_attempts = 1

    def __init__(self) -> None:
        self._decisions: dict[int, policy.Decision] = {}
        self._profile: tuple[str, recipes.DataProfile] | None = None

    def describe(self) -> dict[str, Any]:
        return {"kind": "expert", "deterministic": True}

    def run_step(self, ctx: StepContext) -> StepOutcome:
        handler = getattr(self, f"_{ctx.step}")
        return StepOutcome(output=handler(ctx))

    # ----- steps -----
    def _exploration(self, ctx: StepContext) -> ExplorationOutput:
        summary, findings = explore.explore_data(ctx.task, ctx.path(ctx.train_file))
        return ExplorationOutput(summary=summary, findings=findings)

    def _split(self, ctx: StepContext) -> SplitOutput:
        t = ctx.task
        out_dir = ctx.rel(ctx.layout.split_dir)
        script = ctx.layout.split_dir / "split.py"
        script.parent.mkdir(parents=True, exist_ok=True)
        group = t.group_column
        stratified = t.task_type in ("binary", "multiclass")
        note = (f"Grouped by '{group}' and stratified by the target." if group and stratified
                else f"Grouped by '{group}'." if group else
                "Stratified by the target." if stratified else "A random split.")
        script.write_text(
            _template("split.py.tmpl").substitute(
                run_id=ctx.journal.run_id,
                method_note=note,
                script=ctx.rel(script),
                input_file=ctx.train_file,
                out_dir=out_dir,
                target=repr(t.target),
                task_type=repr(t.task_type),
                group=repr(group),
                fraction=0.2,
                input_file_repr=repr(ctx.train_file),
                out_dir_repr=repr(out_dir),
                seed=ctx.seed,
            )
        )
        res = ctx.run(["python", ctx.rel(script)], purpose="splitting")
        if not res.ok:
            raise ModelMistake(f"split.py failed ({failure_reason(res)}): {res.output[-800:]}")
        method = res.output.strip().splitlines()[-1].split("; ", 1)[-1] if res.output.strip() else note
        return SplitOutput(method=method, train_file=ctx.rel(ctx.layout.split_file("train")),
                           validation_file=ctx.rel(ctx.layout.split_file("validation")))

    def _data_profile(self, ctx: StepContext) -> recipes.DataProfile:
        """The recipe book's profile of the training split (read once per run and brain)."""
        if self._profile is None or self._profile[0] != ctx.train_file:
            train = read_table(ctx.workspace.root / ctx.train_file)
            settings = ctx.journal.settings
            self._profile = (ctx.train_file, recipes.profile_of(
                ctx.task, train, time_budget_s=settings.time_budget_s,
                embeddings=settings.extra.get("embeddings")))  # --embeddings MODALITY=FOLDER
        return self._profile[1]

    def _decision(self, ctx: StepContext) -> policy.Decision:
        if ctx.iteration not in self._decisions:
            self._decisions[ctx.iteration] = policy.decide(ctx.journal, self._data_profile(ctx),
                                                           time_left_s=_time_left(ctx))
        return self._decisions[ctx.iteration]

    def _representation(self, ctx: StepContext) -> RepresentationOutput:
        d = self._decision(ctx)
        if d.candidate is None:
            raise ModelMistake(f"nothing left to try: {d.reason}")
        c = d.candidate
        ctx.log(f"plan: {c.name} ({d.reason})")
        return RepresentationOutput(name=c.name, description=c.rationale, spec=c.representation,
                                    parent=d.parent)

    def _architecture(self, ctx: StepContext) -> ArchitectureOutput:
        c = self._decision(ctx).candidate
        assert c is not None  # the representation step would have failed
        params = {k: v for k, v in c.model.items() if k != "kind"}
        return ArchitectureOutput(
            name=str(c.model.get("kind", c.family)),
            description=f"{c.family}: {c.rationale}",
            hyperparameters=params,
            spec=c.model,
        )

    def _training(self, ctx: StepContext) -> TrainingOutput:
        c = self._decision(ctx).candidate
        assert c is not None
        script = ctx.files.train_script
        model_dir = ctx.files.model_dir
        # Leave room for inference and scoring; iterative models stop early and keep their best state.
        wanted = c.time_limit_s if c.time_limit_s else 3 * c.est_seconds + 60
        # A reproducible run's fits have no time limit (0): early stopping and round caps end them.
        limit = 0.0 if ctx.journal.settings.reproducible else max(
            30.0, min(ctx.time_left() - policy.OVERHEAD_S, wanted))
        script.write_text(_template("train.py.tmpl").substitute(time_limit=f"{limit:.0f}",
            iteration=ctx.iteration, run_id=ctx.journal.run_id, summary=c.name, rationale=c.rationale,
            script=ctx.rel(script), train_file=ctx.train_file, model_dir=ctx.rel(model_dir),
            target=repr(ctx.task.labels or ctx.task.target), task_type=repr(ctx.task.task_type),
            excluded=_excluded_comment(ctx),
            representation=_literal(c.representation), model=_literal(c.model),
            train_file_repr=repr(ctx.train_file), seed=ctx.seed))
        res = ctx.run(["python", ctx.rel(script), "--train", ctx.train_file, "--out", ctx.rel(model_dir),
                       "--seed", str(ctx.seed), "--time-limit", f"{limit:.0f}"], purpose="training")
        if not res.ok:
            raise ModelMistake(f"train.py failed ({failure_reason(res)}): {res.output[-1500:]}")
        return TrainingOutput(train_script=ctx.rel(script), model_dir=ctx.rel(model_dir),
                              notes=res.output.strip().splitlines()[-1] if res.output.strip() else "")

    def _inference(self, ctx: StepContext) -> InferenceOutput:
        c = self._decision(ctx).candidate
        script = ctx.files.inference_script
        note = ("" if ctx.task.task_type == "regression" else
                " (multi-label: no `prediction` column, a probability_<label> column per label instead)"
                if ctx.task.labels else " plus probability_<class> for each class")
        script.write_text(_template("inference.py.tmpl").substitute(
            iteration=ctx.iteration, run_id=ctx.journal.run_id, summary=c.name if c else "", proba_note=note,
            layer=repr(ctx.task.layer)))
        return InferenceOutput(inference_script=ctx.rel(script))

    def _prediction_exploration(self, ctx: StepContext) -> PredictionExplorationOutput:
        errors = ctx.previous.get("_iteration", {}).get("validation_errors") or {}
        return PredictionExplorationOutput(summary=errors.get("summary", "no validation error analysis"),
                                           findings=list(errors.get("findings", [])))

    def _reflection(self, ctx: StepContext) -> ReflectionOutput:
        it = ctx.journal.iterations[ctx.iteration]
        # The next iteration's decision is made now and logged; the next representation step recomputes it.
        assessment, instructions, stop = policy.reflect(ctx.journal, it, self._data_profile(ctx),
                                                        time_left_s=_time_left(ctx))
        return ReflectionOutput(assessment=assessment, instructions=instructions, stop=stop)


def _time_left(ctx: StepContext) -> float:
    """The time the policy plans with: none of its decisions read the clock in a reproducible run."""
    return math.inf if ctx.journal.settings.reproducible else ctx.time_left()
