"""The expert's search policy: what to try next, decided from the journal and the data profile alone (both
are fixed for a run, so resume is exact).

Explore the recipe book's candidates in order (a fast baseline and the character n-gram floor first),
skipping what no longer fits in the time left; after a failure try a cheaper variant; near the end (or when
the plan is exhausted) refine the best iteration: regularise when it overfits, add capacity when it
underfits. When the plan and those refinements are used up and time is left, keep improving the best
(``improvements``: a blend with the best of another family, bagging over seeds, the neighbours of its
hyperparameters) until the budget ends it or the plateau rule does: no validation gain above
``PLATEAU_EPS`` (relative) in the last ``PLATEAU_K`` iterations after the plan.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace

from omicsagent.agent.journal import IterationRecord, RunJournal
from omicsagent.brains.expert import recipes
from omicsagent.brains.expert.recipes import Candidate, DataProfile
from omicsagent.ml.metrics import Metric, get_metric

OVERHEAD_S = 25.0  # writing scripts, inference dry-run and scoring, per iteration
PLATEAU_K = 3        # stop improving after this many iterations past the plan without a gain ...
PLATEAU_EPS = 0.002  # ... larger than this share of the best validation score (or error)


def candidate_key(representation: dict, model: dict) -> str:
    import json

    return json.dumps([representation, model], sort_keys=True, default=str)


def node_specs(it: IterationRecord) -> tuple[dict, dict] | None:
    """(representation spec, model spec) of an iteration whose representation and architecture steps are
    done, else None."""
    rep, arch = it.step("representation"), it.step("architecture")
    if rep and arch and rep.status == "done" and arch.status == "done":
        return rep.output.get("spec", {}), arch.output.get("spec", {})
    return None


def tried(journal: RunJournal) -> dict[str, IterationRecord]:
    """Candidates already attempted (by their specs), mapped to their iteration."""
    return {candidate_key(*specs): it for it in journal.iterations if (specs := node_specs(it))}


def candidate_of(it: IterationRecord, plan: list[Candidate]) -> Candidate | None:
    specs = node_specs(it)
    if specs is None:
        return None
    key = candidate_key(*specs)
    for c in plan:
        if candidate_key(c.representation, c.model) == key:
            return c
    representation, model = specs
    rep = it.step("representation")
    return Candidate(
        name=rep.output.get("name", "?"),
        family=recipes.family_of(model),
        representation=representation,
        model=model,
        rationale=rep.output.get("description", ""),
        est_seconds=it.duration_s or 60.0,
    )


# Inside a run, a fit an earlier node made is read back from the run's fit cache (``ml.fitcache``) when a
# later candidate makes it again with the same options, seed and features: a blend's members, a bag's first
# seed, an ensemble of the plan's single models. Reading it back costs about this share of the node's
# training time (featurising the rows again and loading the model).
REUSE_SHARE = 0.1


def _member_nodes(representation: dict, model: dict) -> list[list[str]]:
    """For each part of an ensemble that a node of its own could have fitted, the candidate keys of such a
    node, in order of preference: a run of identical members (a bag inside a blend) is that bag's node, else
    its first member's node (a bag's first seed); a single member is its own node. Each on the blocks it
    reads, inside a per-label wrapper wrapped the same way. Empty for a single model."""
    inner, wrap = recipes.unwrapped(model)
    if inner.get("kind") != "ensemble":
        return []
    members, blocks = inner.get("members", []), representation.get("blocks", [])
    reads = inner.get("member_blocks") or [None] * len(members)
    out, i = [], 0
    while i < len(members):
        n = 1
        while i + n < len(members) and (members[i + n], reads[i + n]) == (members[i], reads[i]):
            n += 1
        rep = {**representation, "blocks": [blocks[j] for j in reads[i]]} if reads[i] else representation
        keys = [candidate_key(rep, wrap(members[i]))]
        if n > 1:
            keys.insert(0, candidate_key(rep, wrap({"kind": "ensemble", "members": members[i:i + n]})))
        out.append(keys)
        i += n
    return out


def training_seconds(it: IterationRecord) -> float | None:
    train = it.step("training")
    return float(train.duration_s) if train and train.status == "done" and train.duration_s else None


def reused_seconds(journal: RunJournal, representation: dict, model: dict,
                   before: int | None = None) -> float:
    """What fitting afresh the succeeded nodes (before iteration ``before``, default all) whose fits the
    candidate reads back from the run's fit cache would take (``fresh_seconds`` of each)."""
    parts = _member_nodes(representation, model)
    if not parts:
        return 0.0
    nodes = {}
    for it in journal.iterations:
        if before is not None and it.index >= before:
            break
        if it.status == "succeeded" and (specs := node_specs(it)):
            nodes.setdefault(candidate_key(*specs), it)
    total = 0.0
    for keys in parts:
        node = next((nodes[k] for k in keys if k in nodes), None)
        if node is not None and (t := fresh_seconds(journal, node)) is not None:
            total += t
    return total


