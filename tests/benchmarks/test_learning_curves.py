"""The learning-curve recording's pieces, on a tiny model: grid, timing, table format, resuming.

The full recording (python -m benchmarks.curves) takes an hour or more; the table it wrote is
checked in test_learning_curves_table.py.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from benchmarks.curves.table import (
    COLUMNS,
    append_partial,
    csv_text,
    missing,
    read_rows,
    recorded,
    resumed,
    table_rows,
    table_text,
)
from benchmarks.curves.tasks import MODEL, TASKS, Task, eval_steps, grid, learning_rates
from benchmarks.curves.timeline import Curve, Timeline, curve
from benchmarks.curves.trials import assignments, finish, plans, start
from local_runner.download import run_downloads
from local_runner.workspace import Workspace
from tests.support.tiny_models import tiny_bert, tiny_reviews

ROOT = Path(__file__).resolve().parents[2]
IMDB = TASKS[0]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def runs_of(*keys: tuple[Task, int]) -> dict:
    """Complete runs whose objective at step s is s / 100."""
    runs = {}
    for task, config in keys:
        steps = eval_steps(task.total_steps)
        points = {s: {"eval_loss": s / 100, "eval_accuracy": 0.5} for s in steps}
        found = Curve(10.0, 0.5, 2.0, points)
        runs[(task.name, config)] = table_rows(task, config, found)
    return runs


class TestGrid:
    """48 configurations: 16 learning rates log-spaced over [3e-4, 3e-2] times r in 4, 8, 16."""

    def test_learning_rates_are_log_spaced_to_three_significant_digits(self):
        rates = learning_rates()
        assert rates[0] == "0.0003" and rates[-1] == "0.03" and len(rates) == 16
        ratios = [float(b) / float(a) for a, b in zip(rates, rates[1:], strict=False)]
        assert all(abs(ratio - 100 ** (1 / 15)) < 0.01 for ratio in ratios)
        assert all(len(rate.replace("0.", "").lstrip("0")) <= 3 for rate in rates)

    def test_a_configuration_number_is_its_place_in_the_grid(self):
        points = grid()
        assert len(points) == 48
        assert points[0] == ("0.0003", 4) and points[1] == ("0.0003", 8)
        assert points[5] == ("0.000408", 16) and points[47] == ("0.03", 16)

    @pytest.mark.parametrize("task", TASKS, ids=lambda task: task.name)
    def test_the_rungs_of_hpo_asha_fall_on_evaluation_points(self, task):
        steps = eval_steps(task.total_steps)
        assert len(steps) == 9 and task.total_steps % 9 == 0
        for fraction in (9, 3, 1):
            assert math.ceil(task.total_steps / fraction) in steps


class TestTimeline:
    """Training seconds, evaluation seconds and startup from when the trainer's lines arrive."""

    def test_evaluations_are_left_out_of_the_training_seconds(self):
        clock = FakeClock()
        timeline = Timeline(clock)
        lines = [
            (12.0, "trainable_params=1000"),  # training starts 12 s after the process
            (13.0, "train_loss=0.7\nepoch=0.1\nstep=1"),
            (14.0, "train_loss=0.6\nepoch=0.2\nstep=2"),
            (17.0, "eval_loss=0.55\neval_accuracy=0.75\neval_f1=0.7\nepoch=0.2\nstep=2"),
            (18.0, "train_loss=0.5\nepoch=0.3\nstep=3"),
            (19.0, "train_loss=0.4\nepoch=0.4\nstep=4"),
            (23.0, "eval_loss=0.45\neval_accuracy=0.8\nepoch=0.4\nstep=4"),
            (23.5, "train_loss=0.5\nepoch=0.4\nstep=4\ntrainable_params=1000"),  # the end
        ]
        for at, text in lines:
            clock.now = 100.0 + at
            for line in text.splitlines():
                timeline.feed(line + "\n")
        found = curve(timeline)
        assert found.startup_seconds == 12.0
        assert found.seconds_per_step == 1.0  # four one-second steps
        assert found.eval_seconds == 3.5  # 3 s and 4 s
        assert found.points == {
            2: {"eval_loss": 0.55, "eval_accuracy": 0.75, "eval_f1": 0.7},
            4: {"eval_loss": 0.45, "eval_accuracy": 0.8},
        }

    def test_a_run_that_never_trained_knows_nothing(self):
        found = curve(Timeline())
        assert math.isnan(found.startup_seconds) and math.isnan(found.seconds_per_step)
        assert math.isnan(found.eval_seconds) and found.points == {}


