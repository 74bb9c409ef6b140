"""The expert's reflection rules on hand-made journals (no training)."""
from __future__ import annotations

import pytest

from omicsagent.agent.journal import IterationRecord, RunJournal, RunSettings, StepRecord
from omicsagent.brains.expert import policy, recipes
from omicsagent.tasks import load_task
from omicsagent.testing import make_motif_task, make_tabular_task


@pytest.fixture
def journal(tmp_path):
    task = load_task(make_motif_task(tmp_path / "d", n=200, n_test=0))
    return RunJournal(run_id="t", settings=RunSettings(iterations=5, time_budget_s=900), task=task)


def record(j: RunJournal, c: recipes.Candidate, *, train: float | None, valid: float | None,
           failed: str | None = None, seconds: float = 10) -> IterationRecord:
    it = IterationRecord(index=len(j.iterations), status="failed" if failed else "succeeded", failure=failed,
                         steps=[StepRecord(name="representation", status="done", output={"name": c.name, "spec": c.representation}),
                                StepRecord(name="architecture", status="done", output={"name": "m", "spec": c.model}),
                                StepRecord(name="training", status="done", duration_s=seconds)])
    if train is not None:
        it.train_metrics = {"auroc": train}
    if valid is not None:
        it.validation_metrics = {"auroc": valid}
    j.iterations.append(it)
    return it


def plan_of(j):
    return recipes.plan(policy.profile_of(j.task, time_budget_s=900))


def test_first_iteration_is_the_plans_baseline(journal):
    d = policy.decide_next(journal, time_left_s=900)
    assert d.candidate == plan_of(journal)[0]


def test_overfitting_best_is_regularised_when_refining(journal):
    plan = plan_of(journal)
    record(journal, plan[0], train=1.0, valid=0.85)
    assert policy.diagnose(journal, journal.iterations[0]).kind == "overfit"
    journal.settings.iterations = 2  # one iteration left: refine instead of exploring
    d = policy.decide_next(journal, time_left_s=900)
    assert d.candidate == recipes.regularize(plan[0]) and "regularise" in d.reason


def test_underfitting_best_gets_capacity(journal):
    plan = plan_of(journal)
    record(journal, plan[0], train=0.80, valid=0.79)
    assert policy.diagnose(journal, journal.iterations[0]).kind == "underfit"
    journal.settings.iterations = 2
    d = policy.decide_next(journal, time_left_s=900)
    expected = recipes.add_capacity(plan[0]) or recipes.regularize(plan[0])
    assert d.candidate == expected


def test_failure_falls_back_to_a_cheaper_variant(journal):
    plan = plan_of(journal)
    costly = max(plan, key=lambda c: c.est_seconds)
    record(journal, costly, train=None, valid=None, failed="training: timed out")
    d = policy.decide_next(journal, time_left_s=900)
    cheaper = recipes.cheaper(costly)
    if cheaper is not None:
        assert d.candidate == cheaper and "failed" in d.reason
    else:
        assert d.candidate != costly


def test_little_time_left_skips_slow_candidates_and_stops_when_nothing_fits(journal):
    plan = plan_of(journal)
    # nothing succeeded yet: even with little time, the cheapest candidate is tried rather than nothing
    d = policy.decide_next(journal, time_left_s=policy.OVERHEAD_S + 1)
    assert d.candidate == min(plan, key=lambda c: c.est_seconds)
    # once something succeeded, slow candidates are skipped when they no longer fit
    record(journal, plan[0], train=0.9, valid=0.88)
    d = policy.decide_next(journal, time_left_s=policy.OVERHEAD_S + 1)
    assert d.candidate is None or d.candidate.est_seconds < 1
    # with everything tried, the policy stops with a reason
    for c in plan_of(journal):
        record(journal, c, train=0.9, valid=0.88)
    assessment, instructions, stop = policy.reflect(journal, journal.iterations[-1], time_left_s=0)
    assert stop and "Stopping" in assessment and instructions == {}


def test_reflection_gives_instructions_per_step(journal):
    plan = plan_of(journal)
    it = record(journal, plan[0], train=0.99, valid=0.9)
    assessment, instructions, stop = policy.reflect(journal, it, time_left_s=800)
    assert not stop and "overfits" in assessment
    assert set(instructions) >= {"representation", "architecture", "training"}


def test_regression_diagnosis_uses_ratio(tmp_path):
    task = load_task(make_tabular_task(tmp_path / "t", regression=True, n_test=0))
    j = RunJournal(run_id="r", settings=RunSettings(), task=task)
    it = IterationRecord(index=0, status="succeeded", train_metrics={"rmse": 0.1}, validation_metrics={"rmse": 0.5})
    assert policy.diagnose(j, it).kind == "overfit"
    it.train_metrics = {"rmse": 0.48}
    assert policy.diagnose(j, it).kind == "underfit"


def test_a_slow_family_does_not_rule_out_other_families(journal):
    plan = plan_of(journal)
    first = plan[0]
    other = next(c for c in plan[1:] if c.family != first.family)
    # the first candidate trained 10x slower than estimated (a busy machine)
    record(journal, first, train=0.9, valid=0.88, seconds=first.est_seconds * 10)
    speeds = policy.speed_factors(journal, plan)
    assert speeds[first.family] >= 9.9
    limit = other.time_limit_s or other.est_seconds * 2
    assert policy.expected_seconds(other, speeds) <= min(other.est_seconds * 2, limit) + 1e-9
    assert policy.expected_seconds(first, speeds) == min(first.est_seconds * speeds[first.family],
                                                          first.time_limit_s or float("inf"))