def fresh_seconds(journal: RunJournal, it: IterationRecord) -> float | None:
    """What fitting node ``it``'s model from scratch takes: its training time, plus the training time of the
    earlier nodes whose fits it read back (a blend of two nodes took seconds, fitting it again would not)."""
    t, specs = training_seconds(it), node_specs(it)
    return t if t is None or specs is None else t + reused_seconds(journal, *specs, before=it.index)


def as_measured(journal: RunJournal, it: IterationRecord, c: Candidate) -> Candidate:
    """Node ``it``'s candidate with its measured cost of fitting from scratch as the estimate, the base for
    the moves that build on it (a bag of 3 costs about 3 fits of it, a blend about both members' fits): the
    recipe book's estimate, scaled by its family's speed, can be several times off for one candidate
    (per-label models on cached features, say)."""
    t = fresh_seconds(journal, it)
    return c if t is None else replace(c, est_seconds=t, measured=True)


def speed_factors(journal: RunJournal, plan: list[Candidate]) -> dict[str, float]:
    """Measured training time over estimate, per model family (median), plus "*" over all families."""
    ratios: dict[str, list[float]] = {}
    for it in journal.iterations:
        c = candidate_of(it, plan)
        t = training_seconds(it)
        if c and t is not None and c.est_seconds > 0:
            ratios.setdefault(c.family, []).append(t / c.est_seconds)
            ratios.setdefault("*", []).append(t / c.est_seconds)
    return {fam: max(0.5, statistics.median(r)) for fam, r in ratios.items()}


def expected_seconds(journal: RunJournal, c: Candidate, speeds: dict[str, float]) -> float:
    """Expected training time: the estimate scaled by this machine's measured speed for the family (another
    family's speed counts at most double; a time measured here is taken as it is), less what the run's fit
    cache saves (the fits earlier nodes made), and never more than the candidate's own time limit."""
    speed = 1.0 if c.measured else speeds.get(c.family) or min(speeds.get("*", 1.0), 2.0)
    seconds = c.est_seconds * speed
    if reused := reused_seconds(journal, c.representation, c.model):
        seconds = max(seconds - reused, 0.0) + REUSE_SHARE * reused
    return min(seconds, c.time_limit_s) if c.time_limit_s else seconds


# Thresholds of the diagnosis, on the share of the validation error that the training data does not show.
OVERFIT_SHARE = 0.4   # validation error at least 1/(1-0.4) = 1.67x the training error
UNDERFIT_SHARE = 0.15  # training error at least 85% of the validation error
NEAR_PERFECT = 0.03   # for scores bounded by 1 (AUROC, accuracy, R², ...): validation within this of perfect


