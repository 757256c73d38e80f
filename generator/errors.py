"""The project's exception root and the located problems that checks report.

Checks never raise for bad input: they collect `Problem`s so one run reports every mistake.
Exceptions are for stages that cannot go on (an unreadable file, a failed render) and are caught
only in the CLI's entry point.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1  # the input is wrong: definitions, manifests, stale rendered/
    USAGE = 2  # the command line is wrong
    STAGE_FAILED = 3  # a stage failed for a reason outside the input (I/O, git, network)


class HpoError(Exception):
    """Root of every error this project raises on purpose."""

    exit_code = ExitCode.STAGE_FAILED


class RenderError(HpoError):
    """Templates failed to evaluate: a bug in templates/, not in a definition."""


class GitError(HpoError):
    """A git command failed."""


@dataclass(frozen=True, order=True)
class Problem:
    """One located finding, printed as `path:line:col: severity: message`."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"
