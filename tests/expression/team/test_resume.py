"""Resume: finished cohorts and problems are recorded and skipped; a kill -9 loses no finished cohort."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from omicsagent.expression.team.journal import TeamJournal

from . import cohorts
from .conftest import OMICSAGENT, cli

pytestmark = pytest.mark.slow


def test_kill_9_then_rerun(tmp_path, team_env):
    for i in range(3):
        cohorts.geo_plain(tmp_path / "input" / "GEO" / "Colorectal_Cancer" / f"GSE8{i}", f"GSE8{i}", seed=i)
    cohorts.task_info(
        tmp_path / "task_info.json", {"Colorectal_Cancer": {"related_genes": [], "conditions": []}}
    )
    args = [
        "expr",
        "run",
        "--problems",
        "task_info.json",
        "--cohorts",
        "input",
        "--out",
        "out",
        "--gene-info",
        "gene_info.gz",
    ]
    journal = tmp_path / "out" / "team" / "journal.json"
    with open(tmp_path / "first.log", "w") as log:
        proc = subprocess.Popen([str(OMICSAGENT), *args], cwd=tmp_path, env={**os.environ, **team_env},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            cohorts_now = json.loads(journal.read_text()).get("cohorts", {}) if journal.is_file() else {}
            if any(c.get("status") == "done" for c in cohorts_now.values()):  # kill once one has finished
                break
            time.sleep(0.3)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = TeamJournal.load(journal)
    done = {k: e for k, e in before.cohorts.items() if e.status == "done"}
    assert done and len(done) < 3 and before.status == "running"
    key, entry = next(iter(done.items()))
    task_journal = (tmp_path / "out" / entry.journal).read_text()
    record = json.loads(
        (tmp_path / "out" / "preprocess" / "Colorectal_Cancer" / "cohort_info.json").read_text()
    )
    assert record[entry.cohort_id]["is_usable"]  # the finished cohort is in the GenoTEX output already

    res = cli(*args, cwd=tmp_path, env=team_env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"({len(done)} done before)" in res.stderr
    after = TeamJournal.load(journal)
    assert after.status == "finished" and all(e.status == "done" for e in after.cohorts.values())
    assert len(after.cohorts) == 3 and after.cohorts[key] == entry  # not redone
    assert (tmp_path / "out" / entry.journal).read_text() == task_journal
    record = json.loads(
        (tmp_path / "out" / "preprocess" / "Colorectal_Cancer" / "cohort_info.json").read_text()
    )
    assert sorted(record) == ["GSE80", "GSE81", "GSE82"] and all(r["is_usable"] for r in record.values())
    assert (
        tmp_path / "out" / "regress" / "Colorectal_Cancer" / "significant_genes_condition_None.json"
    ).is_file()

    started = time.monotonic()
    res = cli(*args, cwd=tmp_path, env=team_env)
    assert res.returncode == 0 and "(3 done before)" in res.stderr and "(1 done before)" in res.stderr
    assert time.monotonic() - started < 60  # nothing left to do but the report
