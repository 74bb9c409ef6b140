"""The expert's tree search (``search = "tree"``, the default for new runs): every iteration is a node whose
``parent`` (``IterationRecord.parent``) is the iteration it builds on, decided from the journal and the data
profile alone (so resume and fork are exact, and the same seed gives the same tree).

1. **Debug**: right after a failed iteration, one bounded attempt to fix it: its cheaper variant, a child of
   the failed node. A failed fix is not fixed again. (Only brain-produced failures reach the journal as
   failed iterations: a harness bug stops the run instead.)
2. **Draft**: the first ``NUM_DRAFTS`` nodes are fresh candidates from the recipe book's plan (roots), each
   with another model family or representation than the drafts before where the plan allows.
3. **Improve**: expand the best node greedily: the refinement its fit diagnosis asks for, a blend with the
   best node of another family, bagging over seeds, the other refinement. A best node is always built on once,
   and one that was a real gain (more than ``PLATEAU_EPS``) gets ``BRANCH_K`` children, before the search
   branches away from it.
4. **Branch**: once ``BRANCH_K`` iterations in a row, and ``BRANCH_K`` children of the best, did not improve
   the best validation score by more than ``PLATEAU_EPS`` (relative), alternately expand a runner-up (the
   best node of another lineage) or draft the plan's next candidate, until a branch beats the best and
   greedy improvement resumes on it. While the plan holds a model family no node has tried, that family's
   draft comes before any runner-up.
5. **Stop**: once the plan is used up and ``STOP_K`` iterations in a row brought no such gain, after the
   best node has been blended with the best of another family and bagged over seeds (where they apply and
   fit in the time left): averaging is the cheapest reliable gain, and a plateau reached while branching
   elsewhere says nothing about it.
"""
from __future__ import annotations

import itertools
import math

from omicsagent.agent.journal import IterationRecord, RunJournal
from omicsagent.brains.expert import recipes
from omicsagent.brains.expert.policy import (
    OVERHEAD_S,
    PLATEAU_EPS,
    PLATEAU_K,
    Decision,
    _gain,
    as_measured,
    candidate_key,
    candidate_of,
    expected_seconds,
    fork_focus,
    ranked_nodes,
    refinements,
    speed_factors,
    tried,
)
from omicsagent.brains.expert.recipes import Candidate, DataProfile

NUM_DRAFTS = 3  # fresh candidates before the search starts improving
BRANCH_K = 2    # iterations without a gain on the best before branching from a runner-up or a new draft
STOP_K = PLATEAU_K + 1  # iterations without a gain, once the plan is used up, before the search stops


def streak(journal: RunJournal) -> int:
    """Finished iterations in a row, at the end, that did not improve the best validation score by more
    than ``PLATEAU_EPS`` (relative) over the best before them."""
    best, n = None, 0
    for it in journal.finished_iterations:
        value = journal.primary(it) if it.status == "succeeded" else None
        if value is not None and _gain(journal, best, value) > PLATEAU_EPS:
            best, n = value, 0
            continue
        if value is not None and journal.metric.better(value, best):
            best = value
        n += 1
    return n


def root_of(journal: RunJournal, it: IterationRecord) -> int:
    """The draft a node descends from (its own index for a draft)."""
    seen = set()
    while it.parent is not None and it.parent < len(journal.iterations) and it.index not in seen:
        seen.add(it.index)
        it = journal.iterations[it.parent]
    return it.index


def _signature(c: Candidate) -> tuple:
    blocks = c.representation.get("blocks", []) if isinstance(c.representation, dict) else []
    return (recipes.family_of(c.model, c.family),
            tuple(sorted(str(b.get("kind")) for b in blocks if isinstance(b, dict))))