@dataclass(frozen=True)
class Fit:
    """How well one iteration fits, computed once from its train and validation scores; the assessment and
    the instruction that follows it are both written from this.

    Scores are turned into errors the same way for every metric: ``1 - score`` for scores where higher is
    better (all of them top out at 1), the value itself for errors (RMSE, MAE, log-loss). ``share`` is the
    part of the validation error that the training data does not show: 0 when train and validation err
    alike, 1 when the training data is fitted perfectly.
    """

    kind: str  # "overfit" | "underfit" | "balanced" | "unknown"
    metric: Metric
    train: float | None = None
    valid: float | None = None

    @property
    def train_error(self) -> float:
        return (1.0 - self.train) if self.metric.greater_is_better else self.train  # type: ignore[operator]

    @property
    def valid_error(self) -> float:
        return (1.0 - self.valid) if self.metric.greater_is_better else self.valid  # type: ignore[operator]

    @property
    def share(self) -> float:
        return (self.valid_error - self.train_error) / self.valid_error if self.valid_error > 0 else 0.0

    def _scores(self) -> str:
        fmt = ".3f" if self.metric.greater_is_better else ".3g"
        return f"train {self.metric.label} {self.train:{fmt}} vs validation {self.valid:{fmt}}"

    def _how_much(self) -> str:
        if self.metric.greater_is_better:
            return f"gap {self.valid_error - self.train_error:.3f}"
        return (
            f"validation {self.metric.label} x{self.valid_error / max(self.train_error, 1e-12):.1f} "
            "the training one"
        )

    @property
    def near_perfect(self) -> bool:
        return self.metric.greater_is_better and self.valid_error <= NEAR_PERFECT

    @property
    def assessment(self) -> str:
        """What the scores say, e.g. 'train RMSE 0.19 vs validation 0.7: overfits (validation RMSE
        x3.7 ...)'."""
        if self.kind == "unknown":
            return "train metric unavailable, so the fit cannot be judged"
        if self.kind == "overfit":
            return f"{self._scores()}: overfits ({self._how_much()})"
        if self.kind == "underfit":
            return f"{self._scores()}: underfits (train and validation err alike, {self._how_much()})"
        if self.near_perfect:
            return f"{self._scores()}: near perfect on validation"
        return f"{self._scores()}: a moderate gap ({self._how_much()})"

    def advice(self, action: str) -> str:
        """The reason for a refinement (``action``: "regularise" or "add capacity"), from the same
        diagnosis."""
        if self.kind == "unknown":
            return f"The training score is unavailable, so {action} as a guess."
        if self.kind == "overfit":
            return (f"The model overfits ({self._how_much()}): "
                    "it fits the training data much better than validation.")
        if self.kind == "underfit":
            return (f"The model underfits ({self._scores()}, {self._how_much()}): "
                    "it does not even fit the training data well.")
        gain = (
            "a larger model may still gain"
            if action == "add capacity"
            else "a more regularised one may generalise better"
        )
        state = "near perfect" if self.near_perfect else "balanced"
        return f"The fit is {state} ({self._scores()}, {self._how_much()}); {gain}."


def fit_of(metric_name: str, train: float | None, valid: float | None) -> Fit:
    """The diagnosis for a pair of scores of one metric (see ``Fit``)."""
    metric = get_metric(metric_name)
    if train is None or valid is None or math.isnan(train) or math.isnan(valid):
        return Fit("unknown", metric)
    fit = Fit("balanced", metric, float(train), float(valid))
    if fit.near_perfect:
        return fit
    if fit.share >= OVERFIT_SHARE:
        return Fit("overfit", metric, fit.train, fit.valid)
    if fit.share <= UNDERFIT_SHARE:
        return Fit("underfit", metric, fit.train, fit.valid)
    return fit


def diagnose(journal: RunJournal, it: IterationRecord) -> Fit:
    """The diagnosis of iteration ``it`` on the task's primary metric."""
    name = get_metric(journal.task.metric).name
    return fit_of(name, it.train_metrics.get(name), it.validation_metrics.get(name))


@dataclass
class Decision:
    candidate: Candidate | None
    reason: str
    parent: int | None = None  # the iteration the candidate builds on (None: a fresh draft)


SEARCHES = ("tree", "linear")
DEFAULT_SEARCH = "tree"  # for new runs; a journal without a recorded search is a linear run (older versions)


def search_of(journal: RunJournal) -> str:
    """The expert's search policy recorded for the run (``settings.extra["search"]``)."""
    return str(journal.settings.extra.get("search") or "linear")


def decide(journal: RunJournal, profile: DataProfile, *, time_left_s: float) -> Decision:
    """The next candidate under the run's search policy: ``tree`` (``tree.decide_tree``) or ``linear``
    (``decide_next``)."""
    if search_of(journal) == "tree":
        from omicsagent.brains.expert.tree import decide_tree

        return decide_tree(journal, profile, time_left_s=time_left_s)
    return decide_next(journal, profile, time_left_s=time_left_s)


def fork_focus(journal: RunJournal) -> IterationRecord | None:
    """The iteration a forked run was started from, while no iteration has run since the fork (the first
    decision after ``omicsagent fork`` builds on it, whatever the best is)."""
    fork = journal.settings.extra.get("fork")
    if not fork or len(journal.finished_iterations) > fork["next"]:
        return None
    it = journal.iterations[fork["iteration"]] if fork["iteration"] < len(journal.iterations) else None
    return it if it is not None and it.status == "succeeded" else None


