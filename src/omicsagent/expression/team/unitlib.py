"""What a unit script needs besides the expression library: its input, the hand-over state, the output.

A unit script runs in the sandbox as ``python SCRIPT INPUT_JSON``. The input (written by the harness)
names the trait, the cohort folder (read-only), the guideline settings of the role, the outputs of the
earlier units and where to write; the script writes one JSON object to ``input["output"]``.

    unit = Unit.from_argv()
    expression = unit.load_frame("expression")      # saved by an earlier unit
    ...
    unit.emit({"requires_gene_mapping": True, ...})

State between units is parquet (tables) and JSON (everything else), never pickle: the host reads these
files to review results and must not run code hidden in them.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omicsagent.expression.pipeline.common import PreprocessOptions, PreprocessResult, fail
from omicsagent.expression.pp.cohort import TraitLayout
from omicsagent.expression.pp.converters import convert_age, convert_gender, trait_converter
from omicsagent.expression.pp.symbols import AliasTable, load_alias_table
from omicsagent.ml.io import read_parquet, write_parquet


def plain(obj: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN to None, tuples to lists, other objects to str."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(plain(data), fh, indent=1)
    os.replace(tmp, path)


class Unit:
    """One run of a unit script."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.trait: str = info["trait"]
        self.settings: dict[str, Any] = info.get("settings", {})
        self.previous: dict[str, dict] = info.get("previous", {})
        self.workspace = Path(info["workspace"])
        self.state = self.workspace / info.get("state_dir", "scratch/state")
        self.artifacts = self.workspace / "artifacts"
        self._aliases: AliasTable | None = None

    @classmethod
    def from_argv(cls, argv: list[str] | None = None) -> Unit:
        argv = sys.argv if argv is None else argv
        if len(argv) < 2:
            raise SystemExit("usage: python SCRIPT UNIT_INPUT_JSON")
        return cls(json.loads(Path(argv[1]).read_text()))

    # ----- where -----
    @property
    def cohort_dir(self) -> Path:
        return Path(self.info["cohort_dir"])

    @property
    def layout(self) -> TraitLayout:
        return TraitLayout(self.artifacts / "preprocess" / self.trait)

    def options(self, **overrides: Any) -> PreprocessOptions:
        s = self.settings
        values = {
            "reference_compatible": bool(s.get("reference_compatible", False)),
            "max_gene_missing": float(s.get("max_gene_missing", 0.2)),
            "max_sample_missing": float(s.get("max_sample_missing", 0.05)),
        }
        values.update(overrides)
        return PreprocessOptions(**values)

    def aliases(self) -> AliasTable:
        """The run's alias table (a read-only ``{alias: symbol}`` file prepared by the harness)."""
        if self._aliases is None:
            self._aliases = load_alias_table(
                self.info["alias_table"],
                cache_dir=self.workspace / "scratch" / "cache",
                reference_compatible=bool(self.settings.get("reference_compatible", False)),
            )
        return self._aliases

    # ----- hand-over state -----
    def has(self, name: str) -> bool:
        return (self.state / f"{name}.parquet").is_file() or (self.state / f"{name}.json").is_file()

    def save_frame(self, name: str, frame: pd.DataFrame) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        frame = frame.copy()
        frame.columns = [str(c) for c in frame.columns]
        write_parquet(frame, self.state / f"{name}.parquet")

    def load_frame(self, name: str) -> pd.DataFrame:
        frame = read_parquet(self.state / f"{name}.parquet")
        obj = [c for c in frame.columns if frame[c].dtype == object]
        if obj:  # parquet gives None for missing text; the converters expect NaN as pandas reads it
            frame[obj] = frame[obj].astype(object).where(frame[obj].notna(), np.nan)
        return frame

    def save_json(self, name: str, data: Any) -> None:
        write_json(self.state / f"{name}.json", data)

    def load_json(self, name: str) -> Any:
        return json.loads((self.state / f"{name}.json").read_text())

    # ----- results -----
    def result(self, kind: str, cohort_id: str, notes: list[str] | None = None) -> PreprocessResult:
        return PreprocessResult(cohort_id=cohort_id, kind=kind, trait=self.trait, notes=list(notes or []))

    def stop(self, result: PreprocessResult, *, gene: bool, trait: bool, note: str, **extra: Any) -> dict:
        """Write the cohort record of an unusable cohort (GenoTEX initial filter) and end the cohort."""
        fail(result, self.layout, gene=gene, trait=trait, note=note)
        output = {"stop": True, "cohort_id": result.cohort_id, "record": result.record.to_dict(),
                  "notes": result.notes, **extra}
        self.emit(output)
        return output

    def emit(self, output: dict[str, Any]) -> None:
        write_json(Path(self.info["output"]), output)
        shown = {k: v for k, v in plain(output).items() if k not in ("rows", "background")}
        print(json.dumps(shown, indent=1)[:4000])


def converters(choice: dict[str, Any], trait: str):
    """(trait, age, sex) converters from the clinical unit's ``converters`` block."""
    conv = choice.get("converters", {})
    t = conv.get("trait", {})
    t_conv = trait_converter(
        trait,
        case=t.get("case"),
        control=t.get("control"),
        key=t.get("key"),
        continuous=bool(t.get("continuous", False)),
    )
    age_unit = conv.get("age", {}).get("unit")
    inverted = bool(conv.get("gender", {}).get("inverted", False))

    def a_conv(cell: object) -> float | None:
        return convert_age(cell, unit=age_unit)

    def g_conv(cell: object) -> float | None:
        return convert_gender(cell, inverted=inverted)

    return t_conv, a_conv, g_conv


def row_key(value: Any) -> int | str | None:
    """A row key as JSON carried it ("3" -> 3)."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def value_counts(values: list) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        key = f"{float(v):g}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def preview_text(rows: dict[str, list], *, per_row: int = 4, limit: int = 900) -> str:
    """The rows a unit saw, for a cohort note: the toolkit's ``describe_rows`` (one wording), cut at
    ``limit``."""
    from omicsagent.expression.pp.clinical import describe_rows

    text = describe_rows(rows, max_values=per_row)
    return text if len(text) <= limit else text[:limit] + " ..."
