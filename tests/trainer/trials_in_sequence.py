"""`torchrun -m tests.trainer.trials_in_sequence ARGV [--then ARGV ...]`: several trials, one
after the other, in the same processes, so a distributed test pays for one launch, not three.

Each ARGV is a `python -m trainer` command line; the first trial that fails ends the launch with
its exit code.
"""

from __future__ import annotations

import sys

from trainer.cli import main

SEPARATOR = "--then"


def split(argv: list[str]) -> list[list[str]]:
    trials: list[list[str]] = [[]]
    for arg in argv:
        if arg == SEPARATOR:
            trials.append([])
        else:
            trials[-1].append(arg)
    return trials


if __name__ == "__main__":
    for trial in split(sys.argv[1:]):
        code = main(trial)
        if code:
            sys.exit(code)
