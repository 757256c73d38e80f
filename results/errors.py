"""Named errors of the write-back stage, all under the project's exception root."""

from __future__ import annotations

from generator.errors import ExitCode, GitError, HpoError

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


class KubernetesError(ResultsError):
    """The Kubernetes API could not be reached or answered with an error."""


class KubernetesAuthError(KubernetesError):
    """401/403 from the Kubernetes API: the ServiceAccount or kubeconfig lacks a permission."""

    exit_code = ExitCode.AUTH


class ExperimentNotFound(KubernetesError):
    """The Experiment does not exist (or was deleted while waiting)."""

    exit_code = ExitCode.NOT_FOUND


class ExperimentWaitTimeout(KubernetesError):
    """The deadline passed before the Experiment Succeeded or Failed."""


class PushRetriesExhausted(GitError):
    """Every push of the results branch was rejected because the branch kept moving."""


class BranchTakenOver(GitError):
    """Someone other than the results identity committed to the results branch."""


class ForgeError(ResultsError):
    """The GitHub or GitLab API answered with an error."""


class ForgeAuthError(ForgeError):
    """401/403 from the forge: the token is missing, expired or lacks the scope."""

    exit_code = ExitCode.AUTH


class ForgeRetriesExhausted(ForgeError):
    """The forge kept answering 5xx or 429 after every retry."""

    exit_code = ExitCode.UNAVAILABLE
