"""Metrics for Katib's StdOut collector, and the guard that stops a diverging trial.

Katib reads `name=value` lines from the trial's stdout. Each line is flushed at once, so a trial
that is killed or stopped early has already reported everything up to that moment, and only the
first process of a distributed run prints, so each point is counted once.

Besides the quality metrics, a trial reports what it cost (`COST_METRICS` in the catalog): the
trainable parameters, peak memory, throughput and runtime, so an experiment can weigh one
against the other.
"""

from __future__ import annotations

import math
import resource
import sys
from collections.abc import Callable, Mapping
from typing import IO, Any

import torch
from transformers import TrainerCallback

from trainer.catalog import (
    COST_METRICS,
    EVAL_LOSS,
    PEAK_MEMORY_MB,
    TRAINABLE_PARAMS,
    TRAINED_STEPS,
)
from trainer.errors import NonFiniteLossError

MIB = 2**20


def format_metric(name: str, value: Any) -> str | None:
    """One `name=value` line, or None for what Katib's number pattern cannot read."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        return f"{name}={value}"
    if not math.isfinite(value):
        return None
    return f"{name}={value:.8g}"


class KatibMetrics(TrainerCallback):
    """Print train metrics at every logging step and eval metrics at every evaluation.

    `task_metrics` are the eval metric names the task reports (from the catalog); `derive` adds
    metrics computed from the others, such as perplexity from the eval loss.
    """

    def __init__(
        self,
        task_metrics: tuple[str, ...],
        derive: Callable[[Mapping[str, float]], dict[str, float]] | None = None,
        stream: IO[str] | None = None,
        earlier: tuple[int, float] = (0, 0.0),
    ):
        self.task_metrics = task_metrics
        self.derive = derive
        self.stream = stream
        # Steps trained before this trial (by the trials it resumes) and their summed training
        # loss: the final train_loss is the mean of the whole run, as one uninterrupted run
        # reports it, not of this trial's steps alone.
        self.earlier = earlier
        self.printed: dict[str, float] = {}  # the latest value of each metric, for the caller

    def emit(self, metrics: Mapping[str, Any]) -> None:
        lines = [line for name, value in metrics.items() if (line := format_metric(name, value))]
        if lines:
            stream = self.stream or sys.stdout
            stream.write("\n".join(lines) + "\n")
            stream.flush()
            self.printed.update(metrics)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        # "loss" is the mean since the last log; "train_loss" the mean of the whole run, at the end.
        loss = logs.get("loss")
        if loss is None and "train_loss" in logs:
            loss = self.run_mean(logs["train_loss"], state.global_step)
        if loss is not None:
            epoch = logs.get("epoch", state.epoch or 0.0)
            self.emit({"train_loss": loss, "epoch": epoch, "step": state.global_step})

    def run_mean(self, own_mean: float, global_step: int) -> float:
        """The mean training loss of steps 1..global_step, of which this trial ran the last ones
        with mean `own_mean` (the Trainer's train_loss covers only the steps it ran)."""
        steps, loss_sum = self.earlier
        if steps == 0:
            return own_mean
        return (loss_sum + own_mean * (global_step - steps)) / global_step

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero or not metrics:
            return
        found = dict(metrics)
        if self.derive:
            found.update(self.derive(found))
        wanted = (EVAL_LOSS, *self.task_metrics)
        report = {name: found[name] for name in wanted if name in found}
        self.emit({**report, "epoch": state.epoch or 0.0, "step": state.global_step})


def trainable_params(model: torch.nn.Module) -> int:
    """Parameters the optimizer updates (LoRA weights, new heads), a shared one counted once."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def reset_peak_memory(device: torch.device) -> None:
    """Measure a GPU's peak from here on; a process's peak resident set cannot be reset."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory in MiB: allocated on this process's GPU, or this process's resident set."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / MIB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * (1 if sys.platform == "darwin" else 1024) / MIB  # Linux counts KiB, macOS bytes


def cost_metrics(
    model: torch.nn.Module,
    device: torch.device,
    train_metrics: Mapping[str, Any],
    trained_steps: int,
) -> dict[str, Any]:
    """The catalog's cost metrics, in its order; throughput and runtime from the metrics of
    `Trainer.train()`'s output, as the Trainer measured them."""
    found = {
        **train_metrics,
        TRAINABLE_PARAMS: trainable_params(model),
        PEAK_MEMORY_MB: peak_memory_mb(device),
        TRAINED_STEPS: trained_steps,
    }
    return {name: found[name] for name in COST_METRICS if name in found}


class StopOnNonFiniteLoss(TrainerCallback):
    """End the trial when a logged training loss is NaN or infinite.

    Every process sees the same averaged loss, so all of them stop together. Needs
    `logging_nan_inf_filter=False`, or the Trainer hides NaN steps inside the average.
    """

    def on_log(self, args, state, control, logs=None, **kwargs):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            raise NonFiniteLossError(
                f"training loss became {loss} at step {state.global_step} "
                f"(learning_rate={args.learning_rate:g}); "
                "this trial diverged: lower the learning rate or its search range"
            )
