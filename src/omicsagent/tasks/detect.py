"""Data-driven detection of column roles, the target, the task type and leakage suspects.

Every decision carries a short reason, shown on the task card, so a user can see why and override it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Roles a model may use, and roles that are excluded from features.
FEATURE_ROLES = ("dna", "rna", "protein", "smiles", "numeric", "categorical", "text", "mutation", "gene")
EXCLUDED_ROLES = ("identifier", "group", "leak", "metadata", "constant", "empty", "duplicate")

TARGET_NAMES = ("target", "label", "labels", "class", "y", "outcome", "response", "activity", "diagnosis")
_ID_NAME = re.compile(
    r"(^|[_\s-])(id|ids|identifier|uuid|accession|barcode)$|^(id|name|compound id|sample|index)$", re.I
)
_GROUP_NAME = re.compile(r"cluster|group|batch|patient|subject|donor|family_id|fold", re.I)
_COORD_NAME = re.compile(r"^(chr|chrom|chromosome|start|end|stop|strand|pos|position|seqnames|begin)$", re.I)
_LABELISH = re.compile(r"label|target|class|outcome|diagnos", re.I)
_LABEL_TOKEN = re.compile(r"(^|[_\s-])(label|labels|target|class|outcome|y)($|[_\s-])", re.I)
_NUC = re.compile(r"^[ACGTUNX\-\.]+$", re.I)
_PROT = re.compile(r"^[ACDEFGHIKLMNPQRSTVWYXBZUO\*\-]+$", re.I)
_SMILES_CHARS = re.compile(r"^[A-Za-z0-9@+\-\[\]\(\)=#$%/\\\.:~*]+$")


@dataclass
class ColumnProfile:
    name: str
    role: str
    reason: str
    dtype: str
    n_missing: int
    n_unique: int
    median_len: int | None = None
    max_len: int | None = None
    variants: bool = False  # protein column: equal-length variants of one reference sequence


def _sample(s: pd.Series, n: int = 400) -> pd.Series:
    s = s.dropna()
    return s.iloc[np.linspace(0, len(s) - 1, min(n, len(s))).astype(int)] if len(s) else s


def _numeric_fraction(s: pd.Series) -> float:
    v = _sample(s).astype(str).str.strip()
    if not len(v):
        return 0.0
    return float(pd.to_numeric(v, errors="coerce").notna().mean())


def _smiles_fraction(values: pd.Series) -> float:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    ok = 0
    for v in values:
        v = str(v).strip()
        if _SMILES_CHARS.match(v) and Chem.MolFromSmiles(v, sanitize=False) is not None:
            ok += 1
    return ok / max(len(values), 1)


def sequence_alphabet(values: pd.Series) -> str | None:
    """'dna', 'rna', 'protein' or None for a column of strings."""
    v = _sample(values).astype(str).str.strip()
    if not len(v) or v.str.len().median() < 8 or v.str.contains(r"\s").mean() > 0.05:
        return None
    if v.str.match(_NUC).mean() >= 0.95:
        upper = "".join(v.head(50)).upper()
        return "rna" if upper.count("U") > upper.count("T") else "dna"
    if v.str.match(_PROT).mean() >= 0.95 and len(set("".join(v.head(50)).upper())) >= 8:
        return "protein"
    return None


def _mutant_note(values: pd.Series) -> str | None:
    """Why a column holds protein variants in mutant notation (H24S, H24S:A42G), or None."""
    from omicsagent.ml.protein import mutant_fraction, parse_mutant

    sample = _sample(values)
    if not len(sample) or mutant_fraction(sample) < 0.9:
        return None
    multi = float(np.mean([len(parse_mutant(v) or []) > 1 for v in sample]))
    example = str(sample.iloc[0]).strip()
    return (f"protein mutations in mutant notation (e.g. {example}; "
            + (f"{multi:.0%} of variants have several)" if multi else "single substitutions)"))


def _variants_note(values: pd.Series) -> str | None:
    """Why equal-length protein sequences look like variants of one reference, or None."""
    from omicsagent.ml.protein import consensus

    seqs = _sample(values).astype(str).str.strip().str.upper().tolist()
    if len(seqs) < 20 or len({len(x) for x in seqs}) != 1:
        return None
    ref = consensus(seqs)
    diffs = [sum(a != b for a, b in zip(x, ref)) for x in seqs]
    median = float(np.median(diffs))
    if median > max(3.0, 0.05 * len(ref)):
        return None
    return f"variants of one {len(ref)}-residue reference (median {median:g} substitutions)"


def profile_column(s: pd.Series, *, n_rows: int) -> ColumnProfile:
    """Assign a provisional role to one column from its name and values (target not yet known)."""
    name = str(s.name)
    n_missing = int(s.isna().sum())
    n_unique = int(s.nunique(dropna=True))
    dtype = str(s.dtype)
    prof = ColumnProfile(name, "numeric", "", dtype, n_missing, n_unique)
    if n_unique == 0:
        prof.role, prof.reason = "empty", "every value is missing"
        return prof
    if n_unique == 1:
        prof.role, prof.reason = "constant", "a single value in every row"
        return prof
    if _COORD_NAME.match(name.strip()):
        prof.role, prof.reason = (
            "metadata",
            "genomic coordinate: says where a sample came from, lets a model memorise locations",
        )
        return prof
    is_numeric = pd.api.types.is_numeric_dtype(s) or _numeric_fraction(s) >= 0.95
    if not is_numeric:
        lengths = s.dropna().astype(str).str.len()
        prof.median_len, prof.max_len = int(lengths.median()), int(lengths.max())
        alphabet = sequence_alphabet(s)
        if alphabet:
            prof.role, prof.reason = (
                alphabet,
                f"{alphabet.upper()} sequences (median length {prof.median_len})",
            )
            if alphabet == "protein" and (note := _variants_note(s)):
                prof.variants, prof.reason = True, f"{prof.reason}: {note}"
            return prof
        if (mutant := _mutant_note(s)) is not None:
            prof.role, prof.reason = "mutation", mutant
            return prof
        sample = _sample(s, 200)
        if prof.median_len and prof.median_len >= 2 and _smiles_fraction(sample) >= 0.8:
            prof.role, prof.reason = "smiles", "values parse as SMILES molecules"
            return prof
    if _ID_NAME.search(name.strip()) and n_unique >= 0.9 * (n_rows - n_missing):
        prof.role, prof.reason = "identifier", "identifier-like name with (nearly) unique values"
        return prof
    if _GROUP_NAME.search(name) and n_unique < 0.9 * (n_rows - n_missing):
        prof.role, prof.reason = (
            "group",
            f"{n_unique} groups of related rows: used to keep groups apart when splitting",
        )
        return prof
    if is_numeric:
        nonnum = int(pd.to_numeric(s, errors="coerce").isna().sum()) - n_missing
        prof.reason = (
            f"numbers ({nonnum} non-numeric values such as '?' treated as missing)" if nonnum else "numbers"
        )
        return prof
    if n_unique >= 0.95 * (n_rows - n_missing) and n_rows > 20:
        prof.role, prof.reason = "identifier", "free strings, unique per row"
        return prof
    if n_unique <= max(50, int(0.2 * n_rows)):
        prof.role, prof.reason = "categorical", f"{n_unique} categories"
        return prof
    prof.role, prof.reason = "text", "free text"
    return prof


@dataclass
class TargetChoice:
    column: str
    reason: str
    alternatives: list[str]


def choose_target(df: pd.DataFrame, profiles: dict[str, ColumnProfile], *, description: str = "",
                  dataset_name: str = "") -> TargetChoice | None:
    """Pick the target column, or return None when no candidate can be defended."""
    desc = description.lower()
    scores: dict[str, tuple[int, str]] = {}
    for name, p in profiles.items():
        if p.role in ("dna", "rna", "protein", "smiles", "text", "identifier", "empty", "mutation"):
            continue
        lname = name.lower().strip()
        score, why = 0, []
        if lname in TARGET_NAMES:
            score += 10
            why.append(f"named '{name}'")
        elif "predicted attribute" in lname:
            score += 9
            why.append("its name says it is the predicted attribute")
        elif _LABELISH.search(lname) and p.n_unique <= 50:
            score += 3
            why.append("its name mentions a label")
        if dataset_name and lname == dataset_name.lower():
            score += 6
            why.append("named like the dataset")
        if desc and _described_as_target(name, desc):
            score += 4
            why.append("the description names it as what to predict")
        if score:
            scores[name] = (score, ", ".join(why))
    if not scores:
        usable = [n for n, p in profiles.items() if p.role in ("numeric", "categorical")]
        others = [n for n, p in profiles.items() if p.role in ("dna", "rna", "protein", "smiles", "mutation")]
        if len(usable) == 1 and others:
            return TargetChoice(
                usable[0], f"the only non-sequence, non-identifier column next to {', '.join(others)}", []
            )
        return None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1][0])
    best, (best_score, why) = ranked[0]
    alternatives = [n for n, (s, _) in ranked[1:] if s >= best_score - 2]
    if alternatives:
        return TargetChoice(best, why, alternatives)  # caller decides: ambiguous
    others = [n for n, _ in ranked[1:]]
    shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    reason = why + (f" (preferred over {shown})" if others else "")
    return TargetChoice(best, reason, [])


def _described_as_target(name: str, desc: str) -> bool:
    """The column name (or most of its words) appears in a sentence about what to predict."""
    lname = name.lower().strip()
    words = [w for w in re.findall(r"[a-z]+", lname) if len(w) > 2]
    for sentence in re.split(r"(?<=[.!?])\s+|\n\s*\n", desc):
        if not re.search(r"predict|\blabel|\btarget|= ?1\b|variable", sentence):
            continue
        if re.search(rf"(?<![\w]){re.escape(lname)}(?![\w])", sentence):
            return True
        if len(words) >= 2 and sum(w in sentence for w in words) / len(words) >= 0.6:
            return True
    return False


def infer_task_type(y: pd.Series) -> tuple[str, str]:
    """('binary'|'multiclass'|'regression', reason) from the target's values."""
    y = y.dropna()
    n_unique = y.nunique()
    numeric = pd.to_numeric(y, errors="coerce")
    if numeric.notna().all():
        integral = bool(np.all(np.isclose(numeric, np.round(numeric))))
        if n_unique == 2:
            return "binary", "two distinct values"
        if integral and n_unique <= 20 and n_unique <= max(3, 0.05 * len(y)):
            return "multiclass", f"{n_unique} integer classes"
        return "regression", f"continuous values ({n_unique} distinct)"
    if n_unique == 2:
        return "binary", "two classes"
    return "multiclass", f"{n_unique} classes"


