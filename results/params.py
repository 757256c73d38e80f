"""Turn Katib's string parameter values back into the types the definition's search space used.

Katib stores every assignment as a string, so `"False"` would be truthy and `"16"` not a number.
The search space knows better: a double is a float, an int an int, and a categorical or discrete
value is whichever of the definition's own listed values Katib's string stands for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from results.definition import SearchSpace
from results.errors import ParameterTypeError
from results.model import Scalar
from suggestion.asha import RESERVED

SEARCH_KINDS = ("double", "int", "categorical", "discrete")


def _katib_spellings(value: Scalar) -> set[str]:
    """The strings a listed value may come back as from Katib."""
    if isinstance(value, bool):
        return {"true", "True", "TRUE"} if value else {"false", "False", "FALSE"}
    if isinstance(value, int | float):
        return {str(value), repr(value)}
    return {value}


def _as_number(raw: str) -> float | None:
    try:
        number = float(raw)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _from_list(name: str, raw: str, values: Sequence[Scalar]) -> Scalar:
    for value in values:
        if raw in _katib_spellings(value):
            return value
    # Numbers may be spelled differently ("1e-05" for 1.0e-5); compare them as numbers.
    number = _as_number(raw)
    if number is not None:
        for value in values:
            if isinstance(value, int | float) and not isinstance(value, bool) and value == number:
                return value
    listed = ", ".join(repr(v) for v in values)
    raise ParameterTypeError(f"parameter {name}: {raw!r} is not one of the listed values {listed}")


def typed_value(name: str, raw: str, kind: str, values: Sequence[Scalar] | None = None) -> Scalar:
    """One Katib value, typed by its search kind (and listed values for categorical/discrete)."""
    if kind == "double":
        number = _as_number(raw)
        if number is None:
            raise ParameterTypeError(f"parameter {name}: {raw!r} is not a number (double)")
        return number
    if kind == "int":
        number = _as_number(raw)
        if number is None or number != int(number):
            raise ParameterTypeError(f"parameter {name}: {raw!r} is not an integer (int)")
        return int(number)
    if kind in ("categorical", "discrete"):
        if not values:
            raise ParameterTypeError(f"parameter {name}: {kind} search lists no values")
        return _from_list(name, raw, values)
    expected = ", ".join(SEARCH_KINDS)
    raise ParameterTypeError(
        f"parameter {name}: unknown search kind {kind!r} (expected {expected})"
    )


def typed_parameters(assignments: Mapping[str, str], space: SearchSpace) -> dict[str, Scalar]:
    """Type every assignment by the definition's search space.

    A parameter the search space does not name is an error: it means the definition and the
    Experiment disagree, and guessing a type would reintroduce the string bug. The two that
    hpo-asha adds (the rung and the configuration; hpo check keeps the names free) are the
    policy's, not the search's, and are left out.
    """
    typed: dict[str, Scalar] = {}
    for name in sorted(assignments):
        if name in RESERVED:
            continue
        if name not in space.kinds:
            known = ", ".join(sorted(space.kinds)) or "none"
            raise ParameterTypeError(
                f"parameter {name} is not in the definition's search space (it has: {known})"
            )
        kind = space.kinds[name]
        typed[name] = typed_value(name, assignments[name], kind, space.values.get(name))
    return typed
