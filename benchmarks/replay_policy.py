"""Would today's expert policy make the same choices as a recorded run? For each iteration k of a finished
run, ``policy.decide`` is given the journal's first k iterations, the data profile of the run's training
split and the time that was left when iteration k started, and its candidate and parent are compared with
what the run did. A run whose every decision is the same would, up to timing noise, train the same models
today, so its measured scores still describe the current policy; the first difference says where a rerun
would part from it.

    .venv/bin/python benchmarks/replay_policy.py runs/esol-15m-tree [more runs...]

Exit 0 when every run replays the same, 1 otherwise.
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

from omicsagent.agent.journal import RunJournal
from omicsagent.brains.expert import policy, recipes
from omicsagent.ml.io import read_table


def replay(run: Path) -> list[str]:
    """One line per differing iteration (empty when the policy makes every recorded choice again)."""
    journal = RunJournal.load(run)
    train = run / journal.split.train_path  # the training split the run's brain profiled
    if not train.is_file():
        raise SystemExit(f"{run} has no {journal.split.train_path}; give a run folder kept whole.")
    settings = journal.settings
    profile = recipes.profile_of(journal.task, read_table(train), time_budget_s=settings.time_budget_s,
                                 embeddings=settings.extra.get("embeddings"))
    out = []
    for k, it in enumerate(journal.iterations):
        prefix = journal.model_copy(deep=True)
        prefix.iterations = copy.deepcopy(journal.iterations[:k])
        left = journal.settings.time_budget_s - (float(it.started_at) - float(journal.created_at))
        d = policy.decide(prefix, profile, time_left_s=left)
        rep, arch = it.step("representation"), it.step("architecture")
        if rep is None or arch is None:
            continue
        key = policy.candidate_key(rep.output.get("spec", {}), arch.output.get("spec", {}))
        now = None if d.candidate is None else policy.candidate_key(d.candidate.representation,
                                                                     d.candidate.model)
        if now != key or d.parent != it.parent:
            out.append(f"iteration {k} ({left:.0f} s left): now {d.candidate.name if d.candidate else None} "
                       f"(parent {d.parent}), the run chose {rep.output.get('name')} (parent {it.parent})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    args = ap.parse_args(argv)
    same = True
    for run in args.runs:
        diffs = replay(run)
        same &= not diffs
        print(f"{run}: " + ("every decision the same" if not diffs else f"{len(diffs)} differ"))
        for line in diffs:
            print("  " + line)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
