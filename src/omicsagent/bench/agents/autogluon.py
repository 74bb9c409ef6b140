"""``baseline:autogluon``: AutoGluon-Tabular on the floor's featurisation (an optional extra).

What many users would pick instead of an agent: the same k-mer / fingerprint / tabular features as
``baseline:floor``, handed to ``autogluon.tabular.TabularPredictor`` with most of the time limit. Runs in the
sandbox like the floor:

    python -m omicsagent.bench.agents.autogluon PUBLIC OUT [--seed 0] [--time-limit 900]

``omicsagent bench run`` skips this agent, with a message, when AutoGluon is not installed.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from omicsagent.bench.agents.floor import detect_task, floor_spec
from omicsagent.bench.agents.public import labelled_training, read_public, test_inputs, write_submission


def _frame(flat, names: list[str]) -> pd.DataFrame:
    dense = flat.toarray() if sparse.issparse(flat) else np.asarray(flat)
    cols = names if len(names) == dense.shape[1] else [f"f{i}" for i in range(dense.shape[1])]
    return pd.DataFrame(dense, columns=[str(c) for c in cols])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="AutoGluon-Tabular baseline of omicsagent bench.")
    parser.add_argument("public")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=900.0)
    args = parser.parse_args(argv)
    from autogluon.tabular import TabularPredictor

    from omicsagent.ml.pipeline import build_featurizer

    pub = read_public(Path(args.public))
    train = labelled_training(pub)
    task = detect_task(pub, train)
    if task.task_type == "multilabel":
        raise SystemExit("baseline:autogluon does not handle multi-label tasks (one predictor per label is "
                         "not built in); compare on the other tasks.")
    representation, _ = floor_spec(task, train)
    featurizer = build_featurizer(representation)
    X = featurizer.fit_transform(train)
    label = "__target__"
    df = _frame(X.flat, X.flat_names)
    df[label] = train[task.target].to_numpy()
    problem = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}[task.task_type]
    with tempfile.TemporaryDirectory() as models:
        predictor = TabularPredictor(label=label, problem_type=problem, path=models, verbosity=1)
        predictor.fit(df, time_limit=max(30.0, 0.75 * args.time_limit), presets="medium_quality")
        test = _frame(featurizer.transform(test_inputs(pub)).flat, X.flat_names)
        if problem == "regression":
            preds = pd.DataFrame({"prediction": predictor.predict(test).to_numpy()})
        else:
            proba = predictor.predict_proba(test)
            classes = list(proba.columns)
            preds = pd.DataFrame({"prediction": [classes[i] for i in proba.to_numpy().argmax(axis=1)]})
            for c in classes:
                preds[f"probability_{c}"] = proba[c].to_numpy()
    out = Path(args.out)
    (out / "solution.json").write_text(
        json.dumps(
            {
                "agent": "baseline:autogluon",
                "representation": representation,
                "presets": "medium_quality",
                "seed": args.seed,
            },
            indent=1,
        )
    )
    write_submission(pub, preds, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
