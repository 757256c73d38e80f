"""Named errors of proposing files: git refusing a push, the forge's API answering an error."""

from __future__ import annotations

from generator.errors import ExitCode, GitError, HpoError


class PushRetriesExhausted(GitError):
    """Every push of the results branch was rejected because the branch kept moving."""


class BranchTakenOver(GitError):
    """Someone other than the results identity committed to the results branch."""


class ForgeError(HpoError):
    """The GitHub or GitLab API answered with an error."""


class ForgeAuthError(ForgeError):
    """401/403 from the forge: the token is missing, expired or lacks the scope."""

    exit_code = ExitCode.AUTH


class ForgeRetriesExhausted(ForgeError):
    """The forge kept answering 5xx or 429 after every retry."""

    exit_code = ExitCode.UNAVAILABLE


class ForgeSettingsError(HpoError):
    """The forge settings are incomplete or malformed; `missing` names the absent ones."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, missing: tuple[str, ...] = ()):
        super().__init__(message)
        self.missing = missing
