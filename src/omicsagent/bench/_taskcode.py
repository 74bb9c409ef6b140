"""Run a task author's code in its own process (``python -m omicsagent.bench._taskcode``).

    grade   GRADE_PY FUNCTION SUBMISSION_CSV ANSWERS_CSV OUT_JSON [IMPORT_ROOT ...]
    prepare PREPARE_PY FUNCTION RAW_DIR PREPARED_DIR [IMPORT_ROOT ...]

``grade`` writes ``{"score": float}`` or ``{"invalid": message}`` (the grader raised) to OUT_JSON; the
grader gets the submission and the answers as DataFrames read with ``pandas.read_csv`` defaults.
``prepare`` calls ``prepare(raw, public, private)`` (MLE-bench) or ``prepare(raw, prepared)`` (BioML-bench)
depending on how many parameters the function takes. Task code is trusted like a test suite you install
(docs/bench.md, "Trust model"); it never runs in an agent's process or sandbox.
"""
from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from pathlib import Path


def _load(path: Path, fn_name: str, roots: list[str]):
    for root in [str(path.parent), *roots]:
        if root not in sys.path:
            sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location(f"_task_code_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, fn_name)


def grade(argv: list[str]) -> int:
    import pandas as pd

    grade_py, fn_name, sub_path, ans_path, out_path, *roots = argv
    out = Path(out_path)
    fn = _load(Path(grade_py), fn_name, roots)
    submission, answers = pd.read_csv(sub_path), pd.read_csv(ans_path)
    try:
        score = fn(submission, answers)
    except Exception as err:  # noqa: BLE001 - graders signal an invalid submission by raising
        out.write_text(json.dumps({"invalid": f"{type(err).__name__}: {err}"}))
        return 0
    try:
        out.write_text(json.dumps({"score": float(score)}))
    except (TypeError, ValueError):
        out.write_text(json.dumps({"score": repr(score)}))
    return 0


def prepare(argv: list[str]) -> int:
    prepare_py, fn_name, raw, prepared, *roots = argv
    fn = _load(Path(prepare_py), fn_name, roots)
    raw_p, prepared_p = Path(raw), Path(prepared)
    if len(inspect.signature(fn).parameters) >= 3:
        (prepared_p / "public").mkdir(parents=True, exist_ok=True)
        (prepared_p / "private").mkdir(parents=True, exist_ok=True)
        fn(raw_p, prepared_p / "public", prepared_p / "private")
    else:
        fn(raw_p, prepared_p)
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    sys.exit({"grade": grade, "prepare": prepare}[command](rest))
