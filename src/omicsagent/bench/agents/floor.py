"""``baseline:floor``: the seconds-long model every agent must beat.

k-mer frequencies (k = 1..4 for DNA/RNA, 1..2 for protein) for sequence columns, a Morgan fingerprint for
SMILES, the numeric and categorical columns as they are, and a regularised linear model (logistic or ridge,
strength tuned on an inner split) from ``omicsagent.ml``. Single-cell tasks (AnnData ``.h5ad`` files) get
the recipe book's ``pca_logistic`` candidate: log-normalisation when the training matrix holds counts (the
``expression`` block decides with ``omicsagent.ml.singlecell.looks_like_counts``), the most variable genes,
scaled, 50 principal components and the same logistic regression. Column roles come from the loop's own
detection (``omicsagent.tasks.load_task``). Runs inside the sandbox, reading only ``public/``:

    python -m omicsagent.bench.agents.floor PUBLIC OUT [--seed 0]

writes ``OUT/submission.csv`` and ``OUT/solution.json`` (the representation and model it used).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from omicsagent.bench.agents.public import (
    PublicTask,
    labelled_training,
    read_public,
    test_inputs,
    write_submission,
)


SINGLECELL_FLOOR = "pca_logistic"  # the recipe book's candidate the floor uses on cells x genes


def floor_spec(task, train=None) -> tuple[dict, dict]:
    """(representation, model) for an ``omicsagent.tasks.Task``; a single-cell task also needs ``train``
    (the labelled rows), from which the recipe book's data profile is measured."""
    if task.gene_columns:
        from omicsagent.brains.expert import recipes

        profile = recipes.profile_of(task, train, time_budget_s=60.0)
        chosen = next((c for c in recipes.plan(profile) if c.name == SINGLECELL_FLOOR), None)
        if chosen is None:
            raise RuntimeError(f"the recipe book has no single-cell candidate {SINGLECELL_FLOOR!r}")
        return chosen.representation, chosen.model
    blocks: list[dict] = []
    for c in task.feature_columns:
        if c.role in ("dna", "rna"):
            blocks.append(
                {
                    "kind": "kmer",
                    "column": c.name,
                    "k": [1, 2, 3, 4] if (c.median_len or 0) >= 12 else [1, 2],
                    "alphabet": "dna",
                    "normalize": "freq",
                }
            )
        elif c.role == "protein":
            blocks.append(
                {"kind": "kmer", "column": c.name, "k": [1, 2], "alphabet": "protein", "normalize": "freq"}
            )
        elif c.role == "smiles":
            blocks.append({"kind": "smiles", "column": c.name, "radius": 2, "n_bits": 1024, "counts": False,
                           "descriptors": "none"})
    tabular = [c.name for c in task.feature_columns if c.role in ("numeric", "categorical")]
    if tabular:
        blocks.append({"kind": "tabular", "columns": tabular})
    model = {"kind": "linear", "C": "auto", "alpha": "auto"}
    if task.task_type == "multiclass":
        model["class_weight"] = "balanced"
    if task.task_type == "multilabel":  # one linear model per label, on the rows where it is measured
        model = {"kind": "per_label", "base": model}
    return {"blocks": blocks}, model


def detect_task(pub: PublicTask, train):
    """The loop's task detection on the public labelled rows ``train`` (``labelled_training``): AnnData
    files are read as they are (genes, obs annotations, the declared layer); other tables through a CSV of
    the rows."""
    import tempfile

    from omicsagent.ml.io import is_anndata
    from omicsagent.tasks import Overrides, load_task

    declared = pub.declared
    ov = Overrides(target=pub.target, task_type=declared.get("task_type"),
                   id_columns=[pub.id_column] if pub.id_column in train.columns else [])
    if is_anndata(pub.train):
        return load_task(train=pub.train, validation=pub.validation,
                         overrides=ov.model_copy(update={"layer": pub.layer}))
    with tempfile.TemporaryDirectory() as tmp:  # detection reads a file; the sandbox gives a private /tmp
        path = Path(tmp) / "train.csv"
        train.to_csv(path, index=False)
        return load_task(train=path, overrides=ov)


def fit_predict(public: Path, *, seed: int = 0, log=print):
    """Train the floor on the public labelled rows; return (predictions for test, representation, model)."""
    import pandas as pd

    from omicsagent.ml.models.linear import Linear
    from omicsagent.ml.pipeline import TrainedModel, build_featurizer

    pub = read_public(public)
    train = labelled_training(pub)
    task = detect_task(pub, train)
    representation, model_spec = floor_spec(task, train)
    if not representation["blocks"]:
        raise SystemExit("the floor found no sequence, SMILES, gene, numeric or categorical column to learn "
                         "from")
    featurizer = build_featurizer(representation)
    t = time.monotonic()
    X = featurizer.fit_transform(train)
    # the model classes directly, not build_model: that would import torch for every model kind (seconds)
    if task.task_type == "multilabel":
        from omicsagent.ml.models.multilabel import PerLabel

        model = PerLabel(base=model_spec["base"], task_type="multilabel", seed=seed)
        y = train[task.target_columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    else:
        model = Linear(
            **{k: v for k, v in model_spec.items() if k != "kind"}, task_type=task.task_type, seed=seed
        )
        y = train[task.target].to_numpy()
    model.check()
    model.fit(X, y, log=log)
    log(f"floor: {X.describe()}, fitted in {time.monotonic() - t:.1f} s")
    target = task.labels if task.labels else task.target
    trained = TrainedModel(featurizer=featurizer, model=model, task_type=task.task_type, target=target)
    return pub, trained.predict_frame(test_inputs(pub)), representation, model_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The floor baseline of omicsagent bench.")
    parser.add_argument("public")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    pub, predictions, representation, model = fit_predict(Path(args.public), seed=args.seed)
    (out / "solution.json").write_text(
        json.dumps(
            {"agent": "baseline:floor", "representation": representation, "model": model, "seed": args.seed},
            indent=1,
        )
    )
    write_submission(pub, predictions, out)
    print(f"wrote {len(predictions)} predictions to {out / 'submission.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
