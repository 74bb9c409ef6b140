"""``omicsagent fork``: a new run that starts from any past iteration of another run.

The new run gets what it needs to continue from iteration N: the workspace (inputs, the registered split, the
label-free scoring inputs and every file the brain wrote, except the folders of iterations after N and the
scratch folder, of which only the run's caches are copied), the harness's private files, and the journal up to
iteration N with each iteration's parent. It records where it came from in ``settings.extra["fork"]`` (source
folder, run id, iteration, the index of its first new iteration), and its first new iteration builds on
iteration N. The source run is only read, never changed; ``best/`` of the fork is rebuilt from its own journal
when it continues (``resume_run``).
"""
from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

from omicsagent.agent.harness import RUN_CACHES
from omicsagent.agent.journal import RunJournal
from omicsagent.agent.layout import RunLayout
from omicsagent.agent.lock import owner_pid
from omicsagent.errors import InputError, RunStateError


def check_fork(source: RunLayout, journal: RunJournal, iteration: int, out: RunLayout) -> None:
    """Refuse a fork that cannot work, with one sentence and the fix; nothing is written."""
    from omicsagent.agent.runner import check_new_run_folder

    where = source.display()
    pid = owner_pid(source)
    if pid is not None:
        who = f"process {pid}" if pid > 0 else "another process"
        raise RunStateError(f"the run in {where} is still running ({who}); fork it once it has finished or "
                            "been stopped (Ctrl-C).")
    done = [it.index for it in journal.iterations if it.status == "succeeded"]
    choices = ", ".join(map(str, done[:12])) + (" ..." if len(done) > 12 else "")
    if not 0 <= iteration < len(journal.iterations):
        raise InputError(
            f"--from-iteration {iteration} is not an iteration of the run in {where} (it has "
            f"{len(journal.iterations)}); give one that succeeded: {choices}."
            if done else f"--from-iteration {iteration}: the run in {where} has no iteration that succeeded, "
            "so there is nothing to fork from; start a new run instead."
        )
    it = journal.iterations[iteration]
    if it.status != "succeeded":
        state = "failed" if it.status == "failed" else "never ended"
        raise InputError(f"iteration {iteration} of the run in {where} {state}, so it has no model to start "
                         f"from; give one that succeeded: {choices or 'none'}.")
    if out.root == source.root or out.root.is_relative_to(source.root):
        raise InputError(f"--out {out.display()} is inside the run being forked; choose a folder outside it.")
    check_new_run_folder(out)


def fork_run(source: Path | str | RunLayout, *, iteration: int, out_dir: Path | str | RunLayout) -> RunLayout:
    """Copy run ``source`` up to iteration ``iteration`` into the new run folder ``out_dir`` (absent or
    empty) and return its layout; the new run's journal is ``interrupted`` and continues with
    ``resume_run``."""
    src, dst = RunLayout.at(source), RunLayout.at(out_dir)
    journal = RunJournal.load(src)
    check_fork(src, journal, iteration, dst)
    from omicsagent.sandbox import make_sandbox

    make_sandbox(journal.settings.sandbox)  # fail before copying anything when the sandbox is unusable
    kept = journal.iterations[: iteration + 1]
    later = {src.run_path(it.dir) for it in journal.iterations[iteration + 1:] if it.dir}
    skip = later | {src.workspace / "scratch"}
    created = not dst.root.exists()
    try:
        dst.root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src.workspace, dst.workspace, symlinks=True,
                        ignore=lambda folder, names: [n for n in names if Path(folder) / n in skip])
        (dst.workspace / "scratch").mkdir(exist_ok=True)
        for cache in RUN_CACHES:  # content-keyed, so valid for the fork (fits of later iterations included)
            if (src.workspace / "scratch" / cache).is_dir():
                shutil.copytree(src.workspace / "scratch" / cache, dst.workspace / "scratch" / cache,
                                symlinks=True)
        if src.private.exists():
            shutil.copytree(src.private, dst.private, symlinks=True)
        new = _forked_journal(journal, src, iteration)
        new.save(dst)
        with open(dst.log_file, "a", encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} forked from {src.root} (run {journal.run_id}) at "
                     f"iteration {iteration}; iterations 0-{len(kept) - 1} copied\n")
    except BaseException:
        if created:
            shutil.rmtree(dst.root, ignore_errors=True)
        else:  # the folder was there (empty): leave it empty
            for child in dst.root.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        raise
    return dst


def _forked_journal(journal: RunJournal, src: RunLayout, iteration: int) -> RunJournal:
    kept = [it.model_copy(deep=True) for it in journal.iterations[: iteration + 1]]
    new = journal.model_copy(deep=True, update={"iterations": kept})
    new.run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    new.created_at = new.updated_at = time.time()
    new.status = "interrupted"
    new.status_reason = f"forked from {src.root} at iteration {iteration}"
    new.elapsed_s = sum(it.duration_s for it in kept)
    new.settings.iterations = len(kept)  # the command adds the fork's own iterations
    new.settings.extra["fork"] = {"from": str(src.root), "run_id": journal.run_id, "iteration": iteration,
                                  "next": len(kept)}
    best = new.best_iteration
    if best is None or new.test_iteration != best.index:
        new.test_metrics, new.test_iteration = None, None
    new.notes.append(f"forked at {time.strftime('%Y-%m-%d %H:%M:%S')} from {src.root} (run {journal.run_id}) "
                     f"at iteration {iteration}")
    return new
