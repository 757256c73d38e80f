"""The learning-curve replay: what a table holds, what each trial costs, how a run is scored."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from benchmarks.replay import summary
from benchmarks.replay.simulate import Arm, Outcome, simulate
from benchmarks.replay.table import TableError, load
from suggestion.asha import CONFIG_PARAMETER, RUNG_PARAMETER
from suggestion.history import COMPLETE, FAILED, PRUNED
from tests.benchmarks.curves import write_curves, write_table

ROOT = Path(__file__).resolve().parents[2]
FALLING = [2.0, 1.8, 1.6, 1.4, 1.3, 1.2, 1.1, 1.05, 1.0]
FULL = 10.0 + 90 * 1.0 + 9 * 2.0  # write_curves' start-up, 90 steps, 9 evaluations


class TestTable:
    """The recorded table as the replay reads it: a grid of curves and their costs."""

    def test_tasks_parameters_and_costs(self, tmp_path):
        tasks = load(write_table(tmp_path / "curves.csv"))
        assert ["alpha", "beta"] == list(tasks)
        alpha = tasks["alpha"]
        assert [("learning_rate", "discrete", ("1e-05", "0.0001", "0.001", "0.01")),
                ("r", "discrete", ("4", "16"))] == [
            (p.name, p.kind, p.values) for p in alpha.parameters]  # fmt: skip
        curve = alpha.curve({"learning_rate": "0.001", "r": "16"})
        assert (10, 20, 30, 40, 50, 60, 70, 80, 90) == curve.steps
        assert 20.0 + 90 * 0.75 + 9 * 3.0 == curve.seconds(0, 90)
        assert 20.0 + 60 * 0.75 + 6 * 3.0 == curve.seconds(30, 90)  # resumed after rung 1
        assert min(c.final for c in alpha.curves.values()) == alpha.best

    def test_a_grid_with_a_hole_is_refused(self, tmp_path):
        path = write_table(tmp_path / "curves.csv")
        text = path.read_text().splitlines()
        path.write_text("\n".join(line for line in text if ",c5," not in line) + "\n")
        with pytest.raises(TableError, match="task alpha is not a full grid: no curve for "):
            load(path)

    def test_the_last_evaluation_is_the_full_run(self, tmp_path):
        path = write_curves(tmp_path / "curves.csv", {"1": FALLING})
        path.write_text(path.read_text().replace(",90,90,", ",89,90,"))
        with pytest.raises(TableError, match=r"curves.csv:2: configuration c0 must be .* the "
                                             "last at total_steps 90"):  # fmt: skip
            load(path)

    def test_the_header_is_checked(self, tmp_path):
        path = tmp_path / "curves.csv"
        path.write_text("task,config,x,step,objective\nt,c0,1,90,1.0\n")
        with pytest.raises(TableError, match="curves.csv:1: the header must read"):
            load(path)


class TestCosts:
    """A trial costs its start-up, its own steps and its evaluations; ASHA resumes."""

    def test_a_promoted_configuration_costs_one_full_run_and_its_restarts(self, tmp_path):
        task = load(write_table(tmp_path / "curves.csv"))["alpha"]
        run, _ = simulate(task, Arm("random", "asha"), seed=0, budget=30, limit=30)
        by_config = defaultdict(list)
        for t in run.trials:
            by_config[t.assignments[CONFIG_PARAMETER]].append(t)
        finished = [trials for trials in by_config.values() if len(trials) == 3]
        assert finished, "no configuration reached the top rung"
        for trials in finished:
            curve = task.curve(trials[0].assignments)
            assert [(0, 10), (10, 30), (30, 90)] == [t.steps for t in trials]
            assert ["0", "1", "2"] == [t.assignments[RUNG_PARAMETER] for t in trials]
            seconds = sum(t.end - t.start for t in trials)
            assert curve.seconds(0, 90) + 2 * curve.startup_seconds == pytest.approx(seconds)
            # Each rung reports where it stopped (strategy latest).
            assert [curve.at(s) for s in (10, 30, 90)] == [t.metrics["eval_loss"] for t in trials]

    def test_a_trial_stopped_by_medianstop(self, tmp_path):
        good = {x: [v + i / 10 for v in FALLING] for i, x in enumerate(("1", "2", "3"))}
        bad = {x: [2.5] * 9 for x in ("4", "5")}
        task = load(write_curves(tmp_path / "curves.csv", good | bad))["t"]
        run, _ = simulate(task, Arm("random", "medianstop"), seed=1, budget=12, limit=12)
        stopped = [t for t in run.trials if t.state == PRUNED]
        assert stopped, "nothing was stopped"
        for t in stopped:
            succeeded = [s for s in run.trials if s.state == COMPLETE and s.end <= t.start]
            assert len(succeeded) >= 3  # min_trials_required
            assert t.assignments["x"] in bad
            # start_step 3: stopped at the third report, having run 30 steps and 3 evaluations.
            assert ((0, 30), 10.0 + 30 + 3 * 2.0) == (t.steps, t.end - t.start)
            assert {"eval_loss": 2.5} == t.metrics


class TestDivergedRuns:
    """A recorded run that diverged (nan from some evaluation on) fails there, in every arm."""

    CURVES = {"1": FALLING, "2": FALLING[:4] + [math.nan] * 5, "3": [v + 0.5 for v in FALLING]}

    def test_it_is_never_the_best(self, tmp_path):
        task = load(write_curves(tmp_path / "curves.csv", self.CURVES))["t"]
        assert 1.0 == task.best
        assert 50 == task.curve({"x": "2"}).failure(0, 90)

    @pytest.mark.parametrize("stopping", ["none", "medianstop"])
    def test_a_full_run_fails_where_it_diverged(self, tmp_path, stopping):
        task = load(write_curves(tmp_path / "curves.csv", self.CURVES))["t"]
        run, _ = simulate(task, Arm("random", stopping), seed=0, budget=8, limit=8)
        diverged = [t for t in run.trials if t.assignments["x"] == "2"]
        assert diverged, "the diverged configuration was never drawn"
        for t in diverged:
            assert (FAILED, (0, 50), {}) == (t.state, t.steps, t.metrics)
            assert 10.0 + 50 + 5 * 2.0 == t.end - t.start

    def test_a_rung_fails_where_it_diverged(self, tmp_path):
        curves = {x: FALLING for x in ("1", "3", "4")} | {"2": FALLING[:2] + [math.nan] * 7}
        task = load(write_curves(tmp_path / "curves.csv", curves))["t"]
        run, _ = simulate(task, Arm("random", "asha"), seed=0, budget=8, limit=8)
        failed = [t for t in run.trials if t.state == FAILED]
        assert failed and all(t.assignments["x"] == "2" for t in failed)
        # Rung 0 (to step 10) is recorded; rung 1 would run to step 30 and fails at step 30.
        assert {(10, 30)} == {t.steps for t in failed}


class TestScoring:
    """Trial-seconds count every trial's time until the target is met, in parallel too."""

    def test_parallel_trials_all_count(self, tmp_path):
        task = load(write_curves(tmp_path / "curves.csv", {"1": FALLING}))["t"]
        _, outcome = simulate(task, Arm("random"), seed=0, workers=2, budget=3, limit=5)
        # Two workers start the only configuration at once; the first to end meets the target,
        # when both have run a full run's seconds.
        assert (2 * FULL, 1, 0.0) == (
            outcome.seconds_to_target,
            outcome.trials_to_target,
            outcome.regret,
        )

    @pytest.mark.parametrize(("second", "reached_by"), [(1.009, "either"), (1.02, "best")])
    def test_within_one_percent_of_the_best(self, tmp_path, second, reached_by):
        curves = {"1": FALLING, "2": FALLING[:-1] + [second], "3": [3.0] * 9}
        task = load(write_curves(tmp_path / "curves.csv", curves))["t"]
        run, outcome = simulate(task, Arm("random"), seed=0, workers=1, budget=8, limit=8)
        targets = {"1", "2"} if reached_by == "either" else {"1"}
        first = next(i for i, t in enumerate(run.trials) if t.assignments["x"] in targets)
        assert ((first + 1) * FULL, first + 1) == (
            outcome.seconds_to_target,
            outcome.trials_to_target,
        )

    def test_no_regret_without_a_full_run_within_the_budget(self, tmp_path):
        task = load(write_curves(tmp_path / "curves.csv", {"1": FALLING}))["t"]
        _, outcome = simulate(task, Arm("random"), seed=0, workers=1, budget=0.5, limit=2)
        assert (None, FULL) == (outcome.regret, outcome.seconds_to_target)


