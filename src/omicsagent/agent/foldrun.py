"""Train then predict in one sandboxed process (the harness's cross-validation folds): runs a brain's
train.py and inference.py as ``python train.py --train T --out M`` and ``python inference.py --input X
--output Y`` would, importing the libraries once. Runs inside the sandbox, never on the host."""
from __future__ import annotations

import argparse
import runpy
import sys


def _run(script: str, argv: list[str]) -> None:
    saved = sys.argv
    sys.argv = [script, *argv]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise
    finally:
        sys.argv = saved


def main() -> None:
    parser = argparse.ArgumentParser(description="Train on one fold and predict its held-out rows.")
    parser.add_argument("--train-script", required=True)
    parser.add_argument("--inference-script", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    _run(args.train_script, ["--train", args.train, "--out", args.model])
    _run(args.inference_script, ["--input", args.input, "--output", args.output])


if __name__ == "__main__":
    main()
