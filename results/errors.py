"""Named errors of the write-back stage, all under the project's exception root.

The errors of reading Katib (`katib.errors`) and of proposing (`proposal.errors`) are named here
too, so the results Job's callers catch them from one place."""

from __future__ import annotations

from generator.errors import ExitCode, GitError, HpoError
from katib.errors import (
    ExperimentNotFound,
    ExperimentWaitTimeout,
    KubernetesAuthError,
    KubernetesError,
)
from proposal.errors import (
    BranchTakenOver,
    ForgeAuthError,
    ForgeError,
    ForgeRetriesExhausted,
    PushRetriesExhausted,
)

__all__ = [
    "BranchTakenOver",
    "DefinitionReadError",
    "ExperimentNotFound",
    "ExperimentWaitTimeout",
    "ForgeAuthError",
    "ForgeError",
    "ForgeRetriesExhausted",
    "GitError",
    "KubernetesAuthError",
    "KubernetesError",
    "ParameterTypeError",
    "PushRetriesExhausted",
    "ResultsConfigError",
    "ResultsError",
    "ResultsWriteError",
]


class ResultsError(HpoError):
    """Root of the write-back errors."""


class ResultsConfigError(ResultsError):
    """A required setting (flag or environment variable) is missing or malformed."""

    exit_code = ExitCode.USAGE


class DefinitionReadError(ResultsError):
    """experiments/<name>/experiment.yaml is missing or cannot be read on the base branch."""

    exit_code = ExitCode.PROBLEMS


class ResultsWriteError(ResultsError):
    """The results files could not be written into the experiment's folder."""


class ParameterTypeError(ResultsError):
    """A value Katib reports cannot be typed by the definition's search space."""

    exit_code = ExitCode.PROBLEMS
