"""Leaderboards: mean and standard error over seeds per task, per domain and overall; md, csv and a
self-contained HTML page that headless Chromium renders without any network request."""
from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from omicsagent.bench.jobs import RESULT_SCHEMA, job_key, write_result
from omicsagent.bench.leaderboard import aggregate, to_csv, to_markdown, write_leaderboard
from omicsagent.errors import InputError

from .conftest import cli


def rec(agent: str, task: str, seed: int, score: float | None, *, domain: str, wall: float = 10.0,
        cost: float | None = None) -> dict:
    ok = score is not None
    return {
        "schema": RESULT_SCHEMA,
        "key": job_key(agent, task, seed),
        "suite": "toy",
        "agent": agent,
        "task": task,
        "domain": domain,
        "seed": seed,
        "status": "succeeded" if ok else "failed",
        "success": ok,
        "reason": None if ok else "no submission",
        "metric": "auroc",
        "raw_score": score,
        "score": score if ok else 0.0,
        "wall_s": wall,
        "cpu_s": wall / 2,
        "cost_usd": cost,
    }


RECORDS = [
    rec("expert", "a", 0, 0.9, domain="seq", wall=100, cost=0.0),
    rec("expert", "a", 1, 0.8, domain="seq", wall=120),
    rec("expert", "b", 0, 0.7, domain="chem", wall=60),
    rec("expert", "b", 1, None, domain="chem", wall=30),
    rec("baseline:floor", "a", 0, 0.6, domain="seq", wall=5),
    rec("baseline:floor", "a", 1, 0.6, domain="seq", wall=5),
    rec("baseline:floor", "b", 0, 0.5, domain="chem", wall=4),
    rec("baseline:floor", "b", 1, 0.55, domain="chem", wall=4),
    rec("llm:x:y", "a", 0, 0.95, domain="seq", wall=300, cost=0.5),
    rec("llm:x:y", "b", 0, 0.65, domain="chem", cost=0.25),
]


def _row(rows, agent, level, name):
    return next(r for r in rows if (r.agent, r.level, r.name) == (agent, level, name))


def test_means_standard_errors_and_ranking() -> None:
    rows = aggregate(RECORDS)
    a = _row(rows, "expert", "task", "a")
    assert a.mean == pytest.approx(0.85) and a.se == pytest.approx(np.std([0.9, 0.8], ddof=1) / math.sqrt(2))
    b = _row(rows, "expert", "task", "b")  # the failed seed counts as 0
    assert b.mean == pytest.approx(0.35) and b.success_rate == 0.5 and b.raw_mean == pytest.approx(0.7)
    assert b.se == pytest.approx(0.35)
    overall = _row(rows, "expert", "overall", "all")
    assert overall.mean == pytest.approx((0.85 + 0.35) / 2)
    assert overall.se == pytest.approx(math.sqrt(a.se**2 + b.se**2) / 2)
    assert overall.success_rate == pytest.approx(0.75) and overall.wall_s == pytest.approx(77.5)
    assert _row(rows, "expert", "domain", "chem").mean == pytest.approx(0.35)
    llm = _row(rows, "llm:x:y", "overall", "all")
    assert llm.mean == pytest.approx(0.8) and llm.se is None and llm.cost_usd == pytest.approx(0.75)
    ranks = {r.agent: r.rank for r in rows if r.level == "overall"}
    assert ranks == {"llm:x:y": 1, "expert": 2, "baseline:floor": 3}
    assert _row(rows, "baseline:floor", "overall", "all").cost_usd is None


def test_markdown_and_csv() -> None:
    rows = aggregate(RECORDS)
    md = to_markdown(rows, title="toy")
    assert "| 1 | llm:x:y | 0.800 | 100% | 2 | 2 |" in md
    assert "| chem | expert | 0.350 ± 0.350 | 50% | 1 |" in md
    table = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert {r["level"] for r in table} == {"overall", "domain", "task"}
    first = table[0]
    assert (first["level"], first["agent"], first["rank"], float(first["mean"])) == (
        "overall",
        "llm:x:y",
        "1",
        0.8,
    )


# --- the HTML page in headless Chromium ----------------------------------------------------------

PROBE = """<script>window.addEventListener("load", () => {
  const p = document.createElement("pre"); p.id = "probe";
  p.textContent = JSON.stringify({
    images: [...document.images].map(i => [i.naturalWidth, i.naturalHeight]),
    tables: document.querySelectorAll("table").length,
    resources: performance.getEntriesByType("resource").map(e => e.name)});
  document.body.appendChild(p);
});</script>"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000"]


def _render(page: Path) -> dict:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        pytest.skip("chromium is not installed; run `make sysdeps` to enable this test")
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=120, check=False)
    m = re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, re.DOTALL)
    assert m, f"chromium did not render the page (exit {res.returncode}): {res.stderr[-800:]}"
    return json.loads(html.unescape(m.group(1)))


def test_html_page_renders_offline_in_chromium(tmp_path: Path) -> None:
    for r in RECORDS:
        write_result(r, tmp_path / "results")
    res = cli("bench", "leaderboard", "results", "--format", "html", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "results" / "leaderboard.html").read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"))
    got = _render(probed)
    assert got["resources"] == [], f"the page loaded {got['resources']}"
    assert len(got["images"]) == 2 and all(w > 200 and h > 150 for w, h in got["images"]), got["images"]
    assert got["tables"] == 3
    # the probe notices an external load, so the empty list above means something
    control = tmp_path / "control.html"
    control.write_text('<html><body><img src="https://example.invalid/x.png">' + PROBE + "</body></html>")
    seen = _render(control)
    assert seen["resources"] == ["https://example.invalid/x.png"] and seen["images"] == [[0, 0]]


def test_leaderboard_bad_input(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for args, message in (
        (["empty"], "holds no job results"),
        (["empty", "--format", "pdf"], "--format 'pdf' is not known"),
    ):
        res = cli("bench", "leaderboard", *args, cwd=tmp_path)
        assert res.returncode == 2 and message in res.stderr and len(res.stderr.strip().splitlines()) == 1, (
            res.stderr
        )
    with pytest.raises(InputError, match="does not exist"):
        write_leaderboard(tmp_path / "nowhere", "md")