class TestTable:
    """Fixed columns, decimals and order, so a rerun that reaches the same values diffs clean."""

    def test_rows_have_fixed_decimals_and_nan_where_a_run_stopped(self):
        task = Task("t", "d", 9)
        points = {1: {"eval_loss": 0.6931471805, "eval_accuracy": 0.5}}
        rows = table_rows(task, 47, Curve(12.345678, 0.123456789, 4.56789, points))
        text = csv_text(rows[:2])
        assert text == (
            ",".join(COLUMNS) + "\n"
            "t,47,0.03,16,1,9,0.1235,12.35,4.568,0.693147,0.5000\n"
            "t,47,0.03,16,2,9,0.1235,12.35,4.568,nan,nan\n"
        )

    def test_the_table_is_in_task_then_configuration_order_whatever_the_finishing_order(self):
        task_a, task_b = TASKS
        runs = runs_of((task_b, 0), (task_a, 3), (task_a, 1))
        text = table_text(runs)
        assert text == table_text(dict(reversed(list(runs.items()))))
        order = [tuple(row.split(",")[:2]) for row in text.splitlines()[1::9]]
        assert order == [(task_a.name, "1"), (task_a.name, "3"), (task_b.name, "0")]


class TestResuming:
    """Runs already in the table or the partial file are not run again; half-written ones are."""

    def test_recorded_runs_are_skipped_and_the_rest_run(self, tmp_path):
        task = IMDB
        partial = tmp_path / "partial.csv"
        first, second, third = runs_of((task, 0), (task, 2), (task, 3)).values()
        append_partial(partial, first)
        append_partial(partial, second)
        # A recording killed while writing leaves a row cut short; the next run's rows start on
        # a line of their own.
        with partial.open("a", encoding="utf-8") as handle:
            handle.write(f"{IMDB.name},1,0.0003,8,{eval_steps(IMDB.total_steps)[0]},18,0.1")
        runs = recorded(read_rows(partial))
        assert sorted(runs) == [(IMDB.name, 0), (IMDB.name, 2)]
        assert missing(task, [0, 1, 2, 3], runs) == [1, 3]
        append_partial(partial, third)
        assert sorted(recorded(read_rows(partial))) == [(IMDB.name, c) for c in (0, 2, 3)]
        assert partial.read_text().count("task,config") == 1  # one header

    def test_a_run_of_another_length_or_with_a_point_missing_is_recorded_again(self):
        runs = runs_of((IMDB, 0), (IMDB, 1))
        longer = str(IMDB.total_steps + 9)
        rows = runs[(IMDB.name, 0)][:-1] + [
            {**row, "total_steps": longer} for row in runs[(IMDB.name, 1)]
        ]
        assert recorded(rows) == {}
        assert recorded([row for rows in runs.values() for row in rows]) == runs

    def test_a_run_in_the_partial_file_replaces_the_tables_of_another_length(self):
        """T changed: the table holds the old run, the partial file the new one."""
        new = runs_of((IMDB, 0), (IMDB, 1))
        old = [{**row, "total_steps": "27", "objective": "1.0"} for row in new[(IMDB.name, 0)]]
        table = old + new[(IMDB.name, 1)]
        assert resumed(table, new[(IMDB.name, 0)]) == new
        assert resumed(table, []) == {(IMDB.name, 1): new[(IMDB.name, 1)]}


class TestRecording:
    """One configuration run for real: the rendered trial on a tiny model, nine points."""

    def test_the_definition_renders_the_grid_and_evaluates_nine_times(self, tmp_path):
        plan = plans([IMDB], tmp_path)[0]
        argv = " ".join(plan.trial.argv)
        for flag in ("max_steps:int=18", "eval_steps:int=2", "logging_steps:int=1"):
            assert f"--training {flag}" in argv
        assert "--max-length 96" in argv and "--lora lora_alpha:int=16" in argv
        katib = [assignments(plan, config) for config in range(len(grid()))]
        assert [float(a["learning_rate"]) for a in katib] == [float(x) for x, _ in grid()]

    def test_a_tiny_run_records_a_row_per_evaluation(self, tmp_path):
        tiny_bert(tmp_path / MODEL, num_labels=2)
        tiny_reviews(tmp_path / "tiny", {"train": 16, "test": 8})
        task = Task("tiny", "tiny", 9)
        plan = plans([task], tmp_path)[0]
        workspace = Workspace(ROOT, tmp_path / "work", plan.name)
        run_downloads(plan.downloads, workspace, lambda line: None)
        run = start(task, plan, workspace, 47, threads=1)
        while run.process.poll() is None:
            time.sleep(0.1)
        rows, line = finish(run)
        assert [row["step"] for row in rows] == [str(step) for step in range(1, 10)]
        assert {(row["learning_rate"], row["r"]) for row in rows} == {("0.03", "16")}
        for row in rows:
            assert 0 < float(row["objective"]) < 10 and 0 <= float(row["eval_accuracy"]) <= 1
            assert float(row["seconds_per_step"]) > 0 and float(row["eval_seconds"]) > 0
            assert 0 < float(row["startup_seconds"]) < run.process.seconds
        assert "FAILED" not in line
