"""Errors of the local runner; the `hpo` CLI prints each as one line."""

from __future__ import annotations

from generator.errors import ExitCode, HpoError


class LocalRunError(HpoError):
    """The experiment cannot run on this machine as written (refused before anything starts)."""

    exit_code = ExitCode.PROBLEMS


class UnsupportedLocallyError(LocalRunError):
    """A Katib feature with no local equivalent (an algorithm, a distribution, several nodes)."""


class SecretNotSetError(LocalRunError):
    """A Secret reference has no value in the local environment."""

    exit_code = ExitCode.AUTH


class StudyStateError(LocalRunError):
    """The saved run under the work folder does not fit this command (resume or start over)."""


class DownloadFailedError(HpoError):
    """The download step (storage_init) exited with an error."""
