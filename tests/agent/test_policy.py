"""The expert's policy on hand-made journals (no training): what it tries next, how it diagnoses a fit and
what it says about it, and how it expects training times to scale."""
from __future__ import annotations

import pytest

from omicsagent.agent.journal import IterationRecord, RunJournal, RunSettings, StepRecord
from omicsagent.brains.expert import policy, recipes
from omicsagent.brains.expert.recipes import Candidate
from omicsagent.tasks import load_task
from omicsagent.testing import make_motif_task, make_tabular_task


def journal_for(folder, **settings) -> tuple[RunJournal, recipes.DataProfile]:
    task = load_task(folder)
    j = RunJournal(
        run_id="t", settings=RunSettings(**{"iterations": 5, "time_budget_s": 900, **settings}), task=task
    )
    return j, recipes.profile_of(task, task.table("train"), time_budget_s=j.settings.time_budget_s)


@pytest.fixture
def motif(tmp_path):
    return journal_for(make_motif_task(tmp_path / "d", n=200, n_test=0))


@pytest.fixture
def regression(tmp_path):
    return journal_for(make_tabular_task(tmp_path / "t", regression=True, n_test=0))


def record(j: RunJournal, c: Candidate, *, train: float | None, valid: float | None,
           failed: str | None = None, seconds: float = 10) -> IterationRecord:
    metric = j.task.metric
    it = IterationRecord(
        index=len(j.iterations),
        status="failed" if failed else "succeeded",
        failure=failed,
        steps=[
            StepRecord(
                name="representation", status="done", output={"name": c.name, "spec": c.representation}
            ),
            StepRecord(name="architecture", status="done", output={"name": "m", "spec": c.model}),
            StepRecord(name="training", status="done", duration_s=seconds),
        ],
    )
    if train is not None:
        it.train_metrics = {metric: train}
    if valid is not None:
        it.validation_metrics = {metric: valid}
    j.iterations.append(it)
    return it


def same(a: Candidate | None, b: Candidate | None) -> bool:
    """The same specs (the rationale carries the diagnosis, so it differs by design)."""
    return a is not None and b is not None and (a.representation, a.model) == (b.representation, b.model)


# ----- the diagnosis: concrete metric pairs in both directions -----------------------------------------

@pytest.mark.parametrize("metric, train, valid, kind, phrase", [
    ("accuracy", 1.000, 0.992, "balanced", "near perfect"),  # breast_cancer: not "underfit"
    ("auroc", 1.000, 0.85, "overfit", "gap 0.150"),
    ("auroc", 0.995, 0.927, "overfit", "gap 0.068"),
    ("auroc", 0.80, 0.79, "underfit", "underfits"),
    ("auroc", 0.95, 0.92, "balanced", "a moderate gap"),
    ("r2", 0.95, 0.60, "overfit", "gap 0.350"),
    ("pearson", 0.62, 0.60, "underfit", "underfits"),
    ("rmse", 0.19, 0.70, "overfit", "x3.7"),  # esol
    ("rmse", 0.48, 0.50, "underfit", "underfits"),
    ("rmse", 0.40, 0.55, "balanced", "a moderate gap"),
    ("log_loss", 0.10, 0.45, "overfit", "x4.5"),
    ("mae", 0.2, None, "unknown", "unavailable"),
    ("auroc", float("nan"), 0.8, "unknown", "unavailable"),
])
def test_diagnosis_of_metric_pairs(metric, train, valid, kind, phrase):
    fit = policy.fit_of(metric, train, valid)
    assert fit.kind == kind
    assert phrase in fit.assessment
    if kind in ("overfit", "underfit"):
        assert kind in fit.assessment.replace("overfits", "overfit").replace("underfits", "underfit")
        other = "underfit" if kind == "overfit" else "overfit"
        assert other not in fit.assessment and other not in fit.advice("regularise") + fit.advice(
            "add capacity"
        )


def test_the_same_numbers_mean_opposite_things_for_a_score_and_an_error():
    assert policy.fit_of("rmse", 0.30, 0.70).kind == "overfit"  # the validation error is higher
    assert policy.fit_of("r2", 0.30, 0.70).kind == "underfit"  # the validation score is higher


