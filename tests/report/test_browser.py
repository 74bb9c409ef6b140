"""Open report.html in headless Chromium: figures decode with a real size and nothing is fetched."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from omicsagent.report import write_report
from omicsagent.testing import tool_unusable

# Appended to a copy of the report: after load, write what the page loaded into the DOM for --dump-dom.
PROBE = """<script>window.addEventListener("load", () => {
  const p = document.createElement("pre"); p.id = "probe";
  p.textContent = JSON.stringify({
    images: [...document.images].map(i => [i.naturalWidth, i.naturalHeight]),
    svgs: [...document.querySelectorAll("svg")].map(s => [s.getBoundingClientRect().width,
                                                         s.getBoundingClientRect().height]),
    tree: [...document.querySelectorAll("#search-tree .node")].map(n => n.getBoundingClientRect().width),
    resources: performance.getEntriesByType("resource").map(e => e.name)});
  document.body.appendChild(p);
});</script>"""

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000"]


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser, checked before the run is made (a missing browser fails under CI=true)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if path is None:
        tool_unusable(
            "chromium is not installed; run `make sysdeps` (or `apt-get install -y chromium`) to enable "
            "this test"
        )
    return path


def _probe(chromium: str, page: Path) -> dict:
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                             capture_output=True, text=True, timeout=90, check=False)
    m = re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, re.DOTALL)
    assert m, f"chromium did not render the page (exit {res.returncode}): {res.stderr[-800:]}"
    return json.loads(html.unescape(m.group(1)))


def _with_probe(src: str, dest: Path) -> Path:
    dest.write_text(src.replace("</body>", PROBE + "</body>"))
    return dest


def test_report_renders_offline_in_chromium(
    chromium: str, tmp_path: Path, run_copy: Callable[..., Path]
) -> None:
    run = run_copy("motif")  # a report of a run the real CLI wrote
    report = write_report(run, formats=("html",))["html"]
    got = _probe(chromium, _with_probe(report.read_text(), tmp_path / "probed.html"))
    assert len(got["images"]) == 5  # metric history, ROC/PR, confusion, calibration, feature importance
    assert all(w > 100 and h > 100 for w, h in got["images"]), got["images"]
    assert all(w > 0 and h > 0 for w, h in got["svgs"])
    iterations = json.loads((run / "journal.json").read_text())["iterations"]
    # the search tree: one node per iteration, drawn at its size
    assert len(got["tree"]) == len(iterations) and all(w > 20 for w in got["tree"]), got["tree"]
    assert got["resources"] == [], f"the report loaded {got['resources']}"

    # the probe itself notices an external load (so an empty list above means something)
    control = _with_probe(
        '<html><body><img src="https://example.invalid/x.png"></body></html>', tmp_path / "c.html"
    )
    seen = _probe(chromium, control)
    assert seen["resources"] == ["https://example.invalid/x.png"] and seen["images"] == [[0, 0]]
