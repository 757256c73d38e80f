"""Katib's rules: metric collection, median stopping, trial counts, and slots on this machine."""

from __future__ import annotations

import pytest

from local_runner.devices import plan_slots, visible_gpus
from local_runner.errors import LocalRunError
from local_runner.medianstop import current_rule
from local_runner.metrics import TrialMetrics, parse_line
from local_runner.plan import EarlyStopping


class TestMetricLines:
    """Lines are read with Katib's StdOut filter; only the Experiment's metrics are kept."""

    def test_name_value_pairs_anywhere_on_a_line(self):
        line = "step 4: train_loss=0.25 eval_loss = 1e-3 other=7"
        assert [("train_loss", 0.25), ("eval_loss", 0.001)] == parse_line(
            line, ["train_loss", "eval_loss"]
        )

    def test_non_numbers_are_ignored(self):
        assert [] == parse_line("train_loss=nan train_loss=", ["train_loss"])

    def test_strategies_pick_min_max_latest(self):
        metrics = TrialMetrics(["loss", "acc", "lr"], {"loss": "min", "acc": "max", "lr": "latest"})
        for line in ("loss=0.5 acc=0.6 lr=3", "loss=0.3 acc=0.9 lr=2", "loss=0.4 acc=0.7 lr=1"):
            metrics.feed(line)
        assert {"acc": 0.9, "loss": 0.3, "lr": 1.0} == metrics.observed()
        assert [0.5, 0.3, 0.4] == metrics.series("loss")


class TestMedianStop:
    """The rule exists once enough trials succeeded and compares the latest report to the median."""

    SETTINGS = EarlyStopping(min_trials_required=3, start_step=2)

    def test_no_rule_before_enough_trials(self):
        assert current_rule(self.SETTINGS, [[1.0, 1.0], [2.0, 2.0]], minimize=True) is None

    def test_median_of_early_averages(self):
        rule = current_rule(self.SETTINGS, [[1.0, 3.0, 0.0], [2.0, 2.0], [5.0, 7.0]], True)
        assert 2.0 == rule.median  # averages of the first two reports: 2, 2, 6

    def test_minimising_stops_worse_values_after_start_step(self):
        rule = current_rule(self.SETTINGS, [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], True)
        assert not rule.should_stop([9.0])  # before start_step
        assert rule.should_stop([9.0, 2.5])
        assert not rule.should_stop([9.0, 2.0])  # equal to the median is not worse

    def test_maximising_stops_lower_values(self):
        rule = current_rule(self.SETTINGS, [[0.5, 0.5], [0.6, 0.6], [0.7, 0.7]], False)
        assert rule.should_stop([0.9, 0.55])
        assert not rule.should_stop([0.1, 0.65])


class TestSlots:
    """Parallel trials are bounded by parallel_trial_count, CPU cores and GPUs."""

    def test_cpu_bound(self):
        slots = plan_slots(4, 0, 1.0, [], cores=2)
        assert [(0, (), 1), (1, (), 1)] == [(s.index, s.gpus, s.threads) for s in slots]

    def test_parallel_trial_count_bound_gives_threads_to_each(self):
        slots = plan_slots(1, 0, 1.0, [], cores=8)
        assert [8] == [s.threads for s in slots]

    def test_each_trial_gets_its_own_gpus(self):
        slots = plan_slots(3, 2, 1.0, ["0", "1", "2", "3", "4"], cores=16)
        assert [("0", "1"), ("2", "3")] == [s.gpus for s in slots]
        assert "2,3" == slots[1].env()["CUDA_VISIBLE_DEVICES"]

    def test_cpu_only_trials_see_no_gpu(self):
        slots = plan_slots(2, 0, 1.0, ["0", "1"], cores=4)
        assert {""} == {s.env()["CUDA_VISIBLE_DEVICES"] for s in slots}

    def test_too_few_gpus(self):
        with pytest.raises(LocalRunError, match="asks for 4 GPUs but this machine has 2"):
            plan_slots(1, 4, 1.0, ["0", "1"], cores=4)

    def test_cuda_visible_devices_limits_the_gpus(self):
        assert ["2", "5"] == visible_gpus({"CUDA_VISIBLE_DEVICES": "2, 5"})
        assert [] == visible_gpus({"CUDA_VISIBLE_DEVICES": ""})
