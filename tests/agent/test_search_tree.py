"""Search that branches, through the real CLI from another working directory with relative paths: a default
(tree search) run records each iteration's parent, drafts, improves the best and branches from a runner-up;
the report draws the tree; `omicsagent fork` starts a new run from a past iteration (the old run untouched),
which `runs`, `predict` and `resume` then work on; bad forks get one sentence and exit 2. Also the policy on
hand-made journals (the bounded debug attempt, determinism) and reading a version-1 journal."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from omicsagent.agent.journal import IterationRecord, RunJournal, RunSettings, StepRecord
from omicsagent.agent.layout import RunLayout
from omicsagent.agent.lock import RunLock
from omicsagent.brains.expert import policy, recipes, tree
from omicsagent.tasks import load_task
from omicsagent.testing import make_interaction_task, make_motif_task

EXE = [sys.executable, "-m", "omicsagent"]
# four tests share one five-iteration run (a module fixture): under pytest-xdist the module goes to one
# worker, which makes the run once
pytestmark = pytest.mark.xdist_group("search_tree_run")


def cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*EXE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ})


def journal(run: Path) -> dict:
    return json.loads((run / "journal.json").read_text())


def tree_of(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes (to show a run was left untouched)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tree_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default `omicsagent run` (tree search) of six iterations on a small tabular task; the folder
    holding it is the working directory of the tests (the run is ``runs/t`` in it). It selects on the single
    validation split (--cv-below 0; the tree's choices are checked against validation scores below, and
    k-fold selection would add five fold models to each of the six iterations)."""
    home = tmp_path_factory.mktemp("tree")
    make_interaction_task(home / "data", n=240, n_test=80)
    res = cli("run", "data", "--iterations", "6", "--time-budget", "5m", "--out", "runs/t", "--quiet",
              "--cv-below", "0", cwd=home)
    assert res.returncode == 0, res.stderr[-3000:]
    return home


def ancestors(its: list[dict], index: int) -> set[int]:
    out, parent = set(), its[index]["parent"]
    while parent is not None:
        out.add(parent)
        parent = its[parent]["parent"]
    return out


@pytest.mark.slow
def test_a_tree_search_run_drafts_improves_the_best_and_branches_from_a_runner_up(tree_run: Path) -> None:
    j = journal(tree_run / "runs" / "t")
    assert j["version"] == 2 and j["settings"]["extra"]["search"] == "tree"
    its = j["iterations"]
    assert len(its) == 6 and all(it["status"] == "succeeded" for it in its)
    parents = [it["parent"] for it in its]
    assert all(p is None or 0 <= p < i for i, p in enumerate(parents)), parents  # a tree: parents come first
    assert parents[:3] == [None, None, None]  # three drafts (linear, LightGBM, ensemble)
    metric = j["task"]["metric"]
    best_before = max(range(3), key=lambda i: its[i]["validation_metrics"][metric])
    assert parents[3] == parents[4] == best_before  # then the best draft gets two children ...
    assert all(its[i]["validation_metrics"][metric] <= its[best_before]["validation_metrics"][metric]
               for i in (3, 4))
    # ... and when they brought no gain, the search branches from a runner-up, outside the best's line
    branch = its[5]
    assert branch["parent"] not in {best_before, *ancestors(its, best_before), None}, parents
    plan = next(s for s in branch["steps"] if s["name"] == "representation")
    assert plan["output"]["parent"] == branch["parent"]
    reflection = next(s for s in its[4]["steps"] if s["name"] == "reflection")
    assert "runner-up" in reflection["output"]["instructions"]["architecture"]


