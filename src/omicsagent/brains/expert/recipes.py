"""The expert's recipe book: what to try on a dataset, in which order, and how to adjust a candidate.

Everything here is data plus small pure functions. A candidate is a representation spec and a model
spec for ``omicsagent.ml.pipeline`` (see ``docs/recipes.md`` for measured results on real datasets).
``plan`` puts a fast, robust baseline first, then the explorations most likely to win; the loop refines
the best one with ``regularize`` (overfitting), ``add_capacity`` (underfitting) or ``cheaper`` (after a
failure, a timeout or a memory error).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from omicsagent.tasks.task import Task

ALPHABETS = ("dna", "rna", "protein")


@dataclass
class SeqColumn:
    name: str
    alphabet: str  # "dna" | "rna" | "protein"
    median_len: int
    max_len: int
    variants: bool = False  # protein: equal-length variants of one reference sequence


@dataclass
class DataProfile:
    task_type: str
    n_rows: int
    n_classes: int | None
    sequence_columns: list[SeqColumn] = field(default_factory=list)
    pair: tuple[str, str] | None = None          # (small RNA column, target column)
    smiles_columns: list[str] = field(default_factory=list)
    numeric_columns: list[str] = field(default_factory=list)
    categorical_columns: list[str] = field(default_factory=list)
    text_columns: list[str] = field(default_factory=list)  # free text (not sequences, not SMILES)
    time_budget_s: float = 900.0
    mutation_columns: list[str] = field(default_factory=list)  # protein variants in mutant notation (H24S)
    embeddings: dict[str, dict] = field(default_factory=dict)  # modality -> configured pretrained model
    n_labels: int = 0  # multilabel: the number of 0/1 label columns (one model each)
    gene_columns: list[str] = field(default_factory=list)  # single-cell: one expression column per gene
    annotation_columns: list[str] = field(default_factory=list)  # single-cell: every column but the genes
    target: str = ""


@dataclass
class Candidate:
    name: str
    family: str
    representation: dict
    model: dict
    rationale: str
    est_seconds: float
    time_limit_s: float | None = None   # what to pass as ``time_limit_s`` to ``model.fit``
    # est_seconds was measured on this machine (a node's training time, or derived from such times), so the
    # speed factors that calibrate the recipe book's estimates do not apply to it
    measured: bool = False


# --- the data profile ---------------------------------------------------------------------------

def profile_of(task: Task, train: pd.DataFrame, *, time_budget_s: float,
               embeddings: dict[str, dict] | None = None) -> DataProfile:
    """What the recipe book needs to know about the data: the one profile the brain, the recipe
    benchmark and the tests plan from.

    ``train`` is the table the models will be fitted on (the training split): its row count and the
    lengths of its sequences are measured here; column roles (and protein variants) come from the task.
    ``embeddings`` is the run's configured pretrained models (``RunSettings.extra["embeddings"]``).
    """
    seqs: list[SeqColumn] = []
    for c in task.feature_columns:
        if c.role in ALPHABETS:
            lens = train[c.name].dropna().astype(str).str.len()
            seqs.append(SeqColumn(c.name, c.role, int(lens.median()) if len(lens) else 0,
                                  int(lens.max()) if len(lens) else 0, variants=c.variants))
    return DataProfile(
        task_type=task.task_type, n_rows=len(train), n_classes=len(task.classes) if task.classes else None,
        sequence_columns=seqs, pair=_pair_columns(train, seqs),
        smiles_columns=[c.name for c in task.feature_columns if c.role == "smiles"],
        numeric_columns=[c.name for c in task.feature_columns if c.role == "numeric"],
        categorical_columns=[c.name for c in task.feature_columns if c.role == "categorical"],
        text_columns=[c.name for c in task.feature_columns if c.role == "text"],
        time_budget_s=time_budget_s, n_labels=len(task.labels or []),
        mutation_columns=[c.name for c in task.feature_columns if c.role == "mutation"],
        embeddings=dict(embeddings or {}), gene_columns=task.gene_columns,
        annotation_columns=[c.name for c in task.columns if c.role != "gene"] if task.gene_columns else [],
        target=task.target)


def _pair_columns(df: pd.DataFrame, sequence_columns: list[SeqColumn]) -> tuple[str, str] | None:
    """(small RNA column, target column) when one nucleotide column looks like a miRNA (17-28 nt) and
    another is at least 10 nt longer and only partially complementary. Columns whose sequence or
    reverse complement is contained in the other (siRNA/mRNA duplexes, sub-windows) are not a pair."""
    from omicsagent.ml.seqblocks import reverse_complement

    nuc = [c for c in sequence_columns if c.alphabet in ("dna", "rna")]
    small = [c for c in nuc if 17 <= c.median_len <= 28]
    for s in small:
        for t in sorted(nuc, key=lambda c: -c.median_len):
            if t.name == s.name or t.median_len < s.median_len + 10:
                continue
            sample = df[[s.name, t.name]].dropna().head(200).astype(str)
            pairs = [(a.upper().replace("U", "T"), b.upper().replace("U", "T"))
                     for a, b in zip(sample[s.name], sample[t.name])]
            contained = np.mean([a in b or reverse_complement(a) in b for a, b in pairs]) if pairs else 1.0
            if contained < 0.5:
                return s.name, t.name
    return None


# --- building blocks of specs ----------------------------------------------------------------

def _tabular(p: DataProfile) -> list[dict]:
    cols = p.numeric_columns + p.categorical_columns
    block = {"kind": "tabular", "columns": cols}
    if p.categorical_columns:  # one-hot, also when the categories are integer codes
        block["categorical"] = list(p.categorical_columns)
    return [block] if cols else []


def _kmer_ks(col: SeqColumn, n_rows: int) -> list[int]:
    if col.alphabet == "protein":
        return [1, 2] if col.median_len > 800 or n_rows < 2000 else [1, 2, 3]
    # no more k-mer columns than about a quarter of the rows, and k <= the sequence length / 3
    kmax = int(np.clip(np.floor(np.log(max(n_rows, 4) / 4) / np.log(4)), 3, 6))
    kmax = int(min(kmax, max(3, col.median_len // 3)))
    return list(range(1 if kmax <= 4 else 2, kmax + 1))


def _kmer(col: SeqColumn, n_rows: int, *, both_strands: bool = False) -> dict:
    alphabet = "protein" if col.alphabet == "protein" else "dna"
    return {"kind": "kmer", "column": col.name, "k": _kmer_ks(col, n_rows), "alphabet": alphabet,
            "both_strands": both_strands and alphabet == "dna", "normalize": "freq"}


def _onehot(col: SeqColumn, *, flatten: bool = False) -> dict:
    length = int(min(max(col.max_len, 1), 1000))
    return {
        "kind": "onehot",
        "column": col.name,
        "alphabet": "protein" if col.alphabet == "protein" else "dna",
        "length": length,
        "flatten": flatten,
    }


def _gbm(p: DataProfile) -> dict:
    return {"kind": "lgbm", "class_weight": "balanced"} if p.task_type == "multiclass" else {"kind": "lgbm"}


def _linear(p: DataProfile) -> dict:
    spec: dict = {"kind": "linear", "C": "auto", "alpha": "auto"}
    if p.task_type == "multiclass":
        spec["class_weight"] = "balanced"
    return spec


def string_columns(p: DataProfile) -> list[str]:
    """Every string column a model may read: sequences, SMILES and free text."""
    return [c.name for c in p.sequence_columns] + p.smiles_columns + p.text_columns


FLOOR = "char_ngram_linear"


def floor(p: DataProfile) -> Candidate | None:
    """The seconds-long floor of every task with string columns: character 1-5-grams (tf-idf) of each
    string column, plus the numbers and categories, into a linear model whose strength is tuned on an
    inner split. It knows nothing of chemistry or biology, so a domain candidate that ends below it on
    validation has missed something; it is planned among the first two so no run ends below it."""
    cols = string_columns(p)
    if not cols:
        return None
    lens = {c.name: min(c.median_len, 1000) for c in p.sequence_columns}
    total_len = sum(lens.get(c, 60) for c in cols)
    blocks = [{"kind": "char_ngram", "column": c, "ngram": [1, 5]} for c in cols] + _tabular(p)
    est = 5 + p.n_rows * total_len / 50_000  # measured 5-35 s on the shared datasets (2 busy cores)
    # tf-idf rows are already on one scale: standardising would blow up rare n-grams (measured worse on
    # 3 of 4 shared datasets); a generous time limit lets the strength search finish on a busy machine
    return Candidate(FLOOR, "linear", {"blocks": blocks}, {**_linear(p), "standardize": False},
                     "Character 1-5-grams of the string columns with a tuned linear model: a seconds-long, "
                     "domain-free baseline that every later candidate has to beat on validation.",
                     est_seconds=est, time_limit_s=float(max(120.0, min(4 * est, p.time_budget_s / 3))))


def _with_floor(p: DataProfile, cands: list[Candidate], position: int) -> list[Candidate]:
    f = floor(p)
    return cands if f is None else cands[:position] + [f] + cands[position:]


WITH_STRINGS = "+char_ngram"  # the suffix of a domain candidate that also reads the strings' n-grams


def _ngram_covered(rep: dict) -> set[str]:
    """String columns whose n-grams would add nothing to a representation: read through a ``char_ngram``
    block, through k-mers up to 5 letters or longer (on nucleotides those are the same counts), or as
    variants of one protein by a ``mutations`` block (which already reads every difference)."""
    out = set()
    for b in rep.get("blocks", []):
        if b.get("kind") == "char_ngram" or (b.get("kind") == "kmer" and max(b.get("k") or [0]) >= 5):
            out.add(b.get("column"))
        elif b.get("kind") == "mutations" and b.get("sequence_column"):
            out.add(b["sequence_column"])
    return out


def with_strings(p: DataProfile, domain: Candidate) -> Candidate | None:
    """The domain candidate (fingerprints, k-mers, one-hot, protein blocks... into gradient boosting) that
    also reads the floor's character n-grams of the string columns it does not already read as n-grams,
    side by side in one sparse matrix; None when every string column is covered or the model is not
    gradient boosting (a linear model would standardise the tf-idf columns, which the floor measured
    worse). Planned after the domain candidate and the floor, it is kept only if it wins on validation."""
    if domain.model.get("kind") != "lgbm":
        return None
    cols = [c for c in string_columns(p) if c not in _ngram_covered(domain.representation)]
    if not cols:
        return None
    # trees split on single n-grams: the most frequent few thousand carry what they can use, and keep the
    # fit close to the domain candidate's time
    grams = [{"kind": "char_ngram", "column": c, "ngram": [1, 5], "max_features": 5000} for c in cols]
    return Candidate(
        f"{domain.name}{WITH_STRINGS}", domain.family,
        {"blocks": copy.deepcopy(domain.representation["blocks"]) + grams}, copy.deepcopy(domain.model),
        f"{domain.rationale} The character 1-5-grams of {', '.join(cols)} (the floor's representation) are "
        "added beside the domain features, so the trees can use substrings the domain features miss.",
        est_seconds=domain.est_seconds * 1.5 + 5)


def _with_string_features(p: DataProfile, cands: list[Candidate]) -> list[Candidate]:
    """The plan with ``with_strings`` of its first gradient-boosting candidate, placed after that
    candidate, the floor and the molecular graph network (a SMILES plan's third draft: another model
    family, the likeliest partner of a blend with the trees)."""
    domain = next((c for c in cands if c.model.get("kind") == "lgbm" and c.name != FLOOR), None)
    combined = with_strings(p, domain) if domain is not None else None
    if combined is None:
        return cands
    after = max([cands.index(domain)] + [i for i, c in enumerate(cands) if c.name in (FLOOR, GRAPH_NET)])
    return cands[:after + 1] + [combined] + cands[after + 1:]


def _cnn_epochs(n_rows: int) -> int:
    return 30 if n_rows < 5000 else (15 if n_rows < 20000 else 10)


# --- the plan -----------------------------------------------------------------------------------

def plan(profile: DataProfile) -> list[Candidate]:
    """Ordered candidates: a fast robust baseline first, then the explorations most likely to win."""
    p = profile
    if p.task_type == "multilabel":
        return _per_label(plan(replace(p, task_type="binary", n_labels=0)), p)
    if p.gene_columns:
        cands = _plan_singlecell(p)
    elif p.pair is not None:
        cands = _with_floor(p, _plan_pair(p), 1)
    elif _variant_source(p) is not None:
        cands = _with_floor(p, _plan_variants(p), 1)
    elif p.sequence_columns and not p.smiles_columns:
        cands = _with_floor(p, _plan_sequences(p), 1)
    elif p.smiles_columns:
        cands = _with_floor(p, _plan_smiles(p), 1)
    else:  # without a string column there is no floor; with one, the tables alone miss it: the floor first
        cands = _with_floor(p, _plan_tabular(p) if _tabular(p) else [], 0)
    cands = _with_embeddings(_with_string_features(p, cands), p)
    for c in cands:
        c.time_limit_s = c.time_limit_s or _time_limit(c, p)
    return cands


def _embedding_blocks(p: DataProfile) -> tuple[list[dict], float]:
    """An ``embedding`` block per column whose modality has a configured model, and the seconds to embed
    the training rows once on 2 CPU cores (about 2 x parameters x tokens at ~20 GFLOP/s, plus loading)."""
    from omicsagent.ml.embeddings import modality_of

    blocks, seconds = [], 0.0
    columns = [(c.name, c.alphabet, min(c.median_len, 1024)) for c in p.sequence_columns]
    columns += [(name, "smiles", 60) for name in p.smiles_columns]
    for name, role, length in columns:
        modality = modality_of(role, p.embeddings)
        if modality is None:
            continue
        cfg = p.embeddings[modality]
        blocks.append(
            {
                "kind": "embedding",
                "column": name,
                "model": cfg["path"],
                "pooling": cfg.get("pooling", "mean"),
                "trust_remote_code": bool(cfg.get("trust_remote_code", False)),
                "uppercase": role != "smiles",
            }
        )
        seconds += 10 + 2.0 * cfg.get("params", 0) * p.n_rows * (length + 2) / 2e10
    return blocks, seconds


def _with_embeddings(cands: list[Candidate], p: DataProfile) -> list[Candidate]:
    """With a pretrained model configured for a column's modality: after the first (cheapest) candidate, a
    linear model on the embeddings, then the first candidate with the embeddings added (the vectors are
    cached by then, so it costs little more than the first candidate)."""
    blocks, t_embed = _embedding_blocks(p)
    if not blocks or not cands:
        return cands
    names = ", ".join(sorted({p.embeddings[m]["name"] for m in p.embeddings}))
    first = cands[0]
    alone = Candidate(
        "embedding_linear", "embedding", {"blocks": blocks + _tabular(p)}, _linear(p),
        f"Mean-pooled embeddings from the pretrained model on disk ({names}) carry what it learned from "
        f"millions of sequences; a regularised linear model on them is the standard probe.",
        est_seconds=t_embed + 5 + p.n_rows / 2000)
    # embedding is one long, predictable pass: give it its own limit rather than a third of the budget
    alone.time_limit_s = max(60.0, 1.5 * alone.est_seconds + 30)
    combined = Candidate(
        f"{first.name}+embedding",
        first.family,
        {"blocks": copy.deepcopy(first.representation["blocks"]) + copy.deepcopy(blocks)},
        copy.deepcopy(first.model),
        f"{first.rationale} The pretrained embeddings are added as features "
        "(cached from the previous iteration).",
        est_seconds=first.est_seconds * 1.2 + 2,
    )
    return [first, alone, combined, *cands[1:]]


def _per_label(binary: list[Candidate], p: DataProfile) -> list[Candidate]:
    """A multi-label task: each binary candidate fitted once per label, on the rows where it was measured;
    a neural network instead gets one output per label and learns them together (a multi-task network)."""
    out = []
    for c in binary:
        if c.model.get("kind") in TORCH_KINDS:
            w = replace(c, name=f"{c.name}_multitask",
                        rationale=f"{c.rationale} One network with an output per label, trained on the "
                                  f"measured labels only, shares what the labels have in common.",
                        est_seconds=c.est_seconds * 1.5, time_limit_s=None)
            w.time_limit_s = _time_limit(w, p)
            out.append(w)
            continue
        est = c.est_seconds * max(1, p.n_labels) * 0.7  # a label's measured rows are fewer than all rows
        w = replace(c, name=f"{c.name}_per_label", model={"kind": "per_label", "base": c.model},
                    rationale=f"{c.rationale} One model per label, each fitted on the rows where its label "
                              f"was measured.", est_seconds=est, time_limit_s=None)
        w.time_limit_s = _time_limit(w, p)
        out.append(w)
    return out


def _time_limit(c: Candidate, p: DataProfile) -> float:
    return float(max(60.0, min(2.5 * c.est_seconds + 30, p.time_budget_s / 3)))


def _plan_pair(p: DataProfile) -> list[Candidate]:
    mirna, target = p.pair  # type: ignore[misc]
    feats = {"kind": "pair_features", "mirna_column": mirna, "target_column": target}
    # k-mers of both sequences let the trees modulate the duplex rules per miRNA and target context
    kmers = [
        {"kind": "kmer", "column": target, "k": [1, 2, 3, 4]},
        {"kind": "kmer", "column": mirna, "k": [1, 2, 3]},
    ]
    matrix = {"kind": "pair_matrix", "mirna_column": mirna, "target_column": target, "mirna_len": 20,
              "channels": "strength"}
    extra = _tabular(p)
    n = p.n_rows
    epochs = _cnn_epochs(n)
    cnn = {"kind": "cnn2d", "channels": 32, "n_blocks": 3, "epochs": epochs, "patience": 4, "dropout": 0.3,
           "lr": 2e-3}
    # measured: 6.5k pairs of 50 x 20, 32 channels: ~4 s per epoch on 2 idle cores
    t_cnn = 5.0 + 4.0 * (n / 6500) * epochs * 0.9
    t_gbm = 3.0 + n / 2000
    return [
        Candidate(
            "pair_features_lgbm",
            "gbm",
            {"blocks": [feats] + kmers + extra},
            _gbm(p),
            "Seed site types, 3' supplementary pairing and duplex alignment scores encode the known rules "
            "of miRNA targeting; gradient boosting combines them with sequence composition.",
            est_seconds=t_gbm,
        ),
        Candidate(
            "pairing_matrix_cnn2d",
            "cnn",
            {"blocks": [matrix, feats] + extra},
            {**cnn, "use_flat": True},
            "A 2-D CNN over the miRNA x target pairing matrix (as in the best published miRBench models) "
            "learns non-canonical and bulged duplexes the hand-made features miss.",
            est_seconds=t_cnn,
        ),
        Candidate(
            "pair_lgbm_cnn2d_ensemble",
            "ensemble",
            {"blocks": [matrix, feats] + kmers + extra},
            {"kind": "ensemble", "members": [_gbm(p), cnn], "time_shares": [1, 4]},
            "Averaging the feature-based trees with a pairing-matrix CNN that sees only the matrix combines "
            "two different views of the duplex and usually beats both.",
            est_seconds=t_cnn + t_gbm,
        ),
    ]


def _plan_sequences(p: DataProfile) -> list[Candidate]:
    cols = p.sequence_columns
    main = max(cols, key=lambda c: c.median_len)
    # genomic DNA windows can be read on either strand; transcripts and guides (several columns) cannot
    both = main.alphabet == "dna" and len(cols) == 1
    n = p.n_rows
    kmers = [_kmer(c, n, both_strands=both) for c in cols]
    # cheap whole-protein descriptors: length, composition, mean hydrophobicity, charge, mass...
    kmers += [{"kind": "protein_properties", "column": c.name} for c in cols if c.alphabet == "protein"]
    extra = _tabular(p)
    flat_onehots = [_onehot(c, flatten=True) for c in cols if c.max_len <= 64]
    total_len = sum(min(c.max_len, 1000) for c in cols)
    linear = Candidate("kmer_linear", "linear", {"blocks": kmers + extra}, _linear(p),
                       "k-mer frequencies with a regularised linear model are the classic fast and robust "
                       "sequence baseline.", est_seconds=3 + n * total_len / 1_000_000)
    gbm = Candidate(
        "kmer_lgbm",
        "gbm",
        {"blocks": kmers + flat_onehots + extra},
        _gbm(p),
        "Gradient boosting over k-mer counts"
        + (", position-specific nucleotides" if flat_onehots else "")
        + (" and the numeric features" if extra else "")
        + " captures interactions a linear model "
        "cannot; on promoter and TF-binding data it beats the linear model by 3-4 AUROC points.",
        est_seconds=5 + n * total_len / 300_000 + (15 if n < 20000 and extra else 0),
    )
    channels = 128 if n > 10000 else 64
    epochs = 8 if n > 10000 else _cnn_epochs(n)
    pool = 2 if main.median_len >= 60 else 1
    cnn = {
        "kind": "cnn1d",
        "channels": channels,
        "stem_kernel": 15 if main.median_len >= 60 else 7,
        "kernel": 5,
        "n_blocks": 3,
        "pool": pool,
        "rc": both,
        "epochs": epochs,
        "patience": 3,
        "dropout": 0.2,
        "use_flat": bool(extra),
    }
    # measured: 42k x 70 nt, 128 channels, pool 2, 3 blocks, both strands: ~25 s per epoch on 2 idle cores
    spe = (
        25.0 * (n / 42000) * (total_len / 70) * (channels / 128) ** 2 * (2.0 / pool) * (1.0 if both else 0.55)
    )
    t_cnn = 5 + spe * epochs
    onehots = [_onehot(c) for c in cols if (c.alphabet == "protein") == (main.alphabet == "protein")]
    cnn_c = Candidate(
        "onehot_cnn1d" + ("_rc" if both else ""), "cnn", {"blocks": onehots + extra}, cnn,
        "A dilated residual CNN on one-hot sequence learns motifs and their spacing directly"
        + ("; sharing weights across both strands makes it strand-symmetric." if both else "."),
        est_seconds=t_cnn)
    ens = Candidate(
        "cnn_kmer_lgbm_ensemble", "ensemble", {"blocks": onehots + kmers + flat_onehots + extra},
        {"kind": "ensemble", "members": [copy.deepcopy(gbm.model), cnn], "time_shares": [1, 6]},
        "Averaging the CNN with k-mer gradient boosting mixes positional motif detection with global "
        "composition; measured +0.4 to +0.8 AUROC points over the better of the two.",
        est_seconds=t_cnn + gbm.est_seconds)
    return [linear, gbm, cnn_c, ens]


def _variant_source(p: DataProfile) -> dict | None:
    """The ``mutations`` block for variants of one protein: from a mutant-notation column (with the
    sequence column, when there is one, for the wild-type environment) or from equal-length variants."""
    proteins = [c for c in p.sequence_columns if c.alphabet == "protein"]
    variants = [c for c in proteins if c.variants]
    seq = (variants or proteins or [None])[0]
    if p.mutation_columns:
        return {
            "kind": "mutations",
            "column": p.mutation_columns[0],
            "sequence_column": seq.name if seq else "",
        }
    if variants:
        return {"kind": "mutations", "sequence_column": variants[0].name}
    return None


def _plan_variants(p: DataProfile) -> list[Candidate]:
    """Deep mutational scans: the mutation itself (site, wild-type and mutant residue, substitution scores,
    physico-chemical changes), with models that share strength across positions."""
    rep = {"blocks": [_variant_source(p)] + _tabular(p)}
    n = p.n_rows
    regression = p.task_type == "regression"
    # fitness scores are often bimodal or saturating: fitting their rank-normal scores helped every model
    rank = {"target_transform": "rank"} if regression else {}
    shrunk = {"kind": "group_ridge"} if regression else _linear(p)
    # measured (3k single mutants, 9.5k columns, 2 cores): group ridge with its strength search ~15 s,
    # LightGBM ~6 s
    t_ridge, t_gbm = 5 + n / 250, 3 + n / 800
    ridge = Candidate(
        "mutations_group_ridge" if regression else "mutations_linear", "linear", rep, {**shrunk, **rank},
        "An additive model over single mutations: position-independent substitution effects (BLOSUM62, "
        "hydrophobicity, volume, charge...) plus per-position effects and per-position property slopes "
        "shrunk towards them" + (", each group with its own penalty tuned by cross-validation." if regression
                                 else "."),
        est_seconds=t_ridge)
    gbm = Candidate("mutations_lgbm", "gbm", rep, {**_gbm(p), **rank},
                    "Gradient boosting on the mutation descriptors (position, residues, substitution scores, "
                    "wild-type environment) learns non-additive effects such as buried hydrophobic sites.",
                    est_seconds=t_gbm)
    ens = Candidate(
        "mutations_ensemble",
        "ensemble",
        rep,
        {"kind": "ensemble", "members": [copy.deepcopy(shrunk), _gbm(p)], "weights": [2, 1], **rank},
        "Averaging the shrunk additive model (weight 2) with the trees (weight 1) combines "
        "per-position effects with non-linear substitution rules.",
        est_seconds=t_ridge + t_gbm,
    )
    return [ridge, gbm, ens]


GRAPH_NET = "molgraph_mpnn"


def _plan_smiles(p: DataProfile) -> list[Candidate]:
    col = p.smiles_columns[0]
    extra = _tabular(p)
    smiles = {
        "kind": "smiles",
        "column": col,
        "radius": 2,
        "n_bits": 2048,
        "counts": True,
        "descriptors": "all",
    }
    n = p.n_rows
    t_feat = 2 + n / 250
    mpnn = {"kind": "mpnn", "hidden": 300, "depth": 3, "epochs": 50, "patience": 10, "dropout": 0.2}
    if extra:
        mpnn["use_flat"] = True
    return [
        Candidate(
            "morgan_descriptors_lgbm",
            "gbm",
            {"blocks": [smiles] + extra},
            _gbm(p),
            "Morgan count fingerprints plus RDKit descriptors with gradient boosting are the standard "
            "strong baseline for molecular property prediction.",
            est_seconds=t_feat + 5 + n / 200,
        ),
        Candidate(
            GRAPH_NET,
            "gnn",
            {"blocks": [{"kind": "molgraph", "column": col}] + extra},
            mpnn,
            "A message passing network on the molecular graph learns its own features of atoms and their "
            "neighbourhoods instead of fixed fingerprints: a different kind of error than the trees, so the "
            "best partner for a blend with them.",
            # about 1 s per epoch per 1,000 training rows on 2 CPU cores; early stopping ends most runs
            # before the last epoch
            est_seconds=2 + n / 2500 + 0.85 * mpnn["epochs"] * n / 1000,
        ),
        Candidate(
            "morgan_descriptors_linear",
            "linear",
            {"blocks": [smiles] + extra},
            _linear(p),
            "A regularised linear model on the same features is a cheap second opinion that extrapolates "
            "more smoothly.",
            est_seconds=t_feat + 5,
        ),
        Candidate(
            "morgan_mlp",
            "mlp",
            {"blocks": [smiles] + extra},
            {
                "kind": "mlp",
                "hidden": 256,
                "n_layers": 2,
                "dropout": 0.3,
                "epochs": 60,
                "patience": 8,
                "weight_decay": 1e-2,
            },
            "A small MLP on fingerprints and descriptors can model smoother non-linear structure than trees.",
            est_seconds=t_feat + 10 + n / 100,
        ),
        Candidate(
            "lgbm_linear_ensemble",
            "ensemble",
            {"blocks": [smiles] + extra},
            {"kind": "ensemble", "members": [_gbm(p), _linear(p)], "weights": [2, 1]},
            "Averaging trees and the linear model reduces variance on small molecular datasets.",
            est_seconds=t_feat + 10 + n / 200,
        ),
    ]


def _expression(p: DataProfile, *, n_components: int = 50, marker_genes: int = 0) -> dict:
    """The single-cell block: normalise + log1p when the training matrix holds counts (decided from the
    data inside the block), the most variable genes, scaled, then PCA; optionally marker genes per class."""
    spec = {"kind": "expression", "exclude": list(p.annotation_columns), "normalize": "auto",
            "n_top_genes": 2000, "n_components": n_components}
    if marker_genes and p.task_type != "regression":
        spec.update(marker_genes=marker_genes, target=p.target)
    return spec


def _plan_singlecell(p: DataProfile) -> list[Candidate]:
    """Cells x genes (an AnnData file): a logistic regression on the log-normalised, scaled highly variable
    genes first, then on their principal components (the standard pipeline), trees on the components plus
    marker genes, an MLP, and an ensemble."""
    n, g = p.n_rows, len(p.gene_columns)
    t_feat = 2 + n * min(g, 20000) / 2e6
    pcs = {"blocks": [_expression(p)]}
    with_markers = {"blocks": [_expression(p, marker_genes=10)]}
    genes = {"blocks": [_expression(p, n_components=0)]}
    mlp = {"kind": "mlp", "hidden": 256, "n_layers": 2, "dropout": 0.3, "epochs": 60, "patience": 8,
           "weight_decay": 1e-2}
    return [
        Candidate("hvg_logistic", "linear", genes, _linear(p),
                  "Log-normalised, scaled expression of the most variable genes with a class-balanced "
                  "logistic regression whose penalty is tuned on an inner split (as CellTypist does): the "
                  "penalty picks the informative genes, and no variance is lost to PCA.",
                  est_seconds=t_feat + 5 + n * min(g, 2000) / 100_000),
        Candidate("pca_logistic", "linear", pcs, _linear(p),
                  "The standard single-cell pipeline: the most variable genes reduced to 50 principal "
                  "components, with the same logistic regression; cheaper and smoother on large data.",
                  est_seconds=t_feat + 3 + n / 2000),
        Candidate("pca_markers_lgbm", "gbm", with_markers, _gbm(p),
                  "Gradient boosting on the principal components plus the top marker genes of each class "
                  "(found on the training cells) combines global structure with decisive single genes.",
                  est_seconds=t_feat + 5 + n / 500),
        Candidate("pca_mlp", "mlp", pcs, mlp,
                  "A small MLP on the principal components models non-linear boundaries between cell "
                  "states.", est_seconds=t_feat + 10 + n / 100),
        Candidate("pca_markers_ensemble", "ensemble", with_markers,
                  {"kind": "ensemble", "members": [_linear(p), _gbm(p)]},
                  "Averaging the logistic regression and the trees on the same features is a safe gain when "
                  "both are close.", est_seconds=t_feat + 8 + n / 500),
    ]


def _plan_tabular(p: DataProfile) -> list[Candidate]:
    rep = {"blocks": _tabular(p)}
    n = p.n_rows
    return [
        Candidate("tabular_linear", "linear", rep, _linear(p),
                  "A standardised, regularised linear model is hard to beat on small clean tabular data.",
                  est_seconds=2 + n / 20000),
        Candidate("tabular_lgbm", "gbm", rep, _gbm(p),
                  "Gradient boosting handles non-linear effects, interactions and missing values.",
                  est_seconds=3 + n / 2000),
        Candidate("tabular_ensemble", "ensemble", rep,
                  {"kind": "ensemble", "members": [_linear(p), _gbm(p)]},
                  "Averaging the linear model and the trees is a safe gain when both are close.",
                  est_seconds=5 + n / 2000),
    ]


# --- refinements --------------------------------------------------------------------------------

def _edit_model(spec: dict, fn) -> dict | None:
    spec = copy.deepcopy(spec)
    if spec["kind"] == "per_label":
        base = _edit_model(spec["base"], fn)
        return None if base is None else {**spec, "base": base}
    if spec["kind"] == "ensemble":
        members = [_edit_model(m, fn) for m in spec["members"]]
        if all(m is None for m in members):
            return None
        spec["members"] = [m if m is not None else o for m, o in zip(members, spec["members"])]
        return spec
    return fn(spec)


def _derive(c: Candidate, model: dict | None, suffix: str, why: str, factor: float,
            representation: dict | None = None) -> Candidate | None:
    if model is None:
        return None
    est = c.est_seconds * factor
    return replace(
        c,
        name=f"{c.name}+{suffix}",
        model=model,
        representation=representation or c.representation,
        rationale=why.strip(),
        est_seconds=est,
        time_limit_s=None if c.time_limit_s is None else max(c.time_limit_s, 60.0) * max(factor, 0.5),
    )


def _shift_kmers(rep: dict, delta: int) -> dict | None:
    """The representation with the largest k-mer size dropped (-1) or one more added (+1)."""
    rep = copy.deepcopy(rep)
    changed = False
    for b in rep["blocks"]:
        if b["kind"] != "kmer":
            continue
        ks = sorted(b["k"])
        if delta < 0 and len(ks) > 1:
            b["k"], changed = ks[:-1], True
        elif delta > 0 and ks[-1] < (3 if b.get("alphabet") == "protein" else 7):
            b["k"], changed = ks + [ks[-1] + 1], True
    return rep if changed else None


def _auto_linear(m: dict) -> bool:
    return m["kind"] == "linear" and "auto" in (m.get("C"), m.get("alpha"))


def regularize(c: Candidate, why: str = "") -> Candidate | None:
    """A more regularised variant (for overfitting), or None when already at the limit.

    ``why`` (the diagnosis, one sentence) opens the variant's rationale; the recipe adds what it changes.
    """
    if _auto_linear(c.model):  # the strength is already tuned: remove the most specific features instead
        rep = _shift_kmers(c.representation, -1)
        return None if rep is None else _derive(
            c, copy.deepcopy(c.model), "fewer_kmers", f"{why} The linear model's regularisation is already "
            "tuned, so drop the longest k-mers.", 0.6, representation=rep)

    def fn(m: dict) -> dict | None:
        k = m["kind"]
        if k == "group_ridge":  # its penalties are already tuned by cross-validation
            return None
        if k == "linear":
            if _auto_linear(m) or m.get("C", 1.0) <= 1e-4:
                return None
            m["C"], m["alpha"] = m.get("C", 1.0) / 4, m.get("alpha", 1.0) * 4
        elif k == "lgbm":
            leaves = m.get("num_leaves", "auto")
            leaves = 31 if leaves == "auto" else leaves
            if leaves <= 4:
                return None
            m.update(num_leaves=max(4, leaves // 2), min_child_samples=40, feature_fraction=0.5,
                     lambda_l2=m.get("lambda_l2", 1.0) * 5)
        else:
            if m.get("dropout", 0.2) >= 0.6:
                return None
            m.update(
                dropout=round(m.get("dropout", 0.2) + 0.15, 2),
                weight_decay=m.get("weight_decay", 1e-2) * 3,
                patience=max(2, m.get("patience", 5) - 1),
            )
            if "channels" in m:
                m["channels"] = max(16, m["channels"] // 2)
        return m

    return _derive(c, _edit_model(c.model, fn), "regularized",
                   f"{why} Shrink the model and regularise it harder.", 0.8)


def add_capacity(c: Candidate, why: str = "") -> Candidate | None:
    """A larger variant (for underfitting), or None when already large. ``why`` as for ``regularize``."""
    if _auto_linear(c.model):  # the strength is already tuned: add longer k-mers instead
        rep = _shift_kmers(c.representation, +1)
        return None if rep is None else _derive(
            c, copy.deepcopy(c.model), "more_kmers", f"{why} The linear model's regularisation is already "
            "tuned, so add longer k-mers.", 2.0, representation=rep)

    def fn(m: dict) -> dict | None:
        k = m["kind"]
        if k == "group_ridge":
            return None
        if k == "linear":
            if _auto_linear(m) or m.get("C", 1.0) >= 100:
                return None
            m["C"], m["alpha"] = m.get("C", 1.0) * 4, m.get("alpha", 1.0) / 4
        elif k == "lgbm":
            leaves = m.get("num_leaves", "auto")
            leaves = 31 if leaves == "auto" else leaves
            if leaves >= 255:
                return None
            m.update(num_leaves=leaves * 2, min_child_samples=10, learning_rate=0.03, max_rounds=5000)
        else:
            if m.get("channels", m.get("hidden", 64)) >= 256:
                return None
            if "channels" in m:
                m["channels"] = m["channels"] * 2
            if "hidden" in m:
                m["hidden"] = m["hidden"] * 2
            if k != "mlp":
                m["n_blocks"] = min(5, m.get("n_blocks", 3) + 1)
            m["dropout"] = max(0.0, round(m.get("dropout", 0.2) - 0.1, 2))
        return m

    return _derive(c, _edit_model(c.model, fn), "bigger", f"{why} Give the model more capacity.", 2.5)


def cheaper(c: Candidate) -> Candidate | None:
    """A faster, smaller variant (after a failure, timeout or memory error), or None."""
    if c.model["kind"] == "ensemble":
        ests = [m for m in c.model["members"] if m["kind"] in ("linear", "lgbm")]
        if ests:
            return _derive(c, ests[0], "single", "The ensemble was too slow; keep only its fast member.", 0.2)

    def fn(m: dict) -> dict | None:
        k = m["kind"]
        if k == "group_ridge":
            return None if m.get("passes") == 1 else {**m, "folds": 2, "passes": 1}
        if k == "linear":
            if m.get("max_iter", 2000) <= 200:
                return None
            return {**m, "max_iter": 200, **({"C": 0.01, "alpha": 100.0} if _auto_linear(m) else {})}
        if k == "lgbm":
            if m.get("max_rounds", 3000) <= 300:
                return None
            return {**m, "max_rounds": 300, "learning_rate": 0.1, "feature_fraction": 0.5, "num_leaves": 31}
        if m.get("epochs", 30) <= 3:
            return None
        m.update(epochs=max(3, m.get("epochs", 30) // 2), batch_size=min(512, m.get("batch_size", 128) * 2))
        for key in ("channels", "hidden"):
            if key in m:
                m[key] = max(16, m[key] // 2)
        return m

    if c.model["kind"] == "linear":  # big k-mer sets are the usual cost: drop the largest k
        rep = _shift_kmers(c.representation, -1)
        if rep is not None:
            return _derive(c, copy.deepcopy(c.model), "cheaper",
                           "It failed or ran out of time, so use fewer k-mer sizes.", 0.5, representation=rep)
    return _derive(c, _edit_model(c.model, fn), "cheaper",
                   "It failed or ran out of time, so train a smaller model for fewer rounds.", 0.4)


# --- improving the best once the plan is exhausted ------------------------------------------------

FAMILY_OF_KIND = {"linear": "linear", "lgbm": "gbm", "cnn1d": "cnn", "cnn2d": "cnn", "mlp": "mlp",
                  "mpnn": "gnn", "ensemble": "ensemble"}
STOCHASTIC = ("lgbm", "cnn1d", "cnn2d", "mlp", "mpnn")  # models whose fit changes with the seed
TORCH_KINDS = ("cnn1d", "cnn2d", "mlp", "mpnn")  # fit a multi-label target themselves (one output per label)


def unwrapped(model: dict) -> tuple[dict, Callable[[dict], dict]]:
    """(the single model inside a spec, how to wrap a replacement the same way): a multi-label task's
    ``per_label`` wrapper holds the binary model that is fitted per label."""
    if model.get("kind") == "per_label" and isinstance(model.get("base"), dict):
        return model["base"], lambda inner: {**copy.deepcopy(model), "base": inner}
    return model, lambda inner: inner


def bag_of(model: dict) -> list[dict]:
    """The members of a bag (an ensemble of identical members on the same features, ``bag``), or the model
    alone: what a blend averages from it."""
    if (model.get("kind") == "ensemble" and not model.get("member_blocks") and not model.get("weights")
            and len(ms := model.get("members") or []) > 1 and all(m == ms[0] for m in ms)):
        return [copy.deepcopy(m) for m in ms]
    return [copy.deepcopy(model)]


def family_of(model: dict, default: str = "?") -> str:
    """The family of a model spec (a per-label wrapper has its base model's family, a bag its members')."""
    return FAMILY_OF_KIND.get(bag_of(unwrapped(model)[0])[0].get("kind"), default)


def _block_key(block: dict) -> str:
    import json

    return json.dumps(block, sort_keys=True, default=str)


def _union_blocks(*reps: dict) -> dict:
    blocks, seen = [], set()
    for rep in reps:
        for b in rep.get("blocks", []):
            key = _block_key(b)
            if key not in seen:
                seen.add(key)
                blocks.append(copy.deepcopy(b))
    return {"blocks": blocks}


def blend(a: Candidate, b: Candidate, why: str = "", weights: tuple[float, float] = (0.5, 0.5)
          ) -> Candidate | None:
    """An average of two candidates of different families (``weights``: theirs, equal by default), reading
    the union of their representations; None when they share a family or one is already an ensemble of
    different models. A bagged candidate takes part with its members, each weighted by its share of the
    bag, so a blend of a bag with a network averages the three seeds' fits with the network's."""
    fa, fb = family_of(a.model, ""), family_of(b.model, "")
    if fa == fb or "ensemble" in (fa, fb):
        return None
    (ma, wrap), (mb, _) = unwrapped(a.model), unwrapped(b.model)
    if (ma is a.model) != (mb is b.model):  # a per-label model with a multi-task network: blend them whole
        ma, mb, wrap = a.model, b.model, (lambda inner: inner)
    groups = [bag_of(ma), bag_of(mb)]
    union = _union_blocks(a.representation, b.representation)
    keys = [_block_key(u) for u in union["blocks"]]
    # each member reads the blocks of its own candidate (a linear model never sees the other's descriptors)
    reads = [[keys.index(_block_key(u)) for u in c.representation.get("blocks", [])] for c in (a, b)]
    spec = {"kind": "ensemble", "members": groups[0] + groups[1],
            "member_blocks": [reads[0]] * len(groups[0]) + [reads[1]] * len(groups[1])}
    if len(groups[0]) != len(groups[1]) or weights[0] != weights[1]:
        spec["weights"] = [round(w / len(g), 6) for w, g in zip(weights, groups) for _ in g]
    weighted = "" if weights[0] == weights[1] else f"+weighted{weights[0]:g}:{weights[1]:g}"
    return Candidate(
        f"blend[{a.name} | {b.name}]{weighted}",
        "ensemble",
        union,
        wrap(spec),
        (f"{why} " if why else "") + "Averaging the two best candidates of different families "
        "usually beats both when their errors differ.",
        est_seconds=a.est_seconds + b.est_seconds,
        measured=a.measured and b.measured,
    )


def bag(c: Candidate, n: int = 3, why: str = "") -> Candidate | None:
    """The candidate refitted with ``n`` seeds and averaged (bagging over seeds); None when its model does
    not depend on the seed (a linear model) or is already an ensemble."""
    inner, wrap = unwrapped(c.model)
    if inner.get("kind") not in STOCHASTIC:
        return None
    return Candidate(f"{c.name}+bagged{n}", "ensemble", copy.deepcopy(c.representation),
                     wrap({"kind": "ensemble", "members": [copy.deepcopy(inner) for _ in range(n)]}),
                     (f"{why} " if why else "") + f"Averaging {n} fits with different seeds reduces the "
                     "variance of the best model.", est_seconds=c.est_seconds * n, measured=c.measured)
