"""Katib metric lines: format, rank 0 only, flushed, and the NaN guard."""

from __future__ import annotations

import io
import resource

import pytest
import torch
from transformers import TrainerState, TrainingArguments

from trainer.catalog import COST_METRICS
from trainer.errors import NonFiniteLossError
from trainer.report import (
    KatibMetrics,
    StopOnNonFiniteLoss,
    cost_metrics,
    format_metric,
    peak_memory_mb,
    trainable_params,
)
from trainer.tasks.causal_lm import perplexity


def state(step: int, epoch: float, rank_zero: bool = True) -> TrainerState:
    s = TrainerState(global_step=step, epoch=epoch)
    s.is_world_process_zero = rank_zero
    return s


class TestFormat:
    """Numbers as Katib's default StdOut pattern reads them; NaN, inf and text are skipped."""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0.6931471805599453, "loss=0.69314718"),
            (3, "loss=3"),
            (1.5e-05, "loss=1.5e-05"),
            (float("nan"), None),
            (float("inf"), None),
            (True, None),
            ("x", None),
        ],
    )
    def test_line(self, value, expected):
        assert expected == format_metric("loss", value)


class TestKatibMetrics:
    """Train metrics at logging steps, eval metrics at evaluations, nothing from other ranks."""

    def test_logging_step_and_final_mean(self):
        out = io.StringIO()
        reporter = KatibMetrics(("eval_accuracy",), stream=out)
        reporter.on_log(None, state(5, 0.5), None, logs={"loss": 0.5, "learning_rate": 1e-4})
        reporter.on_log(None, state(10, 1.0), None, logs={"train_loss": 0.4, "epoch": 1.0})
        expected = "train_loss=0.5\nepoch=0.5\nstep=5\ntrain_loss=0.4\nepoch=1\nstep=10\n"
        assert expected == out.getvalue()

    def test_a_resumed_trial_reports_the_mean_of_the_whole_run(self):
        """The Trainer's final train_loss covers the steps it ran (5 and 6, mean 0.6); steps 1..4
        (mean 0.9) came before, from the checkpoint: the run's mean is (4 * 0.9 + 2 * 0.6) / 6.
        A logging step's loss stays the mean since the last log."""
        out = io.StringIO()
        reporter = KatibMetrics((), stream=out, earlier=(4, 4 * 0.9))
        reporter.on_log(None, state(6, 1.0), None, logs={"loss": 0.6})
        reporter.on_log(None, state(6, 1.0), None, logs={"train_loss": 0.6})
        assert [0.6, pytest.approx(0.8, rel=1e-12)] == [
            float(line.partition("=")[2])
            for line in out.getvalue().splitlines()
            if line.startswith("train_loss=")
        ]

    def test_evaluation_prints_task_and_derived_metrics_only(self):
        out = io.StringIO()
        reporter = KatibMetrics(("eval_perplexity",), derive=perplexity, stream=out)
        metrics = {"eval_loss": 2.0, "eval_runtime": 1.2, "eval_samples_per_second": 9.0}
        reporter.on_evaluate(None, state(4, 0.25), None, metrics=metrics)
        expected = "eval_loss=2\neval_perplexity=7.3890561\nepoch=0.25\nstep=4\n"
        assert expected == out.getvalue()
        assert {"eval_loss", "eval_perplexity", "epoch", "step"} == set(reporter.printed)

    def test_other_ranks_print_nothing(self):
        out = io.StringIO()
        reporter = KatibMetrics((), stream=out)
        reporter.on_log(None, state(1, 0.1, rank_zero=False), None, logs={"loss": 0.5})
        reporter.on_evaluate(None, state(1, 0.1, rank_zero=False), None, metrics={"eval_loss": 1})
        assert out.getvalue() == ""


class TestCostMetrics:
    """What a trial cost: counted parameters, peak memory in MiB, the Trainer's own timings."""

    def test_trainable_params_counts_what_the_optimizer_updates_once(self):
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 4))
        model[0].requires_grad_(False)  # 15 frozen
        model.append(torch.nn.Linear(3, 4))
        model[2].weight = model[1].weight  # shared: counted once
        assert 3 * 4 + 4 + 4 == trainable_params(model)

    def test_cpu_peak_is_the_resident_set_in_mib(self):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        peak = peak_memory_mb(torch.device("cpu"))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert 0 < before <= peak <= after

    def test_gpu_peak_is_what_torch_allocated_on_this_process_device(self, monkeypatch):
        asked = []
        monkeypatch.setattr(
            torch.cuda, "max_memory_allocated", lambda device: asked.append(device) or 3 * 2**20
        )
        assert 3.0 == peak_memory_mb(torch.device("cuda", 1))
        assert [torch.device("cuda", 1)] == asked

    def test_catalog_order_with_the_trainers_timings_only(self):
        model = torch.nn.Linear(2, 1)
        train = {
            "train_runtime": 2.5,
            "train_samples_per_second": 3.2,
            "train_steps_per_second": 0.8,
            "total_flos": 1e9,
            "train_loss": 0.7,
            "epoch": 1.0,
        }
        costs = cost_metrics(model, torch.device("cpu"), train, trained_steps=4)
        assert list(COST_METRICS) == list(costs)
        assert (3, 3.2, 2.5, 4) == (
            costs["trainable_params"],
            costs["train_samples_per_second"],
            costs["train_runtime"],
            costs["trained_steps"],
        )
        out = io.StringIO()
        KatibMetrics((), stream=out).emit(costs)
        assert out.getvalue().startswith("trainable_params=3\npeak_memory_mb=")
        expected_end = "\ntrain_samples_per_second=3.2\ntrain_runtime=2.5\ntrained_steps=4\n"
        assert out.getvalue().endswith(expected_end)

    def test_a_timing_the_trainer_did_not_measure_is_left_out(self):
        # The Trainer leaves out samples per second when the run took no measurable time.
        costs = cost_metrics(torch.nn.Linear(2, 1), torch.device("cpu"), {"train_runtime": 0.0}, 1)
        assert ["trainable_params", "peak_memory_mb", "train_runtime", "trained_steps"] == list(
            costs
        )


class TestStopOnNonFiniteLoss:
    """A logged NaN or infinite loss raises the training error that ends the trial."""

    @pytest.mark.parametrize("loss", [float("nan"), float("inf")])
    def test_raises(self, loss, tmp_path):
        args = TrainingArguments(output_dir=str(tmp_path), learning_rate=0.5)
        with pytest.raises(NonFiniteLossError) as caught:
            StopOnNonFiniteLoss().on_log(args, state(7, 0.7), None, logs={"loss": loss})
        assert str(caught.value).startswith(
            f"training loss became {loss} at step 7 (learning_rate=0.5)"
        )

    def test_finite_loss_passes(self, tmp_path):
        args = TrainingArguments(output_dir=str(tmp_path))
        StopOnNonFiniteLoss().on_log(args, state(7, 0.7), None, logs={"loss": 1e9})
