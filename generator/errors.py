"""The generator's errors and the located problems that checks report.

Checks never raise for bad input: they collect `Problem`s so one run reports every mistake.
Exceptions are for stages that cannot go on (an unreadable file, a failed render) and are caught
only in the CLI's entry point.
"""

from __future__ import annotations

from dataclasses import dataclass

# The root and the exit codes are shared by every entry point, the container roles' included.
from storage_init.exits import ExitCode, HpoError, run_entry_point

__all__ = ["ExitCode", "GitError", "HpoError", "Problem", "RenderError", "run_entry_point"]


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