def leakage_reason(col: pd.Series, y: pd.Series, task_type: str) -> str | None:
    """Why ``col`` looks like it leaks the target, or None."""
    mask = col.notna() & y.notna()
    c, t = col[mask], y[mask]
    if len(c) < 10:
        return None
    if c.astype(str).equals(t.astype(str)):
        return "identical to the target"
    if task_type != "regression":
        # Each value of the column maps to exactly one class, and it has as few values as classes.
        per_value = pd.DataFrame({"c": c.astype(str), "t": t.astype(str)}).groupby("c")["t"].nunique()
        if (per_value == 1).all() and c.nunique() <= max(t.nunique(), 0.02 * len(c)):
            return "each of its values maps to exactly one class"
        num = pd.to_numeric(c, errors="coerce")
        if num.notna().mean() > 0.95 and t.nunique() == 2:
            from sklearn.metrics import roc_auc_score

            ok = num.notna()
            auc = roc_auc_score(t[ok].astype(str) == sorted(t.astype(str).unique())[1], num[ok])
            if max(auc, 1 - auc) >= 0.995:
                return f"alone it separates the classes (AUROC {max(auc, 1 - auc):.3f})"
    else:
        num = pd.to_numeric(c, errors="coerce")
        ok = num.notna()
        if ok.mean() > 0.95 and num[ok].std() > 0:
            r = np.corrcoef(num[ok], pd.to_numeric(t[ok]))[0, 1]
            if abs(r) >= 0.995:
                return f"alone it predicts the target (Pearson r {r:.3f})"
    if (
        task_type != "regression"
        and _LABEL_TOKEN.search(str(col.name))
        and c.nunique() <= max(10, 2 * t.nunique())
    ):
        return "its name says it is a label and it has as few values as a label"
    return None


