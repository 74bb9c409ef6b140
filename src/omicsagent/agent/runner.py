"""The experimentation loop: iterations of fixed steps, each validated and journaled, scored by the harness.

``start_run`` creates a run folder; ``resume_run`` continues one that was killed or interrupted, without
redoing finished iterations. Both resolve the folder once into a ``RunLayout`` and hold the run's lock for
as long as they work on it. The journal is saved after every step, the best iteration is promoted as soon as
it appears, and the hidden test set is scored once at the end (also after Ctrl-C).

The error boundary: an exception raised inside ``brain.run_step`` or a ``ModelMistake`` counts against the
brain (the step or the iteration fails, the run goes on). Anything else raised by our own code (a validator,
the harness, the loop) stops the run: status ``failed``, the traceback in ``RUN/omicsagent.log``, the report
written, and ``InternalError`` raised to the caller.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
import traceback
import uuid
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel, ValidationError

from omicsagent.agent import harness, resample
from omicsagent.agent.context import Brain, StepContext
from omicsagent.agent.journal import IterationRecord, RunJournal, RunSettings, StepRecord, Usage
from omicsagent.agent.layout import RunLayout
from omicsagent.agent.lock import RunLock
from omicsagent.agent.progress import NullProgress, Progress
from omicsagent.agent.split import split_frame
from omicsagent.agent.steps import STEPS, StepSpec
from omicsagent.errors import InputError, InternalError, ModelMistake, OmicsAgentError, RunStateError, command
from omicsagent.ml.io import read_table, write_table
from omicsagent.tasks.task import Task

log = logging.getLogger("omicsagent.agent")
MAX_ATTEMPTS = 3
MIN_ITERATION_S = 20.0  # do not start an iteration with less time than this left
ITERATION_STEPS = ("representation", "architecture", "training", "inference")
INTERRUPTED = "interrupted by the user (Ctrl-C)"  # the failure of an iteration cut off by Ctrl-C


def start_run(task: Task, *, out_dir: Path | str | RunLayout, settings: RunSettings, brain: Brain,
              progress: Progress | None = None) -> RunJournal:
    """Create the run folder ``out_dir`` and run the loop; returns the journal (status finished or
    interrupted).

    Raises ``InternalError`` (after writing the report) when our own code fails, ``OmicsAgentError`` for a
    problem of the user's input, configuration or machine.
    """
    layout = RunLayout.at(out_dir)
    root = layout.root
    check_new_run_folder(layout)
    from omicsagent.sandbox import make_sandbox

    sandbox = make_sandbox(settings.sandbox)  # fail before creating anything when the sandbox is unusable
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(
            f"cannot create the run folder {root} ({err.strerror or err}); choose another --out."
        ) from None
    lock = RunLock(layout).acquire()
    try:
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        journal = RunJournal(run_id=run_id, settings=settings, task=task)
        journal.settings.extra.setdefault("brain_config", brain.describe())
        try:
            ws = harness.prepare_workspace(task, layout)
            if task.validation_path:  # a given validation file is the split from the start, features only
                journal.split = harness.register_given_split(layout, ws, task)
            journal.save(layout)
        except BaseException:
            if created:
                shutil.rmtree(root, ignore_errors=True)
            else:  # the folder was there (empty): leave it empty
                for child in root.iterdir():
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            raise
        return Loop(layout, journal, brain, sandbox, progress or NullProgress()).run()
    finally:
        lock.release()


def check_new_run_folder(layout: RunLayout) -> None:
    """A new run needs an absent or empty folder; anything else is refused with the fix."""
    root = layout.root
    if root.exists() and not root.is_dir():
        raise RunStateError(f"{root} is a file, not a folder; choose another --out folder.")
    if root.exists() and any(root.iterdir()):
        if layout.journal.exists():
            raise RunStateError(
                f"{layout.display()} already holds a run; continue it with "
                f"`{command('omicsagent', 'resume', layout.display())}` or choose another --out."
            )
        raise RunStateError(f"{layout.display()} exists and is not empty; choose another --out folder.")


def resume_run(run_dir: Path | str | RunLayout, *, brain: Brain, progress: Progress | None = None,
               extra_iterations: int = 0, time_budget_s: float | None = None,
               brain_name: str | None = None, model: str | None = None) -> RunJournal:
    """Continue a run without redoing its finished iterations.

    ``time_budget_s`` gives this session its own time (the run's budget becomes the time already used plus
    this); ``brain_name``/``model`` record a switch of brain. A run whose budget is spent is refused unless
    new time is given.
    """
    layout = RunLayout.at(run_dir)
    RunJournal.load(layout)  # a clear error for a folder that is not a run, before anything else
    lock = RunLock(layout).acquire()
    try:
        journal = RunJournal.load(layout)
        s = journal.settings
        where = layout.display()
        if journal.status == "finished" and not extra_iterations:
            raise RunStateError(
                f"the run in {where} has already finished; pass --iterations N to add N more, "
                "or start a new run."
            )
        left = s.time_budget_s - journal.elapsed_s
        if time_budget_s is None and left < MIN_ITERATION_S:
            raise RunStateError(
                f"the run in {where} has used its time budget ({journal.elapsed_s / 60:.1f} of "
                f"{s.time_budget_s / 60:.1f} min), so no iteration could start; give this session time, e.g. "
                f"`{command('omicsagent', 'resume', where, '--time-budget', '10m')}"
                + (f" --iterations {extra_iterations}`." if extra_iterations else "`."))
        s.iterations += extra_iterations
        if time_budget_s is not None:
            s.time_budget_s = journal.elapsed_s + time_budget_s
        if brain_name is not None and (brain_name, model) != (s.brain, s.model):
            journal.notes.append(f"brain changed on resume: {s.brain}{f' ({s.model})' if s.model else ''} -> "
                                 f"{brain_name}{f' ({model})' if model else ''}")
            s.extra["brains"] = sorted(set(journal.brains) | {brain_name})
            s.brain, s.model = brain_name, model
        s.extra["brain_config"] = brain.describe()
        # An iteration cut off mid-way (kill -9 or Ctrl-C) is redone from scratch: drop its record and files.
        for it in [i for i in journal.iterations if i.status == "running" or i.failure == INTERRUPTED]:
            shutil.rmtree(layout.run_path(it.dir), ignore_errors=True)
            journal.iterations.remove(it)
        journal.notes.append(f"resumed at {time.strftime('%Y-%m-%d %H:%M:%S')}")
        from omicsagent.sandbox import make_sandbox

        sandbox = make_sandbox(s.sandbox)
        journal.status, journal.status_reason = "running", ""
        journal.save(layout)
        loop = Loop(layout, journal, brain, sandbox, progress or NullProgress())
        loop.sync_best()
        return loop.run()
    finally:
        lock.release()


class RunLog:
    """``RUN/omicsagent.log``: every progress event and every traceback, appended as plain text lines."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, text: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write("".join(f"{stamp} {line}\n" for line in text.rstrip("\n").splitlines() or [""]))

    def event(self, kind: str, data: dict) -> None:
        shown = {k: v for k, v in data.items() if k not in ("elapsed_s", "budget_s")}
        self.write(f"[{data.get('elapsed_s', 0.0):7.1f}s] {kind} {json.dumps(shown, default=str)}")