def averaging_moves(journal: RunJournal, it: IterationRecord, c: Candidate,
                    ranked: list[tuple[IterationRecord, Candidate]]) -> list[tuple[Candidate, str]]:
    """Node ``it``'s children that average models: a blend with the best node of another family, the same
    blend weighted 3:1 toward the better of the two (a weaker partner often helps at a quarter of the weight
    and hurts at half), and the node bagged over seeds (each None-free, in that order), their times
    estimated from the nodes' own (inside a run, blends read their members' fits back: seconds)."""
    out = []
    c = as_measured(journal, it, c)
    fam = recipes.family_of(c.model, c.family)
    rank = {o.index: k for k, (o, _) in enumerate(ranked)}

    def weighted(first, second) -> tuple[Candidate, str]:
        better = min((first, second), key=lambda ic: rank.get(ic[0].index, len(ranked)))
        w = (0.75, 0.25) if better is first else (0.25, 0.75)
        return (recipes.blend(first[1], second[1], weights=w),
                f"weighting the blend of iterations {first[0].index} and {second[0].index} 3:1 toward "
                f"iteration {better[0].index} (the better of the two)")

    if fam == "ensemble":  # an equal-weight blend of two nodes: its 3:1 variant
        pair = blended_pair(c, ranked)
        return [weighted(*pair)] if pair else []
    other = next(((o, as_measured(journal, o, oc)) for o, oc in ranked if o.index != it.index
                  and recipes.family_of(oc.model, oc.family) not in (fam, "ensemble")),
                 None)
    # the earlier node first, so expanding either node of a pair proposes the same blend (tried once)
    first, second = sorted([(it, c), other], key=lambda ic: ic[0].index) if other else (None, None)
    if other is not None and (b := recipes.blend(first[1], second[1])) is not None:
        out.append((b, f"blending iteration {it.index} ({c.name}) with iteration {other[0].index} "
                       f"({other[1].name}), the best of another family"))
        out.append(weighted(first, second))
    if (b := recipes.bag(c)) is not None:
        out.append((b, f"bagging iteration {it.index} ({c.name}) over seeds"))
    return out


def blended_pair(c: Candidate, ranked: list[tuple[IterationRecord, Candidate]]):
    """The two nodes (each with its candidate) that candidate ``c`` blends with equal weights, in the blend's
    order, or None when ``c`` is no such blend of two nodes."""
    by_key = {candidate_key(oc.representation, oc.model): (o, oc) for o, oc in ranked}
    for first, second in itertools.permutations(by_key.values(), 2):
        if first[0].index < second[0].index and (b := recipes.blend(first[1], second[1])) is not None \
                and candidate_key(b.representation, b.model) == candidate_key(c.representation, c.model):
            return first, second
    return None


def node_moves(journal: RunJournal, it: IterationRecord, c: Candidate,
               ranked: list[tuple[IterationRecord, Candidate]]) -> list[tuple[Candidate, str]]:
    """The children worth trying for node ``it`` (candidate ``c``), most promising first."""
    moves = refinements(journal, it, as_measured(journal, it, c))
    return moves[:1] + averaging_moves(journal, it, c, ranked) + moves[1:]


