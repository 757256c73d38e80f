"""Turn Katib's string parameter values back into the types the definition's search space used.

Katib stores every assignment as a string, so `"False"` would be truthy and `"16"` not a number.
The search space knows better: `suggestion.space.Parameter.typed` reads each string as the
definition's own value (a float, an int, or whichever listed value the string stands for).
"""

from __future__ import annotations

from collections.abc import Mapping

from results.definition import SearchSpace
from results.errors import ParameterTypeError
from results.model import Scalar
from suggestion.asha import RESERVED


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
        if name not in space:
            known = ", ".join(sorted(space)) or "none"
            raise ParameterTypeError(
                f"parameter {name} is not in the definition's search space (it has: {known})"
            )
        try:
            typed[name] = space[name].typed(assignments[name])
        except ValueError as e:
            raise ParameterTypeError(str(e)) from None
    return typed