def duplicate_of(df: pd.DataFrame, name: str, candidates: list[str]) -> str | None:
    """The first earlier column in ``candidates`` whose values equal column ``name`` exactly."""
    col = df[name]
    for other in candidates:
        if other != name and df[other].dtype == col.dtype and df[other].equals(col):
            return other
    return None


def not_zero_one(s: pd.Series):
    """The first value of ``s`` (missing values aside) that is not 0 or 1, or None when it is a 0/1 label."""
    values = s.dropna()
    numeric = pd.to_numeric(values, errors="coerce")
    bad = values[numeric.isna() | ~numeric.isin([0, 1])]
    if len(bad):
        v = bad.iloc[0]
        return v.item() if isinstance(v, np.generic) else v
    return None


def multilabel_columns(df: pd.DataFrame, *, min_labels: int = 3) -> list[str]:
    """The longest run of side-by-side 0/1 columns, each with missing values, when it has at least
    ``min_labels`` columns: what a multi-label table (one column per assay, blank where not measured)
    looks like. Empty otherwise."""
    best: list[str] = []
    run: list[str] = []
    for name in df.columns:
        s = df[name]
        if s.isna().any() and s.notna().any() and s.dropna().nunique() == 2 and not_zero_one(s) is None:
            run.append(name)
            if len(run) > len(best):
                best = list(run)
        else:
            run = []
    return best if len(best) >= min_labels else []


