"""Errors of the training stage: each one becomes a one-line `error: ...` and a non-zero exit."""

from __future__ import annotations

from storage_init.exits import ExitCode, HpoError


class TrainingError(HpoError):
    """Root of every error the trainer raises on purpose."""


class TrialConfigError(TrainingError):
    """The trial's command line is wrong: a flag, a typed value, a column role."""

    exit_code = ExitCode.USAGE


class InputError(TrainingError):
    """The model or dataset folder cannot be used as given (not fetched, wrong columns, labels)."""

    exit_code = ExitCode.PROBLEMS


class NonFiniteLossError(TrainingError):
    """The loss became NaN or infinite: the trial's hyperparameters diverge."""


class OutOfMemoryError(TrainingError):
    """The accelerator ran out of memory for the batch size and sequence length tried."""