def refinements(journal: RunJournal, it: IterationRecord, c: Candidate) -> list[tuple[Candidate, str]]:
    """Regularise an overfitting node, add capacity to an underfitting one (both, in that order, when
    the fit is balanced): the assessment and the refinement come from the same diagnosis (``fit_of``)."""
    fit = diagnose(journal, it)
    actions = {"overfit": ["regularise"], "underfit": ["add capacity"]}.get(
        fit.kind, ["add capacity", "regularise"]
    )
    refine = {"regularise": recipes.regularize, "add capacity": recipes.add_capacity}
    out = []
    for what in actions:
        r = refine[what](c, fit.advice(what))
        if r is not None:
            out.append((r, f"refining iteration {it.index} ({fit.assessment}): {what}"))
    return out


def decide_next(journal: RunJournal, profile: DataProfile, *, time_left_s: float) -> Decision:
    """The linear policy: the candidate for the next iteration, or None (with a reason) when nothing new is
    worth trying.

    ``profile`` is ``recipes.profile_of`` of the task and its training split."""
    plan = recipes.plan(profile)
    done = tried(journal)
    speeds = speed_factors(journal, plan)

    def fits(c):
        return expected_seconds(journal, c, speeds) + OVERHEAD_S <= 0.9 * time_left_s

    def new(c):
        return c is not None and candidate_key(c.representation, c.model) not in done

    finished = journal.finished_iterations
    last = finished[-1] if finished else None
    if last is not None and last.status == "failed":
        c = candidate_of(last, plan)
        cheaper = recipes.cheaper(c) if c else None
        if new(cheaper) and fits(cheaper):
            return Decision(
                cheaper,
                f"iteration {last.index} failed ({(last.failure or '')[:120]}); trying a cheaper variant",
                parent=last.index,
            )
    focus = fork_focus(journal)
    if focus is not None and (fc := candidate_of(focus, plan)) is not None:
        for c, why in refinements(journal, focus, fc):
            if new(c) and fits(c):
                return Decision(c, f"forked from iteration {focus.index}: {why}", parent=focus.index)
    explore = [c for c in plan if new(c) and fits(c)]
    iterations_left = journal.settings.iterations - len(finished)
    best = journal.best_iteration
    plateau = plateaued(journal, plan) if best is not None and not explore else ""
    if plateau:
        return Decision(None, plateau)
    refine_now = best is not None and (not explore or iterations_left <= 1
                                        or time_left_s < 0.25 * journal.settings.time_budget_s)
    if refine_now:
        bc = candidate_of(best, plan)
        # an overfitting model is only regularised and an underfitting one only grown: what the assessment
        # says and what the next iteration does come from the same diagnosis
        for c, why in refinements(journal, best, bc) if bc is not None else []:
            if new(c) and fits(c):
                return Decision(c, why.replace("refining iteration", "refining the best iteration", 1),
                                parent=best.index)
    if explore:
        c = explore[0]
        return Decision(c, f"exploring the next candidate of the plan: {c.rationale}")
    if best is None:
        cheapest = min(plan, key=lambda c: c.est_seconds, default=None)
        if cheapest is not None and new(cheapest):
            return Decision(cheapest, "nothing has succeeded yet: the cheapest candidate")
        return Decision(None, f"no untried candidate fits in the {time_left_s:.0f} s left")
    untried = [(c, why, parent) for c, why, parent in improvements(journal, plan) if new(c)]
    for c, why, parent in untried:
        if fits(c):
            return Decision(c, why, parent=parent)
    if untried or any(new(c) for c in plan):
        return Decision(None, f"no untried candidate fits in the {time_left_s:.0f} s left")
    return Decision(None, "nothing left to try: every planned candidate and every improvement of the best "
                          "has been tried")


def _gain(journal: RunJournal, old: float | None, new: float | None) -> float:
    """The relative validation gain of ``new`` over ``old`` (positive: better)."""
    if new is None or old is None:
        return math.inf if old is None and new is not None else 0.0
    sign = 1.0 if journal.metric.greater_is_better else -1.0
    return sign * (new - old) / max(abs(old), 1e-12)