@pytest.mark.slow
def test_the_report_draws_the_tree(tree_run: Path) -> None:
    run = tree_run / "runs" / "t"
    its = journal(run)["iterations"]
    page = (run / "report.html").read_text()
    svg = re.search(r'<svg id="search-tree".*?</svg>', page, re.DOTALL)
    assert svg, "no search tree in report.html"
    nodes = re.findall(r'<g class="node([^"]*)" data-iteration="(\d+)"', svg.group(0))
    assert sorted(int(i) for _, i in nodes) == list(range(len(its)))
    edges = re.findall(r'data-parent="(\d*)" data-child="(\d+)"', svg.group(0))
    assert {(int(c), int(p) if p else None) for p, c in edges} == {(it["index"], it["parent"]) for it in its}
    best = [i for cls, i in nodes if "best" in cls.split()]
    test_iteration = journal(run)["test_iteration"]
    assert best == [str(test_iteration)]
    md = (run / "report.md").read_text()
    assert "Search tree" in md and f"  - 3: {its[3]['summary']}" in md


@pytest.mark.slow
def test_fork_continues_from_a_past_iteration_and_leaves_the_old_run_alone(tree_run: Path) -> None:
    before = tree_of(tree_run / "runs" / "t")
    res = cli("fork", "runs/t", "--from-iteration", "1", "--out", "runs/f", "--iterations", "1",
              "--time-budget", "60s", "--quiet", cwd=tree_run)
    assert res.returncode == 0, res.stderr[-3000:]
    assert tree_of(tree_run / "runs" / "t") == before  # the source run is only read
    src, new = journal(tree_run / "runs" / "t"), journal(tree_run / "runs" / "f")
    assert new["status"] == "finished" and new["run_id"] != src["run_id"]
    assert [it["index"] for it in new["iterations"]] == [0, 1, 2]
    assert [it["parent"] for it in new["iterations"][:2]] == [it["parent"] for it in src["iterations"][:2]]
    first = new["iterations"][2]
    assert first["status"] == "succeeded" and first["parent"] == 1  # it builds on the forked iteration
    assert new["settings"]["extra"]["fork"] == {"from": str((tree_run / "runs" / "t").resolve()),
                                                "run_id": src["run_id"], "iteration": 1, "next": 2}
    assert new["split"] == src["split"]  # the same split: scores stay comparable
    assert not (tree_run / "runs" / "f" / "workspace" / "artifacts" / "iter_003").exists()
    # the run's fit cache came along (keyed by content): a blend in the fork reads the source's fits back
    fits = [{p.name for p in (tree_run / "runs" / r / "workspace" / "scratch" / "fit_cache").iterdir()}
            for r in ("t", "f")]
    assert fits[0] and fits[0] <= fits[1]
    assert (tree_run / "runs" / "f" / "best" / "inference.py").exists()
    # the usual commands work on the fork
    listed = cli("runs", "runs", cwd=tree_run)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^\s*f\s+expert\s+finished", listed.stdout, re.M), listed.stdout
    (tree_run / "new.csv").write_text((tree_run / "data" / "test.csv").read_text())
    pred = cli("predict", "runs/f", "--input", "new.csv", "--output", "pred.csv", cwd=tree_run)
    assert pred.returncode == 0, pred.stderr
    assert len((tree_run / "pred.csv").read_text().splitlines()) == 81
    again = cli("resume", "runs/f", cwd=tree_run)
    assert again.returncode == 2 and "already finished" in again.stderr


def _one_sentence(res: subprocess.CompletedProcess) -> str:
    text = " ".join(res.stderr.split())
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    assert text.startswith("error:") and "Traceback" not in res.stderr and text.count(". ") == 0, text
    return text


