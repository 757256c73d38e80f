"""How every entry point of the project ends: the exception root and one exit-code scheme.

`hpo`, `python -m storage_init`, `python -m trainer` and `python -m results` all end through
`run_entry_point`, so an exit code means the same thing whichever container or command printed
it, and a person reading `kubectl describe pod` or a CI log can act on it without reading code.

This module lives in the storage initializer because the container roles must stand alone: it is
the bottom of the import graph, standard library only, and every other package already reads this
package's cache contract.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1  # the input as written cannot be used: a definition, a manifest, a split
    USAGE = 2  # the command line is wrong
    STAGE_FAILED = 3  # a stage failed for a reason outside the input: I/O, git, training
    AUTH = 4  # a credential is missing, wrong, or has no access
    NOT_FOUND = 5  # what the input names does not exist: a repository, object, path, Experiment
    UNAVAILABLE = 6  # a service kept failing through every retry (5xx, throttling, timeouts)
    INTERNAL = 70  # a defect in this project (sysexits' EX_SOFTWARE): the traceback says where
    INTERRUPTED = 130  # Ctrl-C, as any program stopped by SIGINT reports it


class HpoError(Exception):
    """Root of every error this project raises on purpose; `exit_code` says which kind."""

    exit_code = ExitCode.STAGE_FAILED


def run_entry_point(
    main: Callable[[], int | None],
    *,
    prefix: str = "error",
    redact: Callable[[str], str] = lambda text: text,
    on_error: Callable[[HpoError], int | None] = lambda error: None,
) -> int:
    """Run `main` and turn how it ended into one stderr line and an exit code.

    Expected failures (HpoError) print their message alone: no traceback for bad input. A defect
    prints its traceback, then the same one-line form. `redact` scrubs credentials from anything
    printed; `on_error` may claim an error by returning the exit code to use instead.
    """
    try:
        return int(main() or ExitCode.OK)
    except HpoError as error:
        claimed = on_error(error)
        if claimed is not None:
            return int(claimed)
        _say(f"{prefix}: {redact(str(error))}")
        return int(error.exit_code)
    except KeyboardInterrupt:
        _say(f"{prefix}: interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as error:
        sys.stderr.write(redact(traceback.format_exc()))
        _say(f"{prefix}: unexpected {type(error).__name__}: {redact(str(error))} (a defect)")
        return int(ExitCode.INTERNAL)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
