"""One file holding every split: an AnnData obs column named like a split is detected; any table takes
--split-column; the rows of each split are what Task.table gives, so test rows never reach the agent."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsagent.errors import InputError
from omicsagent.tasks import Overrides, load_task
from omicsagent.testing import make_singlecell_task, make_tabular_task


def test_h5ad_split_column_is_detected(tmp_path):
    task = load_task(make_singlecell_task(tmp_path / "sc", n_cells=100, split_column=True))
    assert task.split_column == "split" and (task.n_train, task.n_validation, task.n_test) == (60, 20, 20)
    assert task.column("split").role == "metadata" and task.target == "cell_type"
    for which, n in (("train", 60), ("validation", 20), ("test", 20)):
        rows = task.table(which)
        assert len(rows) == n and set(rows["split"]) == {which}


def test_table_split_column_by_option(tmp_path):
    folder = make_tabular_task(tmp_path / "t", n=100, n_test=0)
    df = pd.read_csv(folder / "train.csv")
    df["fold"] = np.array(["Train", "train", "training", "val", "TEST"])[np.arange(100) % 5]
    df.to_csv(folder / "train.csv", index=False)
    task = load_task(folder)  # a table's split column is never guessed
    assert task.split_column is None and task.n_train == 100
    task = load_task(folder, overrides=Overrides(split_column="fold"))
    assert (task.n_train, task.n_validation, task.n_test) == (60, 20, 20)
    assert not task.column("fold").is_feature
    df.loc[3, "fold"] = "holdout?"
    df.to_csv(folder / "train.csv", index=False)
    with pytest.raises(InputError, match="'holdout\\?', which is not train, validation or test"):
        load_task(folder, overrides=Overrides(split_column="fold"))
