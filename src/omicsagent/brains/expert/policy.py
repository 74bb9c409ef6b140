"""The expert's search policy: what to try next, decided from the journal alone (so resume is exact).

Explore the recipe book's candidates in order (a fast baseline first), skipping what no longer fits in the
time left; after a failure try a cheaper variant; near the end (or when the plan is exhausted) refine the
best iteration: regularise when it overfits, add capacity when it underfits. Stop when nothing new fits.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

from omicsagent.agent.journal import IterationRecord, RunJournal
from omicsagent.brains.expert import recipes
from omicsagent.brains.expert.recipes import Candidate, DataProfile, SeqColumn
from omicsagent.ml.metrics import get_metric
from omicsagent.tasks.task import Task

OVERHEAD_S = 25.0  # writing scripts, inference dry-run and scoring, per iteration


def profile_of(task: Task, *, time_budget_s: float) -> DataProfile:
    seqs = [SeqColumn(name=c.name, alphabet=c.role, median_len=c.median_len or 0, max_len=c.max_len or 0,
                      variants=c.variants)
            for c in task.feature_columns if c.role in ("dna", "rna", "protein")]
    nuc = sorted([s for s in seqs if s.alphabet in ("dna", "rna")], key=lambda s: s.median_len)
    pair = None
    if len(nuc) >= 2 and nuc[0].median_len <= 30 and nuc[-1].median_len > nuc[0].median_len:
        pair = (nuc[0].name, nuc[-1].name)  # a small RNA (miRNA/siRNA) and the sequence it targets
    return DataProfile(
        task_type=task.task_type, n_rows=task.n_train, n_classes=len(task.classes) if task.classes else None,
        sequence_columns=seqs, pair=pair,
        smiles_columns=[c.name for c in task.feature_columns if c.role == "smiles"],
        numeric_columns=[c.name for c in task.feature_columns if c.role == "numeric"],
        categorical_columns=[c.name for c in task.feature_columns if c.role == "categorical"],
        time_budget_s=time_budget_s,
        mutation_columns=[c.name for c in task.feature_columns if c.role == "mutation"],
    )


def candidate_key(representation: dict, model: dict) -> str:
    import json

    return json.dumps([representation, model], sort_keys=True, default=str)


def tried(journal: RunJournal) -> dict[str, IterationRecord]:
    """Candidates already attempted (by their specs), mapped to their iteration."""
    out: dict[str, IterationRecord] = {}
    for it in journal.iterations:
        rep, arch = it.step("representation"), it.step("architecture")
        if rep and arch and rep.status == "done" and arch.status == "done":
            out[candidate_key(rep.output.get("spec", {}), arch.output.get("spec", {}))] = it
    return out


def candidate_of(it: IterationRecord, plan: list[Candidate]) -> Candidate | None:
    rep, arch = it.step("representation"), it.step("architecture")
    if not (rep and arch and rep.status == "done" and arch.status == "done"):
        return None
    key = candidate_key(rep.output.get("spec", {}), arch.output.get("spec", {}))
    for c in plan:
        if candidate_key(c.representation, c.model) == key:
            return c
    return Candidate(name=rep.output.get("name", "?"), family=arch.output.get("hyperparameters", {}).get("_family", "?"),
                     representation=rep.output.get("spec", {}), model=arch.output.get("spec", {}),
                     rationale=rep.output.get("description", ""), est_seconds=it.duration_s or 60.0)


def speed_factors(journal: RunJournal, plan: list[Candidate]) -> dict[str, float]:
    """Measured training time over estimate, per model family (median), plus "*" over all families."""
    ratios: dict[str, list[float]] = {}
    for it in journal.iterations:
        c = candidate_of(it, plan)
        train = it.step("training")
        if c and train and train.status == "done" and c.est_seconds > 0:
            ratios.setdefault(c.family, []).append(train.duration_s / c.est_seconds)
            ratios.setdefault("*", []).append(train.duration_s / c.est_seconds)
    return {fam: max(0.5, statistics.median(r)) for fam, r in ratios.items()}


def expected_seconds(c: Candidate, speeds: dict[str, float]) -> float:
    """Expected training time: the estimate scaled by this machine's measured speed for the family (another
    family's speed counts at most double), and never more than the candidate's own time limit."""
    speed = speeds.get(c.family) or min(speeds.get("*", 1.0), 2.0)
    seconds = c.est_seconds * speed
    return min(seconds, c.time_limit_s) if c.time_limit_s else seconds


@dataclass
class Fit:
    kind: str  # "overfit" | "underfit" | "balanced" | "unknown"
    text: str


def diagnose(journal: RunJournal, it: IterationRecord) -> Fit:
    metric = get_metric(journal.task.metric)
    tr, va = it.train_metrics.get(metric.name), it.validation_metrics.get(metric.name)
    if tr is None or va is None:
        return Fit("unknown", "train metric unavailable")
    if metric.greater_is_better:
        gap = tr - va
        if gap > 0.05:
            return Fit("overfit", f"train {metric.label} {tr:.3f} vs validation {va:.3f}: overfits (gap {gap:.3f})")
        if gap < 0.02:
            return Fit("underfit", f"train {tr:.3f} close to validation {va:.3f}: room for more capacity")
        return Fit("balanced", f"train {tr:.3f}, validation {va:.3f}: a moderate gap")
    ratio = va / max(tr, 1e-12)
    if ratio > 1.6:
        return Fit("overfit", f"train {metric.label} {tr:.3g} vs validation {va:.3g}: overfits (x{ratio:.1f})")
    if ratio < 1.15:
        return Fit("underfit", f"train {tr:.3g} close to validation {va:.3g}: room for more capacity")
    return Fit("balanced", f"train {tr:.3g}, validation {va:.3g}")


@dataclass
class Decision:
    candidate: Candidate | None
    reason: str


def decide_next(journal: RunJournal, *, time_left_s: float) -> Decision:
    """The candidate for the next iteration, or None (with a reason) when nothing new is worth trying."""
    profile = profile_of(journal.task, time_budget_s=journal.settings.time_budget_s)
    profile.embeddings = journal.settings.extra.get("embeddings") or {}  # --embeddings MODALITY=FOLDER
    plan = recipes.plan(profile)
    done = tried(journal)
    speeds = speed_factors(journal, plan)
    fits = lambda c: expected_seconds(c, speeds) + OVERHEAD_S <= 0.9 * time_left_s  # noqa: E731
    new = lambda c: c is not None and candidate_key(c.representation, c.model) not in done  # noqa: E731
    finished = journal.finished_iterations
    last = finished[-1] if finished else None
    if last is not None and last.status == "failed":
        c = candidate_of(last, plan)
        cheaper = recipes.cheaper(c) if c else None
        if new(cheaper) and fits(cheaper):
            return Decision(cheaper, f"iteration {last.index} failed ({(last.failure or '')[:120]}); trying a cheaper variant")
    explore = [c for c in plan if new(c) and fits(c)]
    iterations_left = journal.settings.iterations - len(finished)
    best = journal.best_iteration
    refine_now = best is not None and (not explore or iterations_left <= 1
                                        or time_left_s < 0.25 * journal.settings.time_budget_s)
    if refine_now:
        bc = candidate_of(best, plan)
        fit = diagnose(journal, best)
        options = []
        if bc is not None:
            if fit.kind == "overfit":
                options = [(recipes.regularize(bc), "regularise"), (recipes.add_capacity(bc), "add capacity")]
            else:
                options = [(recipes.add_capacity(bc), "add capacity"), (recipes.regularize(bc), "regularise")]
        for c, what in options:
            if new(c) and fits(c):
                return Decision(c, f"refining the best iteration {best.index} ({fit.text}): {what}")
    if explore:
        c = explore[0]
        return Decision(c, f"exploring the next candidate of the plan: {c.rationale}")
    if best is None:
        cheapest = min(plan, key=lambda c: c.est_seconds, default=None)
        if cheapest is not None and new(cheapest):
            return Decision(cheapest, "nothing has succeeded yet: the cheapest candidate")
    return Decision(None, "no untried candidate fits in the time left")


def reflect(journal: RunJournal, it: IterationRecord, *, time_left_s: float) -> tuple[str, dict[str, str], bool]:
    """(assessment, per-step instructions, stop) after iteration ``it``."""
    metric = get_metric(journal.task.metric)
    if it.status == "failed":
        assessment = f"iteration {it.index} ({it.summary or 'no plan'}) failed: {(it.failure or '')[:300]}"
    else:
        fit = diagnose(journal, it)
        best = journal.best_iteration
        rank = "the best so far" if best and best.index == it.index else (
            f"below the best (iteration {best.index}, {metric.label} {journal.primary(best):.4f})" if best else "")
        assessment = f"iteration {it.index} ({it.summary}): {fit.text}; {rank}"
    decision = decide_next(journal, time_left_s=time_left_s)
    if decision.candidate is None:
        return assessment + f". Stopping: {decision.reason}.", {}, True
    c = decision.candidate
    instructions = {
        "representation": f"use {c.name.split(' + ')[0] if ' + ' in c.name else c.name}: {c.rationale}",
        "architecture": f"{c.family}: {c.name} ({decision.reason})",
        "training": f"train on the training split only; expected about {c.est_seconds:.0f} s on 2 cores",
    }
    return assessment, instructions, False
