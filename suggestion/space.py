"""A search parameter, the one model every part shares, and Katib's strings for its values.

Katib hands every bound, listed value and assignment around as a string, and the same strings
come back in the history. So the generator renders a `Parameter` into the Experiment, the
service and the local runner read it back from there, the sampler draws from it, and the
results type Katib's strings by it. Two functions cross between values and strings, and no
other code does: `katib_text` writes a value as Katib's string (floats as `repr`, which reads
back to the same float; booleans as Go and YAML spell them), and `Parameter.typed` reads one
back as the value it stands for.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Scalar = bool | int | float | str
LOG = "logUniform"
SUPPORTED_DISTRIBUTIONS = ("uniform", LOG)
RANGE_KINDS = ("double", "int")
CHOICE_KINDS = ("categorical", "discrete")
KINDS = RANGE_KINDS + CHOICE_KINDS


def katib_text(value: Scalar) -> str:
    """A value as Katib's string: ints plain, floats as `repr` (1e-05, 0.5, 3.0), booleans
    `true`/`false`, strings as they are. Numpy's numbers are written as Python's."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return str(value)


def _spellings(value: Scalar) -> set[str]:
    """The strings a listed value may come back as: ours, and Python's for booleans and floats."""
    if isinstance(value, bool):
        return {"true", "True", "TRUE"} if value else {"false", "False", "FALSE"}
    return {katib_text(value), str(value)}


def _finite(text: str) -> float | None:
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def katib_number(text: str, kind: str) -> int | float | None:
    """A Katib string as a `double` (a finite float) or an `int` (exact past 2**53, and Katib
    may write 16.0); None when it is not one."""
    number = _finite(text)
    if number is None or kind == "double":
        return number
    if not number.is_integer():
        return None
    return int(text) if text.strip().lstrip("+-").isdigit() else int(number)


@dataclass(frozen=True)
class Parameter:
    """One tuned value: its kind, bounds (numbers) and listed values. Listed values are the
    definition's own typed values, or Katib's strings when read from an Experiment (which keeps
    no types); either way `choices()` are the strings Katib stores."""

    name: str
    kind: str  # double | int | categorical | discrete
    min: int | float | None = None
    max: int | float | None = None
    step: int | float | None = None
    distribution: str = "uniform"
    values: tuple[Scalar, ...] = ()

    def __post_init__(self) -> None:
        bounds = (self.min, self.max, self.step)
        if self.kind in RANGE_KINDS and not all(
            b is None or isinstance(b, numbers.Real) and not isinstance(b, bool) for b in bounds
        ):
            raise TypeError(f"parameter {self.name}: bounds must be numbers, got {bounds}")

    @classmethod
    def from_katib(cls, entry: Mapping[str, Any]) -> Parameter:
        """An Experiment's `parameters` entry (`name`, `parameterType`, `feasibleSpace`, all
        Katib's strings); ValueError, naming the field, when a bound is not a number."""
        name, kind = entry["name"], entry["parameterType"]
        space = entry.get("feasibleSpace") or {}
        bounds = {}
        for key in ("min", "max", "step"):
            text = space.get(key)
            if text == "":  # Katib's protobuf says "" for unset
                text = None
            if text is not None and kind in RANGE_KINDS:
                number = katib_number(str(text), kind)
                if number is None:
                    raise ValueError(f"parameter {name}: feasibleSpace.{key} '{text}' is no {kind}")
                text = number
            bounds[key] = text
        return cls(
            name=name,
            kind=kind,
            distribution=space.get("distribution") or "uniform",
            values=tuple(space.get("list") or ()),
            **bounds,
        )

    def katib(self) -> dict[str, Any]:
        """This parameter as an Experiment's `parameters` entry."""
        if self.kind in CHOICE_KINDS:
            feasible: dict[str, Any] = {"list": self.choices(), "distribution": "uniform"}
        else:
            feasible = {
                "min": katib_text(self.min),
                "max": katib_text(self.max),
                "distribution": self.distribution,
            }
            if self.step is not None:
                feasible["step"] = katib_text(self.step)
        return {"name": self.name, "parameterType": self.kind, "feasibleSpace": feasible}

    def choices(self) -> list[str]:
        """The listed values as Katib stores them."""
        return [katib_text(v) for v in self.values]

    def text(self, value: Scalar) -> str:
        """A sampled value as Katib's string, as an int or a float by the parameter's kind."""
        if self.kind == "int":
            return katib_text(value if isinstance(value, numbers.Integral) else round(value))
        if self.kind == "double":
            return katib_text(float(value))
        return katib_text(value)

    def typed(self, text: str) -> Scalar:
        """The value a Katib string stands for: a float, an int (Katib may write 16.0), or the
        listed value it spells; ValueError, naming the parameter, when it stands for none."""
        if self.kind in RANGE_KINDS:
            number = katib_number(text, self.kind)
            if number is not None:
                return number
            if _finite(text) is None:
                raise ValueError(f"parameter {self.name}: {text!r} is not a number ({self.kind})")
            raise ValueError(f"parameter {self.name}: {text!r} is not an integer (int)")
        if self.kind not in CHOICE_KINDS:
            expected = ", ".join(KINDS)
            raise ValueError(
                f"parameter {self.name}: unknown search kind {self.kind!r} (expected {expected})"
            )
        if not self.values:
            raise ValueError(f"parameter {self.name}: {self.kind} search lists no values")
        for value in self.values:
            if text in _spellings(value):
                return value
        # Numbers may be spelled differently ("1e-05" for 1.0e-5); compare them as numbers.
        number = _finite(text)
        for value in self.values:
            if isinstance(value, int | float) and not isinstance(value, bool) and value == number:
                return value
        listed = ", ".join(repr(v) for v in self.values)
        raise ValueError(
            f"parameter {self.name}: {text!r} is not one of the listed values {listed}"
        )


