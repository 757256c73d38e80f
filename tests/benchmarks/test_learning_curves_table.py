"""The committed learning-curve table has the shape the benchmark needs (issue 21).

At least two tasks, at least 48 configurations each, every one trained once in full and
evaluated at least 9 times, hpo-asha's rungs (1/9, 1/3 and 1 of the run) among the points, and
the table in the recorder's own fixed format, so rerunning the recorder diffs clean.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import pytest

from benchmarks.curves.table import COLUMNS, recorded, table_text

TABLE = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "learning_curves.csv"


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


@pytest.fixture(scope="module")
def runs(rows) -> dict[tuple[str, str], list[dict[str, str]]]:
    by_run = defaultdict(list)
    for row in rows:
        by_run[(row["task"], row["config"])].append(row)
    return by_run


class TestShape:
    def test_two_tasks_of_48_configurations_each(self, runs):
        configs = defaultdict(set)
        for task, config in runs:
            configs[task].add(int(config))
        assert len(configs) >= 2
        for found in configs.values():
            assert found == set(range(len(found))) and len(found) >= 48

    def test_every_run_has_nine_points_and_the_rungs_of_hpo_asha(self, runs):
        for rows in runs.values():
            total = {int(row["total_steps"]) for row in rows}
            assert len(total) == 1
            steps = sorted(int(row["step"]) for row in rows)
            (t,) = total
            assert len(steps) >= 9 and len(set(steps)) == len(steps) and steps[-1] == t
            assert {math.ceil(t / 9), math.ceil(t / 3), t} <= set(steps)

    def test_a_configuration_is_one_learning_rate_and_rank_in_every_task(self, runs):
        by_config = defaultdict(set)
        for (_, config), rows in runs.items():
            by_config[config] |= {(row["learning_rate"], row["r"]) for row in rows}
        assert all(len(values) == 1 for values in by_config.values())

    def test_timings_are_positive_and_objectives_numbers(self, rows):
        for row in rows:
            for column in ("seconds_per_step", "startup_seconds", "eval_seconds"):
                assert float(row[column]) > 0, (row["task"], row["config"], column)
            assert not math.isinf(float(row["objective"]))

    def test_the_table_is_in_the_recorders_order_and_format(self, rows):
        """The recorder would write these bytes again: no run is partial or out of place."""
        assert table_text(recorded(rows)) == TABLE.read_text(encoding="utf-8")
