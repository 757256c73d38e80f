"""A Katib search space as the sampler sees it: parameters and their values, Katib's strings.

Katib hands every assignment around as a string, and the same strings come back in the history,
so they are the currency here too: a sampled float becomes `repr(value)`, an int `str(value)`,
and categorical and discrete values are the listed strings themselves.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

LOG = "logUniform"
SUPPORTED_DISTRIBUTIONS = ("uniform", LOG)
CHOICE_KINDS = ("categorical", "discrete")


@dataclass(frozen=True)
class Parameter:
    """One Katib parameter; bounds and values stay the strings Katib stores."""

    name: str
    kind: str  # double | int | categorical | discrete
    min: str | None = None
    max: str | None = None
    step: str | None = None
    distribution: str = "uniform"
    values: tuple[str, ...] = ()


def unsupported(parameters: Sequence[Parameter]) -> list[str]:
    """Why Optuna cannot sample a parameter the way Katib would; one message per parameter."""
    problems = []
    for p in parameters:
        if p.kind in CHOICE_KINDS:
            if not p.values:
                problems.append(f"parameter {p.name}: {p.kind} lists no values")
            continue
        if p.distribution not in SUPPORTED_DISTRIBUTIONS:
            problems.append(
                f"parameter {p.name}: distribution {p.distribution} cannot be sampled here; "
                "use uniform or logUniform"
            )
            continue
        int_unit_step = p.kind == "int" and p.step is not None and float(p.step) == 1
        if p.distribution == LOG and p.step is not None and not int_unit_step:
            problems.append(
                f"parameter {p.name}: Optuna cannot combine logUniform with step {p.step}; "
                "drop one of them"
            )
    return problems


def katib_text(kind: str, value: object) -> str:
    """A sampled value as the string Katib would substitute."""
    if kind == "int":
        return str(int(value))
    if kind == "double":
        return repr(float(value))
    return str(value)


def grid_points(low: float, high: float, step: float) -> int:
    """How many values Katib's grid takes from low to high inclusive, `step` apart."""
    return int(math.floor((high - low) / step + 1e-9)) + 1


def grid_values(p: Parameter) -> list[str]:
    """Every point Katib's grid visits for one parameter, as Katib strings."""
    if p.kind in CHOICE_KINDS:
        return list(p.values)
    low, high = float(p.min), float(p.max)
    step = float(p.step) if p.step is not None else 1.0
    count = grid_points(low, high, step)
    if p.kind == "int":
        return [str(int(low) + i * int(step)) for i in range(count)]
    # round() keeps 0.1 + 2 * 0.1 from printing as 0.30000000000000004.
    return [repr(round(low + i * step, 12)) for i in range(count)]


def grid(parameters: Sequence[Parameter]):
    """Every grid point, in Katib's order (the first parameter varies slowest)."""
    names = [p.name for p in parameters]
    for values in itertools.product(*(grid_values(p) for p in parameters)):
        yield dict(zip(names, values, strict=True))


def distribution(p: Parameter):
    """The Optuna distribution a parameter is sampled from (choices as Katib strings)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if p.kind in CHOICE_KINDS:
        return CategoricalDistribution(list(p.values))
    log = p.distribution == LOG
    if p.kind == "int":
        step = int(float(p.step)) if p.step is not None else 1
        return IntDistribution(int(float(p.min)), int(float(p.max)), log=log, step=step)
    step = float(p.step) if p.step is not None else None
    return FloatDistribution(float(p.min), float(p.max), log=log, step=step)


def internal(p: Parameter, text: str):
    """A Katib string as the value `distribution(p)` holds; ValueError when it does not fit."""
    if p.kind in CHOICE_KINDS:
        if text not in p.values:
            raise ValueError(f"{p.name}={text} is not one of {', '.join(p.values)}")
        return text
    value = int(float(text)) if p.kind == "int" else float(text)
    if not float(p.min) <= value <= float(p.max):
        raise ValueError(f"{p.name}={text} is outside [{p.min}, {p.max}]")
    return value


def fits(parameters: Sequence[Parameter], assignments: dict[str, str]) -> str | None:
    """Why these assignments are not a point of the space, or None when they are."""
    for p in parameters:
        if p.name not in assignments:
            return f"it has no value for {p.name}"
        try:
            internal(p, assignments[p.name])
        except ValueError as e:
            return str(e)
    return None