def unsupported(parameters: Sequence[Parameter]) -> list[str]:
    """Why Optuna cannot sample a parameter the way Katib would; one message per parameter."""
    problems = []
    for p in parameters:
        if p.kind not in KINDS:
            problems.append(f"parameter {p.name}: unknown parameter type {p.kind}")
            continue
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
        int_unit_step = p.kind == "int" and p.step is not None and p.step == 1
        if p.distribution == LOG and p.step is not None and not int_unit_step:
            problems.append(
                f"parameter {p.name}: Optuna cannot combine logUniform with step "
                f"{katib_text(p.step)}; drop one of them"
            )
    return problems


def grid_points(low: float, high: float, step: float) -> int:
    """How many values Katib's grid takes from low to high inclusive, `step` apart."""
    return int(math.floor((high - low) / step + 1e-9)) + 1


def grid_values(p: Parameter) -> list[str]:
    """Every point Katib's grid visits for one parameter, as Katib strings."""
    if p.kind in CHOICE_KINDS:
        return p.choices()
    step = p.step if p.step is not None else 1
    count = grid_points(p.min, p.max, step)
    if p.kind == "int":
        return [katib_text(int(p.min) + i * int(step)) for i in range(count)]
    # round() keeps 0.1 + 2 * 0.1 from printing as 0.30000000000000004.
    return [katib_text(round(p.min + i * step, 12)) for i in range(count)]


def grid(parameters: Sequence[Parameter]) -> Iterator[dict[str, str]]:
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
        return CategoricalDistribution(p.choices())
    log = p.distribution == LOG
    if p.kind == "int":
        step = int(p.step) if p.step is not None else 1
        return IntDistribution(int(p.min), int(p.max), log=log, step=step)
    step = float(p.step) if p.step is not None else None
    return FloatDistribution(float(p.min), float(p.max), log=log, step=step)


def internal(p: Parameter, text: str):
    """A Katib string as the value `distribution(p)` holds; ValueError when it does not fit."""
    if p.kind in CHOICE_KINDS:
        if text not in p.choices():
            raise ValueError(f"{p.name}={text} is not one of {', '.join(p.choices())}")
        return text
    value = p.typed(text)
    if not p.min <= value <= p.max:
        raise ValueError(f"{p.name}={text} is outside [{katib_text(p.min)}, {katib_text(p.max)}]")
    return value


def fits(parameters: Sequence[Parameter], assignments: Mapping[str, str]) -> str | None:
    """Why these assignments are not a point of the space, or None when they are."""
    for p in parameters:
        if p.name not in assignments:
            return f"it has no value for {p.name}"
        try:
            internal(p, assignments[p.name])
        except ValueError as e:
            return str(e)
    return None