def plateaued(journal: RunJournal, plan: list[Candidate]) -> str:
    """A reason to stop when the last ``PLATEAU_K`` iterations past the plan gained no more than
    ``PLATEAU_EPS`` (relative) on the best validation score; "" otherwise."""
    keys = {candidate_key(c.representation, c.model) for c in plan}
    finished = journal.finished_iterations
    beyond = 0  # trailing iterations that ran candidates outside the plan
    for it in reversed(finished):
        rep, arch = it.step("representation"), it.step("architecture")
        key = candidate_key(rep.output.get("spec", {}), arch.output.get("spec", {})) if rep and arch else ""
        if key in keys:
            break
        beyond += 1
    if beyond < PLATEAU_K:
        return ""
    before = finished[:-PLATEAU_K]
    best_before = None
    for it in before:
        if it.status == "succeeded" and journal.metric.better(journal.primary(it), best_before):
            best_before = journal.primary(it)
    best_now = journal.primary(journal.best_iteration) if journal.best_iteration else None
    gain = _gain(journal, best_before, best_now)
    if gain > PLATEAU_EPS:
        return ""
    return (f"plateau: the last {PLATEAU_K} iterations after the plan improved the best validation "
            f"{journal.metric.label} by {max(gain, 0.0):.2%} (less than {PLATEAU_EPS:.1%})")


def ranked_nodes(journal: RunJournal, plan: list[Candidate]) -> list[tuple[IterationRecord, Candidate]]:
    """Succeeded iterations with their candidates, best validation score first (ties: the earlier)."""
    ranked: list[tuple[IterationRecord, Candidate]] = []
    for it in journal.iterations:
        c = candidate_of(it, plan) if it.status == "succeeded" and journal.primary(it) is not None else None
        if c is not None:
            ranked.append((it, c))
    sign = 1.0 if journal.metric.greater_is_better else -1.0
    ranked.sort(key=lambda ic: (-sign * journal.primary(ic[0]), ic[0].index))
    return ranked


def improvements(journal: RunJournal, plan: list[Candidate]) -> list[tuple[Candidate, str, int]]:
    """What to try once the plan is used up, best first, each with the iteration it builds on: a blend of
    the best with the best iteration of another family, the best bagged over seeds, then the neighbours of
    the best's hyperparameters (more regularised, larger), also for the runner-up."""
    ranked = ranked_nodes(journal, plan)
    if not ranked:
        return []
    (best_it, best), out = ranked[0], []
    label = f"improving the best iteration {best_it.index} ({best.name}) after the plan"

    def family(c):
        return recipes.family_of(c.model, c.family)

    other = next(((it, c) for it, c in ranked[1:] if family(c) not in (family(best), "ensemble")), None)
    if other is not None and family(best) != "ensemble":
        out.append(
            (
                recipes.blend(best, other[1]),
                f"{label}: blend with iteration {other[0].index} ({other[1].name})",
                best_it.index,
            )
        )
    out.append((recipes.bag(best), f"{label}: bagging over seeds", best_it.index))
    for it, c in ranked[:2]:
        for what, fn in (("regularise", recipes.regularize), ("add capacity", recipes.add_capacity)):
            out.append((fn(c, f"A hyperparameter search around iteration {it.index}."),
                        f"improving iteration {it.index} ({c.name}) after the plan: {what}", it.index))
    return [(c, why, parent) for c, why, parent in out if c is not None]


def reflect(journal: RunJournal, it: IterationRecord, profile: DataProfile, *,
            time_left_s: float) -> tuple[str, dict[str, str], bool]:
    """(assessment, per-step instructions, stop) after iteration ``it``."""
    metric = get_metric(journal.task.metric)
    if it.status == "failed":
        assessment = f"iteration {it.index} ({it.summary or 'no plan'}) failed: {(it.failure or '')[:300]}"
    else:
        fit = diagnose(journal, it)
        best = journal.best_iteration
        rank = (
            "the best so far"
            if best and best.index == it.index
            else (
                f"below the best (iteration {best.index}, {metric.label} {journal.primary(best):.4f})"
                if best
                else ""
            )
        )
        assessment = f"iteration {it.index} ({it.summary}): {fit.assessment}; {rank}"
    decision = decide(journal, profile, time_left_s=time_left_s)
    if decision.candidate is None:
        # the reason first: the run's status keeps only the start of the assessment
        return f"Stopping: {decision.reason}. " + assessment + ".", {}, True
    c = decision.candidate
    instructions = {
        "representation": f"use {c.name.split(' + ')[0] if ' + ' in c.name else c.name}: {c.rationale}",
        "architecture": f"{c.family}: {c.name} ({decision.reason})",
        "training": f"train on the training split only; expected about {c.est_seconds:.0f} s on 2 cores",
    }
    return assessment, instructions, False