@pytest.mark.slow
def test_fork_refuses_what_cannot_work_with_one_sentence(tree_run: Path) -> None:
    home = tree_run
    fork = ("fork", "runs/t", "--out", "runs/bad", "--quiet")
    assert "is not an iteration" in _one_sentence(cli(*fork, "--from-iteration", "9", cwd=home))
    assert "not a whole number" in _one_sentence(cli(*fork, "--from-iteration", "two", cwd=home))
    (home / "full").mkdir()
    (home / "full" / "x.txt").write_text("x")
    res = cli("fork", "runs/t", "--from-iteration", "1", "--out", "full", cwd=home)
    assert "not empty" in _one_sentence(res)
    assert "inside the run" in _one_sentence(cli("fork", "runs/t", "--from-iteration", "1", "--out",
                                                 "runs/t/sub", cwd=home))
    # a failed iteration has no model to start from (a copy of the run whose iteration 2 failed)
    shutil.copytree(home / "runs" / "t", home / "failing", symlinks=True)
    j = journal(home / "failing")
    j["iterations"][2].update(status="failed", failure="training: train.py failed (MemoryError)")
    (home / "failing" / "journal.json").write_text(json.dumps(j))
    res = cli("fork", "failing", "--from-iteration", "2", "--out", "runs/bad", cwd=home)
    assert "failed, so it has no model" in _one_sentence(res)
    # a run another process is working on
    with RunLock(RunLayout.at(home / "runs" / "t")):
        res = cli(*fork, "--from-iteration", "1", cwd=home)
    assert "still running" in _one_sentence(res)
    assert not (home / "runs" / "bad").exists()  # nothing written
    assert sorted(p.name for p in (home / "full").iterdir()) == ["x.txt"]


# ----- the policy on hand-made journals -----------------------------------------------------------------

def _journal(folder: Path) -> tuple[RunJournal, recipes.DataProfile]:
    task = load_task(make_motif_task(folder, n=200, n_test=0))
    j = RunJournal(run_id="t", task=task,
                   settings=RunSettings(iterations=30, time_budget_s=900, extra={"search": "tree"}))
    return j, recipes.profile_of(task, task.table("train"), time_budget_s=900)


def _record(j: RunJournal, d: policy.Decision, *, valid: float | None) -> IterationRecord:
    c = d.candidate
    it = IterationRecord(index=len(j.iterations), parent=d.parent,
                         status="failed" if valid is None else "succeeded",
                         failure="training: train.py failed (MemoryError)" if valid is None else None,
                         steps=[StepRecord(name="representation", status="done",
                                           output={"name": c.name, "spec": c.representation}),
                                StepRecord(name="architecture", status="done", output={"spec": c.model}),
                                StepRecord(name="training", status="done", duration_s=5)])
    if valid is not None:
        it.validation_metrics = {j.task.metric: valid}
        it.train_metrics = {j.task.metric: valid + 0.05}
    j.iterations.append(it)
    return it


def test_a_failed_node_gets_one_bounded_debug_attempt(tmp_path: Path) -> None:
    j, profile = _journal(tmp_path / "d")
    d0 = policy.decide(j, profile, time_left_s=800)
    assert d0.parent is None and d0.reason.startswith("drafting")
    failed = _record(j, d0, valid=None)
    fix = policy.decide(j, profile, time_left_s=800)
    assert fix.parent == failed.index and fix.reason.startswith("debugging iteration 0")
    _record(j, fix, valid=None)  # the fix fails too: it is not fixed again, the search drafts on
    after = policy.decide(j, profile, time_left_s=800)
    assert after.parent is None and after.reason.startswith("drafting")


def test_the_tree_search_is_deterministic_and_the_linear_policy_stays_available(tmp_path: Path) -> None:
    def walk(search: str) -> list[tuple[str, int | None]]:
        j, profile = _journal(tmp_path / search)
        j.settings.extra["search"] = search
        out = []
        for k in range(8):
            d = policy.decide(j, profile, time_left_s=800)
            if d.candidate is None:
                break
            _record(j, d, valid=0.7 + 0.01 * ((k * 7) % 5))
            out.append((d.candidate.name, d.parent))
        return out

    assert walk("tree") == walk("tree")
    linear = walk("linear")
    plan = recipes.plan(_journal(tmp_path / "p")[1])
    assert [name for name, _ in linear[: len(plan)]] == [c.name for c in plan]  # the plan in order
    assert walk("tree") != linear
    assert tree.NUM_DRAFTS < len(plan)


