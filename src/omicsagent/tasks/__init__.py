"""Tasks: dataset files, target, task type, metric and column roles, loaded and validated."""
from __future__ import annotations

from omicsagent.tasks.io import read_table
from omicsagent.tasks.task import ColumnInfo, Overrides, Task, load_task, make_overrides

__all__ = ["ColumnInfo", "Overrides", "Task", "load_task", "make_overrides", "read_table"]
