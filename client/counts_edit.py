"""edit_experiment_budget: change the trial counts in a definition's text and nothing else.

Katib lets a created Experiment change only its three trial counts, so the edit touches only
those keys: every other line, comment and quote of the reviewed file stays as it was, and the
pull request shows a one-line diff per count. A count the file does not set yet is added after
the counts it sets, else at the end of the file.
"""

from __future__ import annotations

import re

from client.errors import ClientError
from generator.commands.immutability import EDITABLE_KEYS
from generator.loading.yamlload import YamlProblems, load_located

# One scalar token at a value's position: quoted, or plain up to a comment or a flow delimiter.
_SCALAR = re.compile(r"\"[^\"]*\"|'[^']*'|[^\s,}#]+")


def count_arguments(**counts: object) -> dict[str, int]:
    """The counts given (not None), each checked to be a whole number; the definition's checks
    judge the values."""
    given = {key: value for key, value in counts.items() if value is not None}
    if not given:
        raise ValueError(
            "set max_trial_count, parallel_trial_count or max_failed_trial_count to change "
            "the Experiment's trial budget"
        )
    for key, value in given.items():
        if key not in EDITABLE_KEYS:
            raise ClientError(f"{key}: Katib lets an Experiment change only {EDITABLE_KEYS}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ClientError(f"{key} must be a whole number of trials, got {value!r}")
    return given  # type: ignore[return-value]


def with_counts(text: str, path: str, counts: dict[str, int]) -> str:
    """`text` with each count set, every other byte kept."""
    try:
        document = load_located(text, path)
    except YamlProblems as e:
        raise ClientError(f"{path} is not valid YAML: {e.problems[0]}") from None
    if not isinstance(document.data, dict):
        raise ClientError(f"{path} is not a definition: its top level is not a mapping")
    lines = text.splitlines(keepends=True)
    present = [key for key in counts if key in document.data]
    # Right to left, so that an edit never moves a position still to be edited.
    for key in sorted(present, key=lambda k: document.value_positions[(k,)], reverse=True):
        line, column = document.value_positions[(key,)]
        current = lines[line - 1]
        token = _SCALAR.match(current, column - 1)
        if token is None:
            raise ClientError(f"{path}:{line}:{column}: {key} is not a plain number")
        lines[line - 1] = current[: token.start()] + str(counts[key]) + current[token.end() :]
    missing = "".join(f"{key}: {counts[key]}\n" for key in counts if key not in document.data)
    if not missing:
        return "".join(lines)
    if present:  # next to the counts already there
        last = max(document.value_positions[(key,)][0] for key in present)
        return "".join(lines[:last]) + missing + "".join(lines[last:])
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines) + missing
