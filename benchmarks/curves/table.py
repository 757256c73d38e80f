"""The table's rows: one per (task, configuration, evaluation point), in a fixed format.

Every number is written with fixed decimals and the rows in a fixed order, so a rerun that
reaches the same values writes the same bytes. A run that failed part way (a diverging loss
stops the trainer) keeps its rows: the points it never reached read `nan`.

Runs are recorded in full or not at all: a run counts as recorded when the table or the partial
file holds a row for each of its evaluation points, with today's grid and T.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from benchmarks.curves.tasks import TASKS, Task, eval_steps, grid
from benchmarks.curves.timeline import Curve
from benchmarks.replay.table import LEADING, TRAILING

# The format the replay reads (benchmarks/replay/table.py), with this grid's two parameters and
# the accuracy beside the objective.
COLUMNS = (*LEADING, "learning_rate", "r", *TRAILING, "eval_accuracy")
Row = dict[str, str]
Runs = dict[tuple[str, int], list[Row]]  # (task, configuration) -> its rows


def number(value: float, decimals: int) -> str:
    return "nan" if math.isnan(value) else f"{value:.{decimals}f}"


def table_rows(task: Task, config: int, found: Curve) -> list[Row]:
    """One row per evaluation point of the run; the objective is the eval loss there."""
    rate, r = grid()[config]
    rows = []
    for step in eval_steps(task.total_steps):
        metrics = found.points.get(step, {})
        rows.append(
            {
                "task": task.name,
                "config": str(config),
                "learning_rate": rate,
                "r": str(r),
                "step": str(step),
                "total_steps": str(task.total_steps),
                "seconds_per_step": number(found.seconds_per_step, 4),
                "startup_seconds": number(found.startup_seconds, 2),
                "eval_seconds": number(found.eval_seconds, 3),
                "objective": number(metrics.get("eval_loss", math.nan), 6),
                "eval_accuracy": number(metrics.get("eval_accuracy", math.nan), 4),
            }
        )
    return rows


def read_rows(path: Path) -> list[Row]:
    """The rows of a table or partial file; none when it does not exist."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def recorded(rows: list[Row]) -> Runs:
    """The runs recorded in full with today's tasks and grid; a row cut short when the
    recording was killed mid-write, or a run of another T or grid, is left out."""
    tasks = {task.name: task for task in TASKS}
    by_run: Runs = {}
    for row in rows:
        if any(row.get(column) in (None, "") for column in COLUMNS):
            continue
        by_run.setdefault((row["task"], int(row["config"])), []).append(row)
    points = grid()
    complete = {}
    for (name, config), found in by_run.items():
        task = tasks.get(name)
        if task is None or not 0 <= config < len(points):
            continue
        rate, r = points[config]
        expected = {"learning_rate": rate, "r": str(r), "total_steps": str(task.total_steps)}
        same = all(row[name] == value for row in found for name, value in expected.items())
        steps = sorted(int(row["step"]) for row in found)
        if same and steps == eval_steps(task.total_steps):
            complete[(name, config)] = sorted(found, key=lambda row: int(row["step"]))
    return complete


def resumed(table: list[Row], partial: list[Row]) -> Runs:
    """The runs recorded in full in the table or the partial file. The partial file is newer:
    its run replaces the table's, which may be a run of another T."""
    return {**recorded(table), **recorded(partial)}


def csv_text(rows: list[Row], header: bool = True) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def append_partial(path: Path, rows: list[Row]) -> None:
    """Add one finished run's rows, on disk before the next run is counted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file() or path.stat().st_size == 0
    # A row cut short by a killed recording is ended first, so it spoils no row of this run.
    cut = not new and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write("\n" * cut + csv_text(rows, header=new))
        handle.flush()
        os.fsync(handle.fileno())


def table_text(runs: Runs) -> str:
    """The whole table: tasks in TASKS order, then configuration, then step."""
    order = {task.name: index for index, task in enumerate(TASKS)}
    keys = sorted(runs, key=lambda key: (order[key[0]], key[1]))
    return csv_text([row for key in keys for row in runs[key]])


def missing(task: Task, configs: list[int], runs: Runs) -> list[int]:
    """The configurations of `task` still to record, in the order given."""
    return [config for config in configs if (task.name, config) not in runs]