# Integer-coded categories: numbers that stand for categories (chest pain type 1-4, a defect coded 3/6/7).
CODE_MAX_LEVELS = 10  # the data rule: at most this many distinct integer values ...
CODE_MIN_LEVELS = 3  # ... and at least this many (a 0/1 column is the same as a number or a category)
CODE_MAX_COLUMNS = 100  # ... in a table of at most this many columns (a wide matrix's small integers: counts)
DESCRIBED_CODE_MAX_LEVELS = 30  # a column the description lists codes for may have up to this many values
_CODE = re.compile(r"(?:^|[\s;,(])(?:value\s+)?(-?\d+)\s*[=:]\s*[a-z]", re.I)
_CATEGORICAL_WORD = re.compile(r"categor|nominal|\bcoded\b|\bcodes\b", re.I)


def _bare_name(name: str) -> str:
    """The column's name without surrounding brackets or quotes: ``(cp)`` -> ``cp``."""
    return re.sub(r"^[\W_]+|[\W_]+$", "", str(name))


def _described_codes(name: str, description: str, others: list[str]) -> str | None:
    """Why the description presents column ``name`` as coded categories, or None.

    Each mention of the name opens a window of up to six lines, closed early by a line that names another
    column (the next entry of a data dictionary). The window presents codes when it calls the column
    categorical (or nominal, or coded), or lists at least two codes as ``Value 1: ...`` or ``3 = normal``.
    """
    bare = _bare_name(name)
    if len(bare) < 2 or not description:
        return None
    own = re.compile(rf"(?<![\w-]){re.escape(bare)}(?![\w-])", re.I)
    other = [re.compile(rf"(?<![\w-]){re.escape(o)}(?![\w-])", re.I)
             for o in (_bare_name(x) for x in others) if len(o) >= 2 and o.lower() != bare.lower()]
    lines = description.splitlines()
    for i, line in enumerate(lines):
        m = own.search(line)
        if not m:
            continue
        window = [line[m.end():]]
        for nxt in lines[i + 1: i + 6]:
            if own.search(nxt) or any(p.search(nxt) for p in other):
                break
            window.append(nxt)
        text = "\n".join(window)
        if _CATEGORICAL_WORD.search(text[:200]):
            return "the description calls it categorical"
        codes = sorted({int(c) for c in _CODE.findall(text)})
        if len(codes) >= 2:
            return f"the description lists its codes ({', '.join(map(str, codes[:6]))})"
    return None


def integer_code_reason(s: pd.Series, *, description: str = "",
                        columns: list[str] | None = None) -> str | None:
    """Why a numeric column holds integer-coded categories, or None (it stays a number).

    The rule, from the data and the text only: every non-missing value is an integer and the column has
    at least ``CODE_MIN_LEVELS`` distinct values, and either the description presents it as coded
    categories (``_described_codes``; up to ``DESCRIBED_CODE_MAX_LEVELS`` values) or its values are codes
    by themselves: at most ``CODE_MAX_LEVELS`` integers with gaps between them (3, 6, 7; a run such as 0-3
    may be a count or a grade and stays a number), each seen four times on average, in a table of at most
    ``CODE_MAX_COLUMNS`` columns.
    """
    columns = list(columns or [])
    num = pd.to_numeric(s, errors="coerce").dropna()
    if num.empty or not np.all(np.isclose(num, np.round(num))):
        return None
    levels = int(num.nunique())
    if levels < CODE_MIN_LEVELS:
        return None
    shown = ", ".join(f"{v:g}" for v in sorted(num.unique())[:6]) + (", ..." if levels > 6 else "")
    if levels <= DESCRIBED_CODE_MAX_LEVELS and (why := _described_codes(str(s.name), description, columns)):
        return f"integer-coded categories: {why}"
    values = np.sort(num.unique())
    gaps = values[-1] - values[0] + 1 > levels  # 3/6/7 are codes; 0-3 may be a count or a grade
    if gaps and levels <= CODE_MAX_LEVELS and len(columns) <= CODE_MAX_COLUMNS and len(num) >= 4 * levels:
        return f"integer-coded categories: {levels} distinct integers with gaps ({shown})"
    return None
