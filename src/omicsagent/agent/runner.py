"""The experimentation loop: iterations of fixed steps, each validated and journaled, scored by the harness.

``start_run`` creates a run directory; ``resume_run`` continues one that was killed or interrupted, without
redoing finished iterations. The journal is saved after every step, the best iteration is promoted as soon
as it appears, and the hidden test set is scored once at the end.
"""
from __future__ import annotations

import logging
import shutil
import time
import traceback
import uuid
from dataclasses import replace
from pathlib import Path

from omicsagent.agent import harness
from omicsagent.agent.context import Brain, StepContext
from omicsagent.agent.journal import IterationRecord, RunJournal, RunSettings, StepRecord, Usage
from omicsagent.agent.progress import NullProgress, Progress
from omicsagent.agent.split import split_frame
from omicsagent.agent.steps import STEPS
from omicsagent.errors import ModelMistake, OmicsAgentError, RunStateError
from omicsagent.tasks.io import read_table
from omicsagent.tasks.task import Task

log = logging.getLogger("omicsagent.agent")
MAX_ATTEMPTS = 3
MIN_ITERATION_S = 20.0  # do not start an iteration with less time than this left
ITERATION_STEPS = ("representation", "architecture", "training", "inference")


def start_run(task: Task, *, out_dir: Path, settings: RunSettings, brain: Brain,
              progress: Progress | None = None) -> RunJournal:
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        if (out_dir / "journal.json").exists():
            raise RunStateError(f"{out_dir} already holds a run; continue it with `omicsagent resume {out_dir}` or choose another --out.")
        raise RunStateError(f"{out_dir} exists and is not empty; choose another --out folder.")
    from omicsagent.sandbox import make_sandbox

    sandbox = make_sandbox(settings.sandbox)  # fail before creating anything when the sandbox is unusable
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    journal = RunJournal(run_id=run_id, settings=settings, task=task)
    journal.settings.extra.setdefault("brain_config", brain.describe())
    try:
        harness.prepare_workspace(task, out_dir)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    journal.save(out_dir)
    return Loop(out_dir, journal, brain, sandbox, progress or NullProgress()).run()


def resume_run(run_dir: Path, *, brain: Brain, progress: Progress | None = None,
               extra_iterations: int = 0) -> RunJournal:
    run_dir = Path(run_dir)
    journal = RunJournal.load(run_dir)
    if journal.status == "finished" and not extra_iterations:
        raise RunStateError(f"the run in {run_dir} has already finished; pass --iterations N to add N more, or start a new run.")
    journal.settings.iterations += extra_iterations
    # An iteration cut off mid-way is redone from scratch: drop its record and its files.
    for it in [i for i in journal.iterations if i.status == "running"]:
        shutil.rmtree(run_dir / it.dir, ignore_errors=True)
        journal.iterations.remove(it)
    journal.notes.append(f"resumed at {time.strftime('%Y-%m-%d %H:%M:%S')}")
    from omicsagent.sandbox import make_sandbox

    sandbox = make_sandbox(journal.settings.sandbox)
    journal.status = "running"
    journal.save(run_dir)
    return Loop(run_dir, journal, brain, sandbox, progress or NullProgress()).run()