def decide_tree(journal: RunJournal, profile: DataProfile, *, time_left_s: float) -> Decision:
    """The next node of the search tree (candidate and parent), or None with the reason to stop."""
    plan = recipes.plan(profile)
    done = tried(journal)
    speeds = speed_factors(journal, plan)

    def ok(c: Candidate | None) -> bool:
        return (c is not None and candidate_key(c.representation, c.model) not in done
                and expected_seconds(journal, c, speeds) + OVERHEAD_S <= 0.9 * time_left_s)

    def expand(it: IterationRecord, c: Candidate, label: str) -> Decision | None:
        for child, why in node_moves(journal, it, c, ranked):
            if ok(child):
                return Decision(child, f"{label}: {why}", parent=it.index)
        return None

    finished = journal.finished_iterations
    last = finished[-1] if finished else None
    ranked = ranked_nodes(journal, plan)
    explore = [c for c in plan if ok(c)]

    # 1. debug: one bounded attempt at a failed node, never at a failed fix
    if last is not None and last.status == "failed":
        parent = journal.iterations[last.parent] if last.parent is not None else None
        c = candidate_of(last, plan)
        fix = recipes.cheaper(c) if c is not None else None
        if (parent is None or parent.status != "failed") and ok(fix):
            return Decision(fix, f"debugging iteration {last.index} ({(last.failure or '')[:120]}): "
                                 "a cheaper variant", parent=last.index)

    # a fork's first iteration builds on the iteration it was forked from
    focus = fork_focus(journal)
    if focus is not None and (fc := candidate_of(focus, plan)) is not None:
        if d := expand(focus, fc, f"forked from iteration {focus.index}"):
            return d

    # 2. drafts: diverse fresh candidates from the plan
    roots = [it for it in journal.iterations if it.parent is None and it.status != "running"]
    if explore and (len(roots) < NUM_DRAFTS or not ranked):
        drafted = {_signature(c) for it in roots if (c := candidate_of(it, plan)) is not None}
        c = next((c for c in explore if _signature(c) not in drafted), explore[0])
        return Decision(c, f"drafting candidate {len(roots) + 1}: {c.rationale}")
    if not ranked:
        cheapest = min(plan, key=lambda c: c.est_seconds, default=None)
        if ok(cheapest):
            return Decision(cheapest, "nothing has succeeded yet: the cheapest candidate")
        return Decision(None, "no untried candidate fits in the time left")

    n = streak(journal)
    if not explore and n >= STOP_K:
        best_it, best_c = ranked[0]
        # before the plateau ends the run, the best node gets the blend and the bagging it has not had
        for child, why in averaging_moves(journal, best_it, best_c, ranked):
            if ok(child):
                return Decision(child, f"the plan is used up and the search has plateaued; before stopping, "
                                       f"{why}", parent=best_it.index)
        before = [it for it in finished[:-n] if it.status == "succeeded"]
        best_before = None
        for it in before:
            if journal.metric.better(journal.primary(it), best_before):
                best_before = journal.primary(it)
        gain = _gain(journal, best_before, journal.primary(best_it))
        gain = 0.0 if math.isinf(gain) else max(gain, 0.0)
        # each of the n iterations gained at most PLATEAU_EPS on the best before it; together they may
        # have gained a little more, which the message gives as it is
        return Decision(None, f"plateau: none of the last {n} iterations of the tree search improved the "
                              f"best validation {journal.metric.label} by more than {PLATEAU_EPS:.1%} "
                              f"(together {gain:.2%}) and the plan is used up")

    best_it, best_c = ranked[0]
    # 3. improve the best greedily while it keeps improving, and always build on a new best once; a best
    # that was a real gain (more than PLATEAU_EPS, so the streak began after it) gets BRANCH_K children of
    # its own before the search branches away: drafts that did not beat it say nothing about its
    # refinements, blend or bagging. A best that only edged past its parent continues its parent's plateau.
    real_gain = n < len(finished) and finished[-n - 1].index == best_it.index
    children = sum(it.parent == best_it.index for it in finished)
    if (n < BRANCH_K or children < (BRANCH_K if real_gain else 1)) and (
            d := expand(best_it, best_c, f"improving the best node {best_it.index}")):
        return d

    # 4. branch: a runner-up of another lineage, or the plan's next draft (alternately); but a model family
    # no node has tried yet is drafted before any runner-up is refined: a new family is the likeliest large
    # gain and what a blend needs, and a plan's strongest family may come late in it
    families = {recipes.family_of(c.model, c.family) for _, c in ranked} | {"ensemble"}
    fresh = [c for c in explore if recipes.family_of(c.model, c.family) not in families]
    best_root = root_of(journal, best_it)
    others = [(it, c) for it, c in ranked[1:] if root_of(journal, it) != best_root] + \
             [(it, c) for it, c in ranked[1:] if root_of(journal, it) == best_root]

    def runner_up() -> Decision | None:
        for it, c in others:
            if d := expand(it, c, f"the best has not improved for {n} iterations; branching from the "
                                  f"runner-up node {it.index}"):
                return d
        return None

    def draft() -> Decision | None:
        if explore:
            c = (fresh or explore)[0]
            return Decision(c, f"the best has not improved for {n} iterations; drafting a new "
                               f"branch: {c.rationale}")
        return None

    order = (runner_up, draft) if (n - BRANCH_K) % 2 == 0 and not fresh else (draft, runner_up)
    for option in order:
        if d := option():
            return d
    if d := expand(best_it, best_c, f"improving the best node {best_it.index}"):
        return d
    return Decision(None, "no untried candidate fits in the time left")