class TestSummary:
    def test_runs_that_never_reached_rank_last(self):
        values = [10.0, None, 30.0, 20.0, None]
        assert 25.0 == summary.quantile(values, 0.5 * 0.75)  # between 20 and 30
        assert "30 (20-never)" == summary.spread(values, "{:.0f}")

    def test_stopping_arms_are_compared_with_their_sampler_alone(self):
        def result(arm, seconds):
            return summary.Result("t", arm, 0, Outcome(seconds, 1, 0.0, 1, seconds))

        results = [result("gp", 90.0), result("asha", 30.0)]
        rows = summary.table(results, "t", ["gp", "asha"], {"asha": "gp"}).splitlines()
        assert "| asha | 1/1 | 30 (30-30) | 0.33 | 0.0000 (0.0000-0.0000) |" == rows[3]


def test_the_same_table_and_seeds_write_the_same_bytes(tmp_path):
    """The command, run twice over two processes each: byte-identical results."""
    table = write_table(tmp_path / "curves.csv", tasks=("alpha",))
    outputs = []
    for name in ("one.csv", "two.csv"):
        command = [sys.executable, str(ROOT / "benchmarks" / "curve_replay.py")]
        command += ["--table", str(table), "--seeds", "2", "--samplers", "hpo-gp"]
        command += ["--budget", "3", "--limit", "5", "--out", str(tmp_path / name)]
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    rows = list(csv.DictReader(outputs[0].decode().splitlines()))
    assert [("hpo-gp", "0"), ("hpo-gp", "1")] == [(r["arm"], r["seed"]) for r in rows[:2]]
    assert 6 == len(rows)  # 3 arms, 2 seeds