def test_a_version_1_journal_is_still_read(tmp_path: Path) -> None:
    task = load_task(make_motif_task(tmp_path / "d", n=60, n_test=0))
    j = RunJournal(run_id="old", task=task, settings=RunSettings(),
                   iterations=[IterationRecord(index=0, status="succeeded")])
    data = json.loads(j.model_dump_json())
    data["version"] = 1
    del data["iterations"][0]["parent"]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "journal.json").write_text(json.dumps(data))
    loaded = RunJournal.load(tmp_path / "run")
    assert loaded.version == 2 and loaded.iterations[0].parent is None
    assert policy.search_of(loaded) == "linear"  # an old run resumes with the policy it ran with


def test_the_best_is_built_on_before_the_search_branches_away_from_it(tmp_path: Path) -> None:
    """Drafts that did not beat the best say nothing about its refinements, blend or bagging: the best gets
    BRANCH_K children of its own before the search branches away (it once got a single one)."""
    j, profile = _journal(tmp_path / "d")
    scores = [0.85, 0.80, 0.78]  # the first draft stays the best: the later drafts bring no gain
    for value in scores:
        d = policy.decide(j, profile, time_left_s=800)
        assert d.parent is None
        _record(j, d, valid=value)
    assert tree.streak(j) >= tree.BRANCH_K
    for _ in range(tree.BRANCH_K):
        d = policy.decide(j, profile, time_left_s=800)
        assert d.parent == 0 and d.reason.startswith("improving the best node 0"), d.reason
        _record(j, d, valid=0.84)  # no gain
    d = policy.decide(j, profile, time_left_s=800)  # now the search branches from a runner-up or drafts anew
    assert d.parent != 0 and "has not improved" in d.reason, d.reason


def test_a_best_that_only_edged_past_its_parent_gets_no_extra_children(tmp_path: Path) -> None:
    """A child that beats the best by less than PLATEAU_EPS becomes the best but continues its parent's
    plateau: once it has been built on without gain, the search branches (a run that gave each such tiny
    best two children of its own drafted the plan's CNN too late to blend it)."""
    j, profile = _journal(tmp_path / "d")
    for value in [0.85, 0.80, 0.78]:
        _record(j, policy.decide(j, profile, time_left_s=800), valid=value)
    d = policy.decide(j, profile, time_left_s=800)
    assert d.parent == 0
    edged = _record(j, d, valid=0.8505)  # +0.06%: the new best, not a real gain
    d = policy.decide(j, profile, time_left_s=800)
    assert d.parent == edged.index and d.reason.startswith("improving the best node"), d.reason
    _record(j, d, valid=0.84)
    d = policy.decide(j, profile, time_left_s=800)
    assert d.parent != edged.index and "has not improved" in d.reason, d.reason


def test_before_a_plateau_stops_the_search_the_best_is_blended_and_bagged(tmp_path: Path) -> None:
    """The plan used up and no gain for a while: the run does not stop before the best node has had its
    averaging moves (a blend with another family, bagging over seeds), the cheapest reliable gains."""
    j, profile = _journal(tmp_path / "d")
    best = None
    for k in range(60):
        d = policy.decide(j, profile, time_left_s=800)
        if d.candidate is None:
            break
        # the first draft of a seed-dependent model (bagging applies) stays the best
        first = best is None and d.parent is None and d.candidate.model["kind"] in recipes.STOCHASTIC
        it = _record(j, d, valid=0.9 if first else 0.8 - 0.001 * k)
        best = it if first else best
    assert d.candidate is None and d.reason.startswith("plateau"), d.reason
    children = [it for it in j.iterations if it.parent == best.index]
    specs = [it.step("architecture").output["spec"] for it in children]
    assert best.step("architecture").output["spec"]["kind"] in recipes.STOCHASTIC
    assert any(s["kind"] == "ensemble" and s.get("member_blocks") for s in specs)  # blended
    assert any(s["kind"] == "ensemble" and not s.get("member_blocks") for s in specs)  # bagged


