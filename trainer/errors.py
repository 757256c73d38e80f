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


class CheckpointNotFoundError(TrainingError):
    """The checkpoint a trial is to continue does not exist (or holds no trainer state)."""

    exit_code = ExitCode.NOT_FOUND


class NothingToMaskError(InputError):
    """A masked-LM batch holds no token masking may hide: each one is special or unknown.

    Its labels would be empty and its loss NaN; what went wrong is the text or the tokenizer,
    not the trial's hyperparameters.
    """

    MESSAGE = (
        "no token of the batch could be masked: every token is special or unknown, so the "
        "tokenizer does not fit this text (or its rows are empty); check that the tokenizer is "
        "the model's own and that the text column (--column text=NAME) holds the text"
    )

    def __init__(self, *_: object) -> None:
        # Raised in a DataLoader worker (GPU trials), it reaches the trial's process as
        # NothingToMaskError(<the worker's traceback>): the fixed message keeps it one line.
        super().__init__(self.MESSAGE)


class NonFiniteLossError(TrainingError):
    """The loss became NaN or infinite: the trial's hyperparameters diverge."""


class OutOfMemoryError(TrainingError):
    """The accelerator ran out of memory for the batch size and sequence length tried."""