def test_an_overfitting_best_is_regularised_and_both_sentences_say_so(regression):
    j, profile = regression
    plan = recipes.plan(profile)
    gbm = next(c for c in plan if c.family == "gbm")
    record(j, gbm, train=0.19, valid=0.70)  # esol-like: RMSE 3.7x worse on validation
    j.settings.iterations = 2  # one iteration left: refine instead of exploring
    assessment, instructions, stop = policy.reflect(j, j.iterations[0], profile, time_left_s=800)
    fit = policy.diagnose(j, j.iterations[0])
    assert not stop and fit.kind == "overfit" and fit.assessment in assessment and "x3.7" in assessment
    decision = policy.decide_next(j, profile, time_left_s=800)
    assert same(decision.candidate, recipes.regularize(gbm)) and "regularise" in decision.reason
    text = " ".join(instructions.values())
    assert "x3.7" in instructions["representation"] and "overfits" in text
    assert "capacity" not in text and "underfit" not in text and "low and close" not in text


def test_an_overfitting_model_that_cannot_be_regularised_is_not_given_capacity(regression):
    j, profile = regression
    plan = recipes.plan(profile)
    linear = plan[0]
    assert linear.family == "linear" and recipes.regularize(linear) is None  # tuned strength, no k-mers
    record(j, linear, train=0.19, valid=0.70)
    j.settings.iterations = 2
    assessment, instructions, _ = policy.reflect(j, j.iterations[0], profile, time_left_s=800)
    assert "overfits (validation RMSE x3.7" in assessment
    assert not same(policy.decide_next(j, profile, time_left_s=800).candidate, recipes.add_capacity(linear))
    assert "capacity" not in " ".join(instructions.values())


def test_an_underfitting_best_gets_capacity_and_both_sentences_say_so(motif):
    j, profile = motif
    plan = recipes.plan(profile)
    record(j, plan[0], train=0.80, valid=0.79)
    j.settings.iterations = 2
    assessment, instructions, _ = policy.reflect(j, j.iterations[0], profile, time_left_s=800)
    assert "underfits" in assessment
    d = policy.decide_next(j, profile, time_left_s=800)
    assert same(d.candidate, recipes.add_capacity(plan[0])) and "add capacity" in d.reason
    assert d.candidate.rationale.startswith("The model underfits")
    assert (
        "overfit" not in " ".join(instructions.values())
        and "regularise it harder" not in instructions["representation"]
    )


def test_a_near_perfect_fit_is_not_called_underfit(tmp_path):
    j, profile = journal_for(make_tabular_task(tmp_path / "c", n_test=0), time_budget_s=900)
    j.task.metric = "accuracy"
    plan = recipes.plan(profile)
    record(j, plan[1], train=1.000, valid=0.992)
    assessment, instructions, _ = policy.reflect(j, j.iterations[0], profile, time_left_s=800)
    assert "near perfect" in assessment and "underfit" not in assessment + " ".join(instructions.values())


# ----- what to try next ---------------------------------------------------------------------------------

def test_first_iteration_is_the_plans_baseline(motif):
    j, profile = motif
    assert policy.decide_next(j, profile, time_left_s=900).candidate == recipes.plan(profile)[0]


def test_failure_falls_back_to_a_cheaper_variant(motif):
    j, profile = motif
    plan = recipes.plan(profile)
    costly = max(plan, key=lambda c: c.est_seconds)
    record(j, costly, train=None, valid=None, failed="training: timed out")
    d = policy.decide_next(j, profile, time_left_s=900)
    assert recipes.cheaper(costly) is not None
    assert d.candidate == recipes.cheaper(costly) and "failed" in d.reason


def test_little_time_left_skips_slow_candidates_and_stops_when_nothing_fits(motif):
    j, profile = motif
    plan = recipes.plan(profile)
    # nothing succeeded yet: even with little time, the cheapest candidate is tried rather than nothing
    d = policy.decide_next(j, profile, time_left_s=policy.OVERHEAD_S + 1)
    assert d.candidate == min(plan, key=lambda c: c.est_seconds)
    # once something succeeded, slow candidates are skipped when they no longer fit
    record(j, plan[0], train=0.9, valid=0.88)
    assert policy.decide_next(j, profile, time_left_s=policy.OVERHEAD_S + 1).candidate is None
    # with everything tried, the policy stops with a reason
    for c in plan:
        record(j, c, train=0.9, valid=0.88)
    assessment, instructions, stop = policy.reflect(j, j.iterations[-1], profile, time_left_s=0)
    assert stop and "Stopping" in assessment and instructions == {}


def test_reflection_gives_instructions_per_step(motif):
    j, profile = motif
    it = record(j, recipes.plan(profile)[0], train=0.99, valid=0.9)
    assessment, instructions, stop = policy.reflect(j, it, profile, time_left_s=800)
    assert not stop and "overfits" in assessment
    assert set(instructions) >= {"representation", "architecture", "training"}