def test_the_plateau_message_does_not_contradict_itself_when_small_gains_add_up(tmp_path: Path) -> None:
    """Each fresh draft gains 0.15% on the best before it (below the 0.2% rule) and nothing else gains, so
    the run stops on the plateau although its last iterations together gained more than 0.2%: the reason
    says both, truly."""
    j, profile = _journal(tmp_path / "d")
    best = 0.8
    for _ in range(60):
        d = policy.decide(j, profile, time_left_s=800)
        if d.candidate is None:
            break
        best = best * 1.0015 if d.parent is None else best
        _record(j, d, valid=best if d.parent is None else 0.7)
    assert d.candidate is None and d.reason.startswith("plateau: none of the last"), d.reason
    n = int(d.reason.split("none of the last ")[1].split()[0])
    together = float(d.reason.split("(together ")[1].split("%")[0])
    assert n >= tree.STOP_K and together > 100 * policy.PLATEAU_EPS  # the gains added up past the rule
    assert "by more than 0.2%" in d.reason and "less than" not in d.reason


def _families_of_plan(j: RunJournal, profile: recipes.DataProfile) -> set[str]:
    return {recipes.family_of(c.model, c.family) for c in recipes.plan(profile)} - {"ensemble"}


def test_every_model_family_of_the_plan_is_drafted_before_a_runner_up_is_refined(tmp_path: Path) -> None:
    """The first draft stays the best and nothing improves it: before the search refines any runner-up, it
    drafts each model family of the plan that no node has tried (on DNA the CNN comes late in the plan, and
    a run that kept refining the two linear drafts never trained it)."""
    j, profile = _journal(tmp_path / "d")
    assert {"linear", "gbm", "cnn"} <= _families_of_plan(j, profile)
    for k in range(40):
        d = policy.decide(j, profile, time_left_s=800)
        if d.candidate is None:
            break
        first = not j.iterations
        _record(j, d, valid=0.9 if first else 0.8)
        if "runner-up" in d.reason:
            break
    assert "runner-up" in d.reason, [it.parent for it in j.iterations]
    drafted = {recipes.family_of(it.step("architecture").output["spec"])
               for it in j.iterations[:-1] if it.parent is None}
    assert _families_of_plan(j, profile) <= drafted, drafted


def test_a_blend_of_two_nodes_is_tried_once_whichever_node_is_expanded(tmp_path: Path) -> None:
    """Expanding node A proposes blend(A, B) and expanding B proposes blend(B, A): the same model, which a
    run once trained twice; the pair is now put in one order, so the second is seen as tried."""
    j, profile = _journal(tmp_path / "d")
    for k in range(60):
        d = policy.decide(j, profile, time_left_s=800)
        if d.candidate is None:
            break
        _record(j, d, valid=0.8 + 0.0015 * (k % 3))  # scores close together: every node gets expanded
    pairs = []
    for it in j.iterations:
        spec = it.step("architecture").output["spec"]
        if spec.get("kind") == "ensemble" and spec.get("member_blocks"):
            pairs.append(sorted(json.dumps([m, w], sort_keys=True)  # each member with its weight
                                for m, w in zip(spec["members"], spec.get("weights") or [0.5] * 2)))
    assert pairs, "no blend was tried"
    assert len(pairs) == len({tuple(p) for p in pairs}), "the same blend was trained twice"
    assert any(len(set(w for _, w in map(json.loads, p))) == 2 for p in pairs), "no blend weighted 3:1"


