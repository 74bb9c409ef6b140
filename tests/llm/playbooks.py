"""Scripted model behaviour shared by the LLM tests: a model that explores, splits, writes and runs a
training script and an inference script through the tools, and gets the inference step wrong first."""
from __future__ import annotations

import textwrap

from omicsagent.testing_llm import Playbook, call, final, raw_call

SPLIT_PY = textwrap.dedent("""\
    import os
    import pandas as pd
    from omicsagent.agent.split import split_frame
    df = pd.read_csv("inputs/train.csv")
    train, valid, method = split_frame(df, target="label", task_type="binary", seed=0)
    os.makedirs("artifacts/split", exist_ok=True)
    train.to_csv("artifacts/split/train.csv", index=False)
    valid.to_csv("artifacts/split/validation.csv", index=False)
    print(method, len(train), len(valid))
""")

TRAIN_PY = textwrap.dedent("""\
    import argparse
    from pathlib import Path
    from omicsagent.ml.pipeline import TrainedModel, build_featurizer, build_model, read_table
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", default="{train_file}")
    parser.add_argument("--out", default=str(here / "model"))
    args = parser.parse_args()
    df = read_table(args.train)
    rep = {"blocks": [{"kind": "kmer", "column": "sequence", "k": [2, 3]}]}
    featurizer = build_featurizer(rep)
    X = featurizer.fit_transform(df)
    model = build_model({"kind": "linear"}, task_type="binary", seed=0).fit(X, df["label"].to_numpy(),
                                                                        log=print)
    TrainedModel(featurizer=featurizer, model=model, task_type="binary", target="label",
                 representation=rep, model_spec={"kind": "linear"}).save(args.out)
    print("saved model")
""")

# The first inference script drops rows (a bug the dry-run must catch); the model then fixes it in place.
INFERENCE_PY = textwrap.dedent("""\
    import argparse
    from pathlib import Path
    from omicsagent.ml.pipeline import TrainedModel, read_table
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    trained = TrainedModel.load(Path(__file__).resolve().parent / "model")
    table = read_table(args.input).head(5)
    trained.predict_frame(table).to_csv(args.output, index=False)
""")


def full_playbook(*, break_json: bool = False) -> Playbook:
    inference_steps = [
        call("write_file", path="{iter_dir}/inference.py", content=INFERENCE_PY),
        final(inference_script="{iter_dir}/predict.py"),  # wrong name: corrected by the brain
        final(inference_script="{iter_dir}/inference.py"),  # dry-run returns 5 rows: corrected
        call("replace_in_file", path="{iter_dir}/inference.py", old=".head(5)", new=""),
        final(inference_script="{iter_dir}/inference.py", notes="fixed the row count"),
    ]
    exploration = [call("bash", command="head -3 inputs/train.csv && wc -l inputs/train.csv")]
    if break_json:
        exploration.append(raw_call("final_result", '{"summary": "half an answ'))  # invalid JSON
    exploration.append(final(summary="DNA sequences with a binary label.", findings=["balanced classes"]))
    return Playbook(
        {
            "exploration": exploration,
            "split": [
                call("write_file", path="scratch/split.py", content=SPLIT_PY),
                call("run_python", script="scratch/split.py"),
                final(
                    method="stratified by 'label' (20%)",
                    train_file="artifacts/split/train.csv",
                    validation_file="artifacts/split/validation.csv",
                ),
            ],
            "representation": [
                final(
                    name="2-3-mer counts",
                    description="k-mer frequencies of the sequence",
                    spec={"blocks": [{"kind": "kmer", "column": "sequence", "k": [2, 3]}]},
                )
            ],
            "architecture": [
                final(
                    name="logistic regression",
                    description="linear baseline",
                    hyperparameters={"C": 1.0},
                    spec={"kind": "linear"},
                )
            ],
            "training": [
                call("write_file", path="{iter_dir}/train.py", content=TRAIN_PY),
                call("run_python", script="{iter_dir}/train.py"),
                final(train_script="{iter_dir}/train.py", model_dir="{iter_dir}/model"),
            ],
            "inference": inference_steps,
            "prediction_exploration": [
                call("read_file", path="{iter_dir}/validation_predictions.csv", max_lines=5),
                final(summary="errors spread evenly", findings=[]),
            ],
            "reflection": [
                final(
                    assessment="a linear baseline works",
                    stop=False,
                    instructions={"architecture": "keep the linear model", "training": "same"},
                )
            ],
        }
    )