# ----- expected training times ---------------------------------------------------------------------------

def cand(family: str, est: float, limit: float | None) -> Candidate:
    return Candidate(
        name=f"{family}-{est}",
        family=family,
        representation={"blocks": []},
        model={"kind": family},
        rationale="test.",
        est_seconds=est,
        time_limit_s=limit,
    )


@pytest.mark.parametrize("speeds, candidate, expected", [
    ({}, cand("gbm", 10, 200), 10),                               # nothing measured: the estimate
    ({"gbm": 3.0, "*": 3.0}, cand("gbm", 10, 200), 30),             # this family measured 3x slower
    ({"gbm": 10.0, "*": 10.0}, cand("gbm", 10, 60), 60),            # ... but never beyond its time limit
    ({"gbm": 10.0, "*": 10.0}, cand("linear", 10, None), 20),       # another family: at most double
    ({"gbm": 0.5, "*": 0.5}, cand("linear", 10, None), 5),          # a fast machine helps every family
])
def test_expected_seconds_known_values(speeds, candidate, expected, motif):
    j, _ = motif  # an empty journal: no earlier fit to reuse
    assert policy.expected_seconds(j, candidate, speeds) == pytest.approx(expected)


def test_speed_factors_are_measured_per_family_from_the_journal(motif):
    j, profile = motif
    plan = recipes.plan(profile)
    first = plan[0]
    other = next(c for c in plan[1:] if c.family != first.family)
    record(j, first, train=0.9, valid=0.88, seconds=first.est_seconds * 10)  # a busy machine
    speeds = policy.speed_factors(j, plan)
    assert speeds == {first.family: pytest.approx(10.0), "*": pytest.approx(10.0)}
    assert other.family not in speeds
    record(j, other, train=0.9, valid=0.88, seconds=other.est_seconds * 0.01)  # absurdly fast: floored
    assert policy.speed_factors(j, plan)[other.family] == 0.5


# ----- after the plan: keep improving until the budget or the plateau rule ------------------------------

def test_after_the_plan_the_search_keeps_improving_then_stops_on_a_plateau(tmp_path):
    j, profile = journal_for(make_motif_task(tmp_path / "d", n=200, n_test=0), iterations=30)
    plan = recipes.plan(profile)
    scores = ([0.80, 0.81, 0.86, 0.84, 0.85] + [0.83] * len(plan))[:len(plan)]  # every planned candidate
    for c, s in zip(plan, scores):
        record(j, c, train=s + 0.05, valid=s)
    seen = []
    for _ in range(policy.PLATEAU_K):  # beyond the plan, no gain: it keeps trying new things ...
        d = policy.decide_next(j, profile, time_left_s=800)
        assert d.candidate is not None, d.reason
        assert policy.candidate_key(d.candidate.representation, d.candidate.model) not in seen
        seen.append(policy.candidate_key(d.candidate.representation, d.candidate.model))
        record(j, d.candidate, train=0.9, valid=0.855)
    kinds = [r.step("architecture").output["spec"]["kind"] for r in j.iterations[len(plan):]]
    assert "ensemble" in kinds  # a blend across families or a bag over seeds
    d = policy.decide_next(j, profile, time_left_s=800)  # ... until the plateau rule stops it, saying why
    assert d.candidate is None and d.reason.startswith("plateau") and f"last {policy.PLATEAU_K}" in d.reason
    assessment, _, stop = policy.reflect(j, j.iterations[-1], profile, time_left_s=800)
    assert stop and "plateau" in assessment


def test_a_gain_after_the_plan_resets_the_plateau(tmp_path):
    j, profile = journal_for(make_motif_task(tmp_path / "d", n=200, n_test=0), iterations=30)
    plan = recipes.plan(profile)
    for c in plan:
        record(j, c, train=0.9, valid=0.80)
    for i in range(policy.PLATEAU_K):
        d = policy.decide_next(j, profile, time_left_s=800)
        assert d.candidate is not None
        record(j, d.candidate, train=0.9, valid=0.80 + 0.01 * (i + 1))  # each one a real gain
    d = policy.decide_next(j, profile, time_left_s=800)
    assert d.candidate is not None and "plateau" not in d.reason