def test_averaging_moves_are_timed_from_the_nodes_measured_training(tmp_path: Path) -> None:
    """A bag of 3 costs 3 fits of its node and a blend both members' fits, as measured on this machine (5 s
    each here), not the recipe book's estimates times a family speed: for per-label models those were several
    times too long, and a run plateaued with a third of its budget unused and no bagging. The fits the nodes
    made are read back from the run's fit cache, so the bag is expected to cost two new fits and the blend a
    tenth of its members' fits; the blend's node, once trained in seconds, still counts both fits for
    what builds on it."""
    j, profile = _journal(tmp_path / "d")
    plan = recipes.plan(profile)
    best = None
    while best is None:  # the drafts until a seed-dependent one (bagging applies), which becomes the best
        d = policy.decide(j, profile, time_left_s=800)
        stochastic = d.candidate.model["kind"] in recipes.STOCHASTIC
        it = _record(j, d, valid=0.95 if stochastic else 0.8)
        best = it if stochastic else None
    slow = {"*": 50.0, **{c.family: 50.0 for c in plan}, "ensemble": 50.0}
    moves = {why.split()[0]: c for c, why in
             tree.averaging_moves(j, best, policy.candidate_of(best, plan), policy.ranked_nodes(j, plan))}
    share = policy.REUSE_SHARE
    assert moves["bagging"].est_seconds == 3 * 5 and moves["blending"].est_seconds == 5 + 5
    assert moves["bagging"].measured and moves["blending"].measured
    assert policy.expected_seconds(j, moves["bagging"], slow) == pytest.approx(2 * 5 + share * 5)
    assert policy.expected_seconds(j, moves["blending"], slow) == pytest.approx(share * (5 + 5))
    # the same blend weighted 3:1 toward the better node (the best, the blend's first or second member)
    weighted = recipes.unwrapped(moves["weighting"].model)[0]
    members = recipes.unwrapped(moves["blending"].model)[0]["members"]
    best_spec = recipes.unwrapped(best.step("architecture").output["spec"])[0]
    assert weighted["weights"][members.index(best_spec)] == 0.75
    assert sorted(weighted["weights"]) == [0.25, 0.75]
    assert policy.expected_seconds(j, moves["weighting"], slow) == pytest.approx(share * (5 + 5))
    recipe_bag = recipes.bag(policy.candidate_of(best, plan))
    assert not recipe_bag.measured and policy.expected_seconds(j, recipe_bag, slow) > 3 * 5
    # the blend trained (in 1 s: both members read back): fitting it from scratch still takes 5 + 5 + 1 s
    blend = _record(j, policy.Decision(moves["blending"], "blend", parent=best.index), valid=0.9)
    blend.step("training").duration_s = 1
    assert policy.fresh_seconds(j, blend) == 11
    assert policy.as_measured(j, blend, policy.candidate_of(blend, plan)).est_seconds == 11
    # the bag trained (3 s: two new seeds), then blended: the blend reads back all three seeds' fits (the
    # bag's node counts its own two and the first seed's node) and the other member's
    bag = _record(j, policy.Decision(moves["bagging"], "bag", parent=best.index), valid=0.9)
    bag.step("training").duration_s = 3
    assert policy.fresh_seconds(j, bag) == 3 + 5
    moves = tree.averaging_moves(j, bag, policy.candidate_of(bag, plan), policy.ranked_nodes(j, plan))
    other = next(c for c, why in moves if why.startswith("blend"))
    assert len(recipes.unwrapped(other.model)[0]["members"]) == 4  # the three seeds and the other node
    assert policy.reused_seconds(j, other.representation, other.model) == 3 + 5 + 5


def test_a_best_node_that_is_an_equal_blend_gets_its_3_to_1_variant(tmp_path: Path) -> None:
    """The best node is a blend of two nodes with equal weights: before the plateau ends the search, the same
    blend weighted 3:1 toward the better member is tried as its child (a blend has no bag of its own)."""
    j, profile = _journal(tmp_path / "d")
    blend = None
    for _ in range(60):
        d = policy.decide(j, profile, time_left_s=800)
        if d.candidate is None:
            break
        inner = recipes.unwrapped(d.candidate.model)[0]
        equal = inner.get("member_blocks") and not inner.get("weights")
        it = _record(j, d, valid=0.95 if equal and blend is None else 0.8)
        blend = it if equal and blend is None else blend
        if blend is not None and d.parent == blend.index and "weighting the blend" in d.reason:
            break
    assert blend is not None, "no blend was tried"
    assert d.parent == blend.index and "weighting the blend" in d.reason, d.reason
    weights = recipes.unwrapped(d.candidate.model)[0]["weights"]
    assert sorted(weights) == [0.25, 0.75]