class Loop:
    def __init__(self, run_dir: Path, journal: RunJournal, brain: Brain, sandbox, progress: Progress) -> None:
        from omicsagent.sandbox import Workspace

        self.run_dir, self.journal, self.brain, self.sandbox, self.progress = run_dir, journal, brain, sandbox, progress
        self.ws = Workspace.open(run_dir / "workspace")
        self.t0 = time.monotonic()
        self.elapsed0 = journal.elapsed_s
        self.deadline = self.t0 + max(0.0, journal.settings.time_budget_s - journal.elapsed_s)

    # ----- bookkeeping -----
    def elapsed(self) -> float:
        return self.elapsed0 + time.monotonic() - self.t0

    def emit(self, kind: str, **data) -> None:
        self.progress.event(kind, elapsed_s=self.elapsed(), budget_s=self.journal.settings.time_budget_s, **data)

    def save(self) -> None:
        self.journal.elapsed_s = self.elapsed()
        self.journal.save(self.run_dir)

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    # ----- the run -----
    def run(self) -> RunJournal:
        j = self.journal
        self.emit("run_start", run_id=j.run_id, task=j.task.name, brain=self.brain.name,
                  iterations=j.settings.iterations, sandbox=j.settings.sandbox)
        if j.settings.sandbox == "none":
            self.emit("warning", message="--sandbox none: generated code runs WITHOUT isolation on this machine.")
        try:
            while len(j.finished_iterations) < j.settings.iterations:
                if self.time_left() < MIN_ITERATION_S:
                    j.status_reason = "time budget reached"
                    break
                stop = self.iteration(len(j.iterations))
                if stop:
                    j.status_reason = stop
                    break
            else:
                j.status_reason = f"{j.settings.iterations} iterations done"
            j.status = "finished"
        except KeyboardInterrupt:
            j.status, j.status_reason = "interrupted", "stopped by the user (Ctrl-C); `omicsagent resume` continues"
            self.save()
            self.emit("run_end", status=j.status, reason=j.status_reason)
            raise
        finally:
            self.save()
        self.finish()
        return j

    def finish(self) -> None:
        j = self.journal
        if j.best_iteration is None:
            j.status_reason += "; no iteration succeeded"
        elif j.task.test_path:
            try:
                j.test_metrics = harness.score_test(self.run_dir, j, self.sandbox)
                j.test_iteration = j.best_iteration.index
                harness.promote(self.run_dir, j)  # refresh metrics.json with the test figures
                self.emit("test", metrics=j.test_metrics)
            except (ModelMistake, OmicsAgentError) as err:
                j.notes.append(f"test scoring failed: {err}")
        self.save()
        self.emit("run_end", status=j.status, reason=j.status_reason)
        try:
            from omicsagent.report import write_report

            write_report(self.run_dir)
        except ImportError:
            pass
        except Exception as err:  # noqa: BLE001 - a report bug must not lose a finished run
            log.warning("could not write the report: %s", err)
            j.notes.append(f"report failed: {err}")
            self.save()

    # ----- one iteration -----
    def iteration(self, index: int) -> str | None:
        """Run iteration ``index``; return a reason to stop the run, or None."""
        j = self.journal
        it = IterationRecord(index=index, started_at=time.time(), dir=f"workspace/artifacts/iter_{index:03d}")
        j.iterations.append(it)
        iter_dir = self.run_dir / it.dir
        shutil.rmtree(iter_dir, ignore_errors=True)
        iter_dir.mkdir(parents=True)
        self.save()
        self.emit("iteration_start", iteration=index)
        t = time.monotonic()
        ctx = self.context(it, iter_dir)
        steps = (["exploration"] if index == 0 else []) + (["split"] if j.split is None else [])
        failed = None
        for name in steps + list(ITERATION_STEPS):
            if name == "split" and j.split is None and j.task.validation_path:
                self.given_split(ctx)
                continue
            rec = self.step(name, ctx, it)
            if rec.status == "failed":
                if name == "split":
                    self.fallback_split(ctx, rec.error or "")
                    continue
                failed = f"{name}: {rec.error}"
                break
            if name == "split":
                out = rec.output
                j.split = harness.register_split(self.run_dir, self.ws, j.task, train_rel=out["train_file"],
                                                 valid_rel=out["validation_file"], method=out["method"],
                                                 stratified="stratif" in out["method"],
                                                 grouped_by=j.task.group_column)
                ctx = self.context(it, iter_dir, previous=ctx.previous)
            ctx.previous[name] = rec.output
            if name == "representation":
                it.representation = rec.output.get("name", "")
            if name == "architecture":
                it.model = rec.output.get("name", "")
                it.hyperparameters = rec.output.get("hyperparameters", {})
                it.summary = f"{it.representation} + {it.model}"
                self.emit("log", message=f"plan: {it.summary}")
        if failed is None:
            try:
                it.validation_metrics = harness.score_predictions(self.run_dir, j.task, "validation", iter_dir / "validation_predictions.csv")
                it.train_metrics = self.score_train(ctx, iter_dir)
                it.status = "succeeded"
            except ModelMistake as err:
                failed = f"scoring: {err}"
        if failed is not None:
            it.status, it.failure = "failed", failed
        is_best = it.status == "succeeded" and j.best_iteration is not None and j.best_iteration.index == index
        if is_best:
            harness.promote(self.run_dir, j)
        self.save()
        for name in (["prediction_exploration"] if it.status == "succeeded" else []) + ["reflection"]:
            ctx.previous.setdefault("_iteration", {"status": it.status, "failure": it.failure,
                                                   "train_metrics": it.train_metrics,
                                                   "validation_metrics": it.validation_metrics})
            rec = self.step(name, ctx, it)
            if rec.status == "done":
                ctx.previous[name] = rec.output
        reflection = it.step("reflection")
        if reflection and reflection.status == "done":
            it.instructions = dict(reflection.output.get("instructions", {}))
        it.duration_s = time.monotonic() - t
        self.save()
        self.emit("iteration_end", iteration=index, status=it.status, failure=it.failure, metric=j.task.metric,
                  validation=j.primary(it), train=it.train_metrics.get(j.task.metric),
                  duration_s=it.duration_s, best=is_best)
        over = getattr(self.brain, "over_budget", None)
        if callable(over) and (reason := over()):
            return reason
        if reflection and reflection.status == "done" and reflection.output.get("stop"):
            return f"the reflection stopped the run: {reflection.output.get('assessment', '')[:200]}"
        return None

    def context(self, it: IterationRecord, iter_dir: Path, previous: dict | None = None) -> StepContext:
        j = self.journal
        split = j.split
        previous_instr = j.iterations[it.index - 1].instructions if it.index > 0 else {}
        ctx = StepContext(
            step="", iteration=it.index, task=j.task, journal=j, workspace=self.ws, sandbox=self.sandbox,
            iter_dir=iter_dir,
            train_file=str(Path(split.train_path).relative_to("workspace")) if split else harness.input_rel(self.ws, j.task, "train"),
            validation_file=str(Path(split.validation_path).relative_to("workspace")) if split else None,
            validation_features="scoring/validation_features.csv" if split else None,
            n_validation=split.n_validation if split else 0, deadline=self.deadline, seed=j.settings.seed,
            all_instructions=previous_instr,
            previous=previous if previous is not None else {},
            log=lambda msg: self.emit("log", message=msg),
        )
        ctx.on_exec = lambda res: self._track_memory(it, res)
        ctx.ro_mounts, ctx.extra_env = harness.model_access(j, self.ws)
        return ctx

    def _track_memory(self, it: IterationRecord, res) -> None:
        it.peak_memory_mb = max(it.peak_memory_mb or 0.0, res.peak_memory_mb or 0.0)

    def step(self, name: str, base: StepContext, it: IterationRecord) -> StepRecord:
        spec = STEPS[name]
        instructions = base.all_instructions
        rec = StepRecord(name=name, status="failed", started_at=time.time())
        it.steps.append(rec)
        feedback, t = "", time.monotonic()
        for attempt in range(1, getattr(self.brain, "max_attempts", MAX_ATTEMPTS) + 1):
            if self.time_left() <= 0 and name not in ("reflection", "prediction_exploration"):
                rec.error = "time budget reached"
                break
            self.emit("step_start", iteration=it.index, step=name, attempt=attempt)
            ctx = replace(base, step=name, attempt=attempt, feedback=feedback, instruction=instructions.get(name, ""))
            rec.attempts = attempt
            try:
                outcome = self.brain.run_step(ctx)
                rec.usage = rec.usage.add(outcome.usage)
                output = outcome.output if isinstance(outcome.output, spec.output_type) else spec.output_type.model_validate(outcome.output)
                if spec.validate is not None:
                    spec.validate(output, ctx)
                rec.status, rec.output, rec.error = "done", output.model_dump(), None
                break
            except ModelMistake as err:
                if isinstance(used := getattr(err, "usage", None), Usage):  # failed attempts still cost tokens
                    rec.usage = rec.usage.add(used)
                feedback = rec.error = str(err)
                self.emit("step_failed", iteration=it.index, step=name, error=str(err))
            except (OmicsAgentError, KeyboardInterrupt):
                raise
            except Exception as err:  # noqa: BLE001 - a brain bug fails this step, not the run
                rec.error = f"internal error in the {self.brain.name} brain: {type(err).__name__}: {err}"
                log.debug("brain error\n%s", traceback.format_exc())
                (it_dir := self.run_dir / it.dir).mkdir(parents=True, exist_ok=True)
                (it_dir / f"{name}.error.txt").write_text(traceback.format_exc())
                self.emit("step_failed", iteration=it.index, step=name, error=rec.error)
                break
        rec.duration_s = time.monotonic() - t
        it.usage = it.usage.add(rec.usage)
        self.save()
        return rec

    # ----- splits -----
    def given_split(self, ctx: StepContext) -> None:
        j = self.journal
        j.split = harness.register_split(self.run_dir, self.ws, j.task, train_rel=harness.input_rel(self.ws, j.task, "train"),
                                         valid_rel=harness.input_rel(self.ws, j.task, "validation"),
                                         method="given (validation file)", stratified=False, grouped_by=None)
        self._refresh(ctx)

    def fallback_split(self, ctx: StepContext, why: str) -> None:
        """The brain could not split: the harness does it deterministically, and says so."""
        j = self.journal
        df = read_table(self.ws.root / harness.input_rel(self.ws, j.task, "train"))
        train, valid, method = split_frame(df, target=j.task.target, task_type=j.task.task_type,
                                           group=j.task.group_column, seed=j.settings.seed)
        out = self.ws.artifacts / "split"
        out.mkdir(exist_ok=True)
        train.to_csv(out / "train.csv", index=False)
        valid.to_csv(out / "validation.csv", index=False)
        j.notes.append(f"the split step failed ({why[:200]}); the harness split the data itself: {method}")
        j.split = harness.register_split(self.run_dir, self.ws, j.task, train_rel="artifacts/split/train.csv",
                                         valid_rel="artifacts/split/validation.csv", method=f"harness fallback: {method}",
                                         stratified="stratif" in method, grouped_by=j.task.group_column)
        self._refresh(ctx)

    def _refresh(self, ctx: StepContext) -> None:
        s = self.journal.split
        ctx.train_file = str(Path(s.train_path).relative_to("workspace"))
        ctx.validation_file = str(Path(s.validation_path).relative_to("workspace"))
        ctx.validation_features = "scoring/validation_features.csv"
        ctx.n_validation = s.n_validation
        self.save()

    def score_train(self, ctx: StepContext, iter_dir: Path) -> dict[str, float]:
        """Train metrics, by the same inference script on (a fixed sample of) the training inputs."""
        from omicsagent.agent.context import failure_reason

        script = ctx.previous.get("inference", {}).get("inference_script")
        out = iter_dir / "train_predictions.csv"
        res = ctx.run(["python", script, "--input", "scoring/train_features.csv", "--output", ctx.rel(out)],
                      purpose="scoring on training inputs")
        if not res.ok:
            ctx.log(f"train scoring failed ({failure_reason(res)}); train metrics unavailable")
            return {}
        return harness.score_predictions(self.run_dir, self.journal.task, "train", out)