def test_blend_and_bag():
    lin = Candidate("a", "linear", {"blocks": [{"kind": "kmer", "column": "s"}]}, {"kind": "linear"}, "", 2)
    gbm = Candidate(
        "b",
        "gbm",
        {"blocks": [{"kind": "kmer", "column": "s"}, {"kind": "tabular", "columns": ["x"]}]},
        {"kind": "lgbm"},
        "",
        5,
    )
    b = recipes.blend(gbm, lin)
    # each member reads its own candidate's blocks of the union
    assert b.model == {"kind": "ensemble", "members": [{"kind": "lgbm"}, {"kind": "linear"}],
                       "member_blocks": [[0, 1], [0]]}
    assert b.representation["blocks"] == gbm.representation["blocks"]  # the union, without duplicates
    assert recipes.blend(lin, lin) is None
    assert recipes.bag(lin) is None  # a linear fit does not depend on the seed
    assert recipes.bag(gbm).model["members"] == [{"kind": "lgbm"}] * 3
    # a bag keeps its members' family and blends with its seeds' fits as members, half the weight in all
    bagged = recipes.bag(gbm)
    assert recipes.family_of(bagged.model) == "gbm" and recipes.bag(bagged) is None
    bb = recipes.blend(bagged, lin)
    assert bb.model == {"kind": "ensemble", "members": [{"kind": "lgbm"}] * 3 + [{"kind": "linear"}],
                        "member_blocks": [[0, 1]] * 3 + [[0]], "weights": [0.166667] * 3 + [0.5]}
    assert recipes.family_of(bb.model) == "ensemble" and recipes.blend(bb, lin) is None
    # weighted toward one side: each member gets its side's weight shared among its seeds
    w = recipes.blend(bagged, lin, weights=(0.75, 0.25))
    assert w.model["weights"] == [0.25] * 3 + [0.25] and w.name.endswith("+weighted0.75:0.25")
    assert recipes.blend(gbm, lin, weights=(0.25, 0.75)).model["weights"] == [0.25, 0.75]


def test_a_multi_label_task_blends_and_bags_inside_the_per_label_wrapper():
    """Blend and bag of multi-label candidates: the ensemble is the binary model fitted per label (a
    ``per_label`` of two ``per_label`` models would have no family, and was never blended)."""
    lin = Candidate("a", "linear", {"blocks": [{"kind": "kmer", "column": "s"}]},
                    {"kind": "per_label", "base": {"kind": "linear"}}, "", 2)
    both = {"blocks": [{"kind": "kmer", "column": "s"}, {"kind": "tabular", "columns": ["x"]}]}
    gbm = Candidate("b", "gbm", both, {"kind": "per_label", "base": {"kind": "lgbm"}}, "", 5)
    assert recipes.family_of(gbm.model) == "gbm" and recipes.family_of(lin.model) == "linear"
    b = recipes.blend(gbm, lin)
    assert b.model == {"kind": "per_label", "base": {
        "kind": "ensemble", "members": [{"kind": "lgbm"}, {"kind": "linear"}],
        "member_blocks": [[0, 1], [0]]}}
    assert recipes.family_of(b.model) == "ensemble"
    bagged = {"kind": "ensemble", "members": [{"kind": "lgbm"}] * 3}
    assert recipes.bag(gbm).model == {"kind": "per_label", "base": bagged}
    assert recipes.bag(lin) is None and recipes.blend(lin, lin) is None
    # a multi-task network (one output per label) blends with a per-label model as a whole
    net = Candidate("c", "mlp", lin.representation, {"kind": "mlp"}, "", 2)
    assert recipes.blend(gbm, net).model == {"kind": "ensemble", "members": [gbm.model, {"kind": "mlp"}],
                                             "member_blocks": [[0, 1], [0]]}
    assert recipes.bag(net).model == {"kind": "ensemble", "members": [{"kind": "mlp"}] * 3}


def test_when_the_search_ends_it_says_whether_time_or_ideas_ran_out(tmp_path, monkeypatch):
    monkeypatch.setattr(policy, "PLATEAU_K", 1000)  # no plateau: run the ideas out
    j, profile = journal_for(make_motif_task(tmp_path / "d", n=200, n_test=0), iterations=100)
    plan = recipes.plan(profile)
    for i, c in enumerate(plan):
        record(j, c, train=0.9, valid=0.80 + 0.01 * i)
    d = policy.decide_next(j, profile, time_left_s=30)
    assert d.candidate is None and d.reason == "no untried candidate fits in the 30 s left"
    for _ in range(50):
        d = policy.decide_next(j, profile, time_left_s=800)
        if d.candidate is None:
            break
        record(j, d.candidate, train=0.9, valid=0.5)  # worse than everything: the best stays the same
    assert d.candidate is None and d.reason.startswith("nothing left to try"), d.reason
