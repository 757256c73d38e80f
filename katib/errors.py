"""Named errors of talking to Katib through the Kubernetes API."""

from __future__ import annotations

from generator.errors import ExitCode, HpoError


class KubernetesError(HpoError):
    """The Kubernetes API could not be reached or answered with an error."""


class KubernetesAuthError(KubernetesError):
    """401/403 from the Kubernetes API: the ServiceAccount or kubeconfig lacks a permission."""

    exit_code = ExitCode.AUTH


class ExperimentNotFound(KubernetesError):
    """The Experiment does not exist (or was deleted while waiting)."""

    exit_code = ExitCode.NOT_FOUND


class ExperimentDeleted(ExperimentNotFound):
    """The Experiment existed and was deleted while it was being waited for."""


class ExperimentWaitTimeout(KubernetesError):
    """The deadline passed before the Experiment Succeeded or Failed."""