class _LogHandler(logging.Handler):
    """Warnings of omicsagent's modules during a run also go to the run's log file."""

    def __init__(self, runlog: RunLog) -> None:
        super().__init__(level=logging.WARNING)
        self.runlog = runlog

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.runlog.write(f"{record.levelname} {record.name}: {self.format(record)}")
        except Exception:  # noqa: BLE001 - logging must never break a run
            self.handleError(record)


def _first_sentence(text: str, limit: int = 300) -> str:
    """The assessment's first sentence (a stopping brain gives its reason there), at most ``limit``
    characters, cut at a word."""
    text = " ".join(str(text).split())
    end = text.find(". ")
    text = text[:end + 1] if 0 <= end < limit else text
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def _short(err: BaseException, limit: int = 300) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Loop:
    def __init__(
        self, layout: RunLayout, journal: RunJournal, brain: Brain, sandbox, progress: Progress
    ) -> None:
        from omicsagent.sandbox import Workspace

        self.layout, self.journal, self.brain, self.sandbox, self.progress = (
            layout,
            journal,
            brain,
            sandbox,
            progress,
        )
        self.ws = Workspace.open(layout.workspace)
        self.runlog = RunLog(layout.log_file)
        self.current: IterationRecord | None = None  # the iteration in progress
        self.t0 = time.monotonic()
        self.elapsed0 = journal.elapsed_s
        self.deadline = self.t0 + max(0.0, journal.settings.time_budget_s - journal.elapsed_s)

    # ----- bookkeeping -----
    def elapsed(self) -> float:
        return self.elapsed0 + time.monotonic() - self.t0

    def emit(self, kind: str, **data) -> None:
        data = dict(elapsed_s=self.elapsed(), budget_s=self.journal.settings.time_budget_s, **data)
        self.runlog.event(kind, data)
        self.progress.event(kind, **data)

    def save(self) -> None:
        self.journal.elapsed_s = self.elapsed()
        self.journal.save(self.layout)

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    # ----- the run -----
    def run(self) -> RunJournal:
        j = self.journal
        handler = _LogHandler(self.runlog)
        logging.getLogger("omicsagent").addHandler(handler)
        try:
            self.emit(
                "run_start",
                run_id=j.run_id,
                task=j.task.name,
                brain=self.brain.name,
                iterations=j.settings.iterations,
                sandbox=j.settings.sandbox,
                run_dir=str(self.layout.root),
            )
            if j.settings.sandbox == "none":
                self.emit(
                    "warning",
                    message="--sandbox none: generated code runs WITHOUT isolation on this machine.",
                )
            try:
                self._body()
            except Exception as err:
                stopped = self._stopped(err)
                if stopped is err:
                    raise
                raise stopped from err
            self._end()
        finally:
            logging.getLogger("omicsagent").removeHandler(handler)
        return j

    def _body(self) -> None:
        j = self.journal
        try:
            j.status_reason = self._iterations()
            j.status = "finished"
        except KeyboardInterrupt:
            j.status = "interrupted"
            j.status_reason = (f"stopped by the user (Ctrl-C); "
                               f"`{command('omicsagent', 'resume', self.layout.display())}` continues")
            if self.current is not None and self.current.status == "running":
                self.current.status, self.current.failure = "failed", INTERRUPTED
            self.save()
            self.emit(
                "warning",
                message="interrupted: keeping the best model, scoring the hidden test, writing the report",
            )
        try:
            self._refit()
            self._score_test()
            self._intervals()
        except KeyboardInterrupt:
            j.notes.append("the hidden test was not scored: interrupted again (Ctrl-C)")
            if j.status == "finished":
                j.status, j.status_reason = (
                    "interrupted",
                    "stopped by the user (Ctrl-C) while scoring the hidden test",
                )

    def _iterations(self) -> str:
        j = self.journal
        while len(j.finished_iterations) < j.settings.iterations:
            if self.time_left() < MIN_ITERATION_S:
                if j.settings.reproducible:
                    j.notes.append("the time budget ended this reproducible run before its iteration cap: "
                                   "how many iterations it did depends on the machine's speed")
                return (f"time budget reached: {self.elapsed():.0f} s of {j.settings.time_budget_s:.0f} s "
                        f"used, less than {MIN_ITERATION_S:.0f} s left for another iteration")
            stop = self.iteration(len(j.iterations))
            if stop:
                return stop
        return f"iteration cap reached: {j.settings.iterations} of {j.settings.iterations} iterations done"

    def _stopped(self, err: Exception) -> Exception:
        """Our code failed (or the user's setup did): mark the run failed, keep the traceback, write the
        report."""
        j = self.journal
        internal = not isinstance(err, OmicsAgentError) or isinstance(err, InternalError)
        cause = err.__cause__ if isinstance(err, InternalError) and err.__cause__ is not None else err
        self.runlog.write("the run stopped on this error:\n" + traceback.format_exc())
        j.status = "failed"
        j.status_reason = (f"internal error: {type(cause).__name__}: {_short(cause, 200)}" if internal
                           else _short(err, 300))
        if self.current is not None and self.current.status == "running":
            self.current.status, self.current.failure = "failed", f"run stopped: {j.status_reason}"
        self._end()
        if not internal:
            return err
        return InternalError(
            f"omicsagent stopped on an internal error, not a model mistake ({type(cause).__name__}: "
            f"{_short(cause, 200)}); the run is marked failed and the traceback is in {self.layout.log_file}."
        )

    def _refit(self) -> None:
        """Small data: refit the best iteration's train.py on every labelled row before the test is scored
        (once per best iteration); best/ then holds the refit model."""
        j = self.journal
        best = j.best_iteration
        if not j.kfold or best is None or (j.refit is not None and j.refit.iteration == best.index):
            return
        self.emit("log", message=f"refitting iteration {best.index} on all {j.n_labelled} labelled rows")
        j.refit = resample.refit(self.layout, j, self.sandbox)
        if j.refit is not None and j.refit.status == "failed":
            j.notes.append(f"the refit on every labelled row failed ({j.refit.reason}); best/ holds the "
                           "model fitted on the training split")
            self.emit("warning", message=f"the refit failed ({j.refit.reason}); keeping the split's model")
        harness.promote(self.layout, j)
        self.save()

    def _intervals(self) -> None:
        """Bootstrap confidence intervals of the best iteration's validation and test metrics."""
        j = self.journal
        best = j.best_iteration
        have = j.intervals
        if best is None or (have is not None and have.iteration == best.index
                            and (bool(have.test) or not j.test_metrics)):
            return
        j.intervals = resample.intervals(self.layout, j)
        harness.promote(self.layout, j)  # metrics.json carries them
        self.save()

    def _score_test(self) -> None:
        """Score the best model on the hidden test file, once per best iteration."""
        j = self.journal
        best = j.best_iteration
        if best is None or not j.task.test_path or (j.test_iteration == best.index and j.test_metrics):
            return
        try:
            j.test_metrics = harness.score_test(self.layout, j, self.sandbox)
            j.test_iteration = best.index
            harness.promote(self.layout, j)  # refresh metrics.json with the test figures
            self.emit("test", metrics=j.test_metrics)
        except InternalError:
            raise
        except (ModelMistake, OmicsAgentError) as err:
            j.notes.append(f"test scoring failed: {err}")
            self.emit("warning", message=f"the hidden test could not be scored: {_short(err)}")

    def _end(self) -> None:
        j = self.journal
        if j.best_iteration is None and "no iteration succeeded" not in j.status_reason:
            j.status_reason += "; no iteration succeeded"
        self.save()
        self.emit("run_end", status=j.status, reason=j.status_reason)
        try:
            from omicsagent.report import write_report

            write_report(self.layout.root)
        except ImportError:
            pass
        except Exception as err:  # noqa: BLE001 - the run is recorded; say the report failed, keep the traceback
            self.runlog.write("the report could not be written:\n" + traceback.format_exc())
            log.warning("could not write the report (%s); the traceback is in %s", err, self.layout.log_file)
            j.notes.append(f"report failed: {err}")
            self.save()

    def sync_best(self) -> None:
        """Make best/ match the journal's best iteration (a kill -9 can fall between promotion and
        journal)."""
        best = self.journal.best_iteration
        shown = None
        try:
            shown = json.loads((self.layout.best / "metrics.json").read_text()).get("iteration")
        except (OSError, ValueError):
            pass
        if best is None:
            if self.layout.best.exists():
                shutil.rmtree(self.layout.best)
        elif shown != best.index:
            harness.promote(self.layout, self.journal)

    # ----- one iteration -----
    def iteration(self, index: int) -> str | None:
        """Run iteration ``index``; return a reason to stop the run, or None."""
        j, layout = self.journal, self.layout
        it = IterationRecord(
            index=index, started_at=time.time(), dir=layout.run_rel(layout.iteration_dir(index))
        )
        j.iterations.append(it)
        self.current = it
        files = layout.iteration_files(index)
        shutil.rmtree(files.dir, ignore_errors=True)
        files.dir.mkdir(parents=True)
        self.save()
        self.emit("iteration_start", iteration=index)
        t = time.monotonic()
        ctx = self.context(it)
        steps = (["exploration"] if index == 0 else []) + (["split"] if j.split is None else [])
        failed = None
        for name in steps + list(ITERATION_STEPS):
            rec = self.step(name, ctx, it)
            if rec.status == "failed":
                if name == "split":
                    self.fallback_split(ctx, rec.error or "")
                    continue
                failed = f"{name}: {rec.error}"
                break
            if name == "split":
                out = rec.output
                j.split = harness.register_split(layout, self.ws, j.task, train_rel=out["train_file"],
                                                 valid_rel=out["validation_file"], method=out["method"],
                                                 stratified="stratif" in out["method"],
                                                 grouped_by=j.task.group_column)
                self._refresh(ctx)
            ctx.previous[name] = rec.output
            if name == "representation":
                it.representation = rec.output.get("name", "")
                it.parent = rec.output.get("parent")  # the node it builds on (validated), None for a draft
            if name == "architecture":
                it.model = rec.output.get("name", "")
                it.hyperparameters = rec.output.get("hyperparameters", {})
                it.summary = f"{it.representation} + {it.model}"
                self.emit("log", message=f"plan: {it.summary}")
        if failed is None:
            try:
                it.validation_metrics = harness.score_predictions(layout, j.task, "validation",
                                                                  files.validation_predictions)
                it.train_metrics = self.score_train(ctx)
            except ModelMistake as err:
                failed = f"scoring: {err}"
        if failed is None and j.kfold:  # small data: selection by k-fold cross-validation (agent/resample.py)
            try:
                it.cv_metrics = resample.cross_validate(layout, j, it, self.sandbox, time_left=self.time_left,
                                                        note=lambda msg: self.emit("log", message=msg))
            except ModelMistake as err:
                failed = str(err)
        if failed is None:
            it.status = "succeeded"
        if failed is not None:
            it.status, it.failure = "failed", failed
        is_best = (
            it.status == "succeeded" and j.best_iteration is not None and j.best_iteration.index == index
        )
        if is_best:
            harness.promote(layout, j)
        self.save()
        scoring = {"status": it.status, "failure": it.failure, "train_metrics": it.train_metrics,
                   "validation_metrics": it.validation_metrics}
        if it.status == "succeeded":  # computed here: the validation labels never reach the brain
            scoring["validation_errors"] = harness.validation_errors(
                layout, j.task, files.validation_predictions
            )
        for name in (["prediction_exploration"] if it.status == "succeeded" else []) + ["reflection"]:
            ctx.previous.setdefault("_iteration", scoring)
            rec = self.step(name, ctx, it)
            if rec.status == "done":
                ctx.previous[name] = rec.output
        reflection = it.step("reflection")
        if reflection and reflection.status == "done":
            it.instructions = dict(reflection.output.get("instructions", {}))
        it.duration_s = time.monotonic() - t
        self.current = None
        self.save()
        self.emit(
            "iteration_end",
            iteration=index,
            status=it.status,
            failure=it.failure,
            metric=j.task.metric,
            validation=j.primary(it),
            cv_sd=j.spread(it),
            cv_folds=len(it.cv_metrics.get(j.task.metric, [])) or None,
            train=it.train_metrics.get(j.task.metric),
            duration_s=it.duration_s,
            best=is_best,
        )
        over = getattr(self.brain, "over_budget", None)
        if callable(over) and (reason := over()):
            return reason
        if reflection and reflection.status == "done" and reflection.output.get("stop"):
            why = _first_sentence(reflection.output.get("assessment", ""))
            return f"the reflection stopped the run: {why}"
        return None

    def _split_fields(self) -> dict:
        """What a step context says about the data files, before and after the split."""
        s, layout = self.journal.split, self.layout
        if s is None:
            return {"train_file": harness.TRAIN_INPUT, "validation_features": None, "n_validation": 0}
        return {"train_file": layout.run_to_ws(s.train_path),
                "validation_features": layout.ws_rel(layout.scoring_features("validation")),
                "n_validation": s.n_validation}

    def context(self, it: IterationRecord, previous: dict | None = None) -> StepContext:
        """The context every step of iteration ``it`` starts from (each attempt gets a copy)."""
        j = self.journal
        previous_instr = j.iterations[it.index - 1].instructions if it.index > 0 else {}
        ctx = StepContext(
            step="",
            iteration=it.index,
            task=j.task,
            journal=j,
            layout=self.layout,
            workspace=self.ws,
            sandbox=self.sandbox,
            deadline=self.deadline,
            seed=j.settings.seed,
            all_instructions=previous_instr,
            previous=previous if previous is not None else {},
            log=lambda msg: self.emit("log", message=msg),
            **self._split_fields(),
        )
        ctx.on_exec = lambda res: self._track_memory(it, res)
        ctx.ro_mounts, ctx.extra_env = harness.model_access(j, self.ws)
        return ctx

    def _track_memory(self, it: IterationRecord, res) -> None:
        it.peak_memory_mb = max(it.peak_memory_mb or 0.0, res.peak_memory_mb or 0.0)

    def _checker(self, spec: StepSpec, ctx: StepContext):
        """The loop's validation of one attempt's output. A check that passed is not repeated for the same
        output (the LLM brain validates inside its agent run; the loop then does not dry-run inference
        again). ``ModelMistake`` is the brain's to fix; any other exception is our bug and becomes
        ``InternalError``."""
        passed: set[str] = set()

        def check(output: BaseModel) -> None:
            output = _as_output(spec, output)
            key = output.model_dump_json()
            if key in passed:
                return
            if spec.validate is not None:
                try:
                    spec.validate(output, ctx)
                except (ModelMistake, OmicsAgentError):
                    raise
                except Exception as err:
                    raise InternalError(f"the {spec.name} step's validator failed "
                                        f"({type(err).__name__}: {_short(err, 200)})") from err
            passed.add(key)

        return check

    def step(self, name: str, base: StepContext, it: IterationRecord) -> StepRecord:
        spec = STEPS[name]
        instructions = base.all_instructions
        rec = StepRecord(name=name, status="failed", started_at=time.time())
        it.steps.append(rec)
        feedback, t = "", time.monotonic()
        over_budget = getattr(self.brain, "over_budget", None)
        try:
            for attempt in range(1, getattr(self.brain, "max_attempts", MAX_ATTEMPTS) + 1):
                if self.time_left() <= 0 and name not in ("reflection", "prediction_exploration"):
                    rec.error = "time budget reached"
                    break
                if callable(over_budget) and (spent := over_budget()):  # after the cost cap, no step is tried
                    rec.error, rec.attempts = spent, attempt - 1
                    break
                self.emit("step_start", iteration=it.index, step=name, attempt=attempt)
                ctx = replace(base, step=name, attempt=attempt, feedback=feedback,
                              instruction=instructions.get(name, ""))
                ctx.check = self._checker(spec, ctx)
                rec.attempts = attempt
                try:
                    outcome = self.brain.run_step(ctx)  # only what happens in here counts against the brain
                except ModelMistake as err:
                    if isinstance(
                        used := getattr(err, "usage", None), Usage
                    ):  # failed attempts still cost tokens
                        rec.usage = rec.usage.add(used)
                    feedback = rec.error = str(err)
                    self.emit("step_failed", iteration=it.index, step=name, error=str(err))
                    continue
                except (OmicsAgentError, KeyboardInterrupt):
                    raise
                except Exception as err:  # noqa: BLE001 - a brain bug fails this step, not the run
                    rec.error = f"internal error in the {self.brain.name} brain: {type(err).__name__}: {err}"
                    trace = traceback.format_exc()
                    self.runlog.write(f"the {self.brain.name} brain failed in step {name}:\n{trace}")
                    self.layout.iteration_files(it.index).error_file(name).write_text(trace)
                    self.emit("step_failed", iteration=it.index, step=name, error=rec.error)
                    break
                rec.usage = rec.usage.add(outcome.usage)
                try:
                    output = _as_output(spec, outcome.output)
                    ctx.check(output)  # validators: our code; InternalError stops the run
                except ModelMistake as err:
                    feedback = rec.error = str(err)
                    self.emit("step_failed", iteration=it.index, step=name, error=str(err))
                    continue
                rec.status, rec.output, rec.error = "done", output.model_dump(), None
                break
        except KeyboardInterrupt:
            rec.error = INTERRUPTED
            raise
        finally:
            rec.duration_s = time.monotonic() - t
            it.usage = it.usage.add(rec.usage)
            self.save()
        return rec

    # ----- splits -----
    def fallback_split(self, ctx: StepContext, why: str) -> None:
        """The brain could not split: the harness does it deterministically, and says so."""
        j, layout = self.journal, self.layout
        df = read_table(layout.ws_path(harness.TRAIN_INPUT))
        train, valid, method = split_frame(df, target=j.task.target, task_type=j.task.task_type,
                                           group=j.task.group_column, seed=j.settings.seed)
        layout.split_dir.mkdir(parents=True, exist_ok=True)
        write_table(train, layout.split_file("train"), layer=j.task.layer)
        write_table(valid, layout.split_file("validation"), layer=j.task.layer)
        j.notes.append(f"the split step failed ({why[:200]}); the harness split the data itself: {method}")
        j.split = harness.register_split(
            layout,
            self.ws,
            j.task,
            train_rel=layout.ws_rel(layout.split_file("train")),
            valid_rel=layout.ws_rel(layout.split_file("validation")),
            method=f"harness fallback: {method}",
            stratified="stratif" in method,
            grouped_by=j.task.group_column,
        )
        self._refresh(ctx)

    def _refresh(self, ctx: StepContext) -> None:
        for key, value in self._split_fields().items():
            setattr(ctx, key, value)
        self.save()

    def score_train(self, ctx: StepContext) -> dict[str, float]:
        """Train metrics, by the same inference script on (a fixed sample of) the training inputs."""
        from omicsagent.agent.context import failure_reason

        script = ctx.previous.get("inference", {}).get("inference_script")
        out = ctx.files.train_predictions
        res = ctx.run(["python", script, "--input", ctx.rel(self.layout.scoring_features("train")),
                       "--output", ctx.rel(out)], purpose="scoring on training inputs")
        if not res.ok:
            ctx.log(f"train scoring failed ({failure_reason(res)}); train metrics unavailable")
            return {}
        return harness.score_predictions(self.layout, self.journal.task, "train", out)


def _as_output(spec: StepSpec, output) -> BaseModel:
    """A brain's answer as the step's output model; a malformed answer is the brain's mistake."""
    if isinstance(output, spec.output_type):
        return output
    try:
        return spec.output_type.model_validate(output)
    except ValidationError as err:
        raise ModelMistake(f"the {spec.name} output does not fit its schema: {_short(err, 600)}") from None
