"""Turn Katib's string parameter values back into the types the definition's search space used.

Katib stores every assignment as a string, so `"False"` would be truthy and `"16"` not a number.
The search space knows better: `suggestion.space.Parameter.typed` reads each string as the
definition's own value (a float, an int, or whichever listed value the string stands for).

Under hpo-asha every trial also carries the two parameters the policy sets (suggestion.asha):
the rung it trains to and the configuration it continues. They are not in the definition's
search space and were not searched: `typed_parameters` leaves them out, and `placement` reads
them, here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping

from results.definition import SearchSpace
from results.errors import ParameterTypeError
from results.model import Placement, Scalar
from suggestion.asha import CONFIG_PARAMETER, RESERVED, RUNG_PARAMETER


def typed_parameters(assignments: Mapping[str, str], space: SearchSpace) -> dict[str, Scalar]:
    """Type every assignment by the definition's search space, hpo-asha's two left out.

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


def placement(assignments: Mapping[str, str], asha: bool, trial: str) -> Placement | None:
    """Where the trial named `trial` stands in hpo-asha's rungs (`asha`: the experiment's
    algorithm is hpo-asha), from the two parameters the policy set; None for any other
    algorithm. ParameterTypeError when an hpo-asha trial lacks either, or either is no whole
    number: a trial the policy did not make cannot be placed, or ranked."""
    if not asha:
        return None
    numbers = {}
    for name in (CONFIG_PARAMETER, RUNG_PARAMETER):
        text = assignments.get(name)
        if text is None or not text.strip().isdigit():
            found = "none" if text is None else repr(text)
            raise ParameterTypeError(
                f"trial {trial}: hpo-asha sets parameter {name} to a whole number, found {found}"
            )
        numbers[name] = int(text)
    return Placement(config=numbers[CONFIG_PARAMETER], rung=numbers[RUNG_PARAMETER])
