"""Katib parameters as Optuna suggestions, and the strings a trial command receives.

Katib hands every assignment to the trial as a string; the same strings are substituted here, so
`learning_rate:float=${trialParameters.learning_rate}` reads the same in a pod and locally.
Categorical and discrete values are suggested as their Katib strings (the listed values), so the
Optuna storage shows exactly what the trial received.
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.algorithms import grid_points
from local_runner.errors import UnsupportedLocallyError
from local_runner.plan import Parameter

LOG = "logUniform"
SUPPORTED_DISTRIBUTIONS = ("uniform", LOG)


def check_parameters(parameters: Sequence[Parameter]) -> None:
    """Refuse what Optuna cannot sample the way Katib would, before any trial starts."""
    for p in parameters:
        if p.kind in ("categorical", "discrete"):
            if not p.values:
                raise UnsupportedLocallyError(f"parameter {p.name}: {p.kind} lists no values")
            continue
        if p.distribution not in SUPPORTED_DISTRIBUTIONS:
            raise UnsupportedLocallyError(
                f"parameter {p.name}: distribution {p.distribution} has no local equivalent; "
                "use uniform or logUniform"
            )
        int_unit_step = p.kind == "int" and p.step is not None and float(p.step) == 1
        if p.distribution == LOG and p.step is not None and not int_unit_step:
            raise UnsupportedLocallyError(
                f"parameter {p.name}: Optuna cannot combine logUniform with step {p.step}; "
                "drop one of them"
            )


def katib_text(kind: str, value: object) -> str:
    """A sampled value as the string Katib would substitute."""
    if kind == "int":
        return str(int(value))
    if kind == "double":
        return repr(float(value))
    return str(value)


def grid_values(p: Parameter) -> list[str]:
    """Every point Katib's grid visits for one parameter, as Katib strings."""
    if p.kind in ("categorical", "discrete"):
        return list(p.values)
    low, high = float(p.min), float(p.max)
    step = float(p.step) if p.step is not None else 1.0
    count = grid_points(low, high, step)
    if p.kind == "int":
        return [str(int(low) + i * int(step)) for i in range(count)]
    # round() keeps 0.1 + 2 * 0.1 from printing as 0.30000000000000004.
    return [repr(round(low + i * step, 12)) for i in range(count)]


def suggest(trial, p: Parameter, grid: bool) -> str:
    """Ask the trial's sampler for one parameter; return the Katib string."""
    if grid or p.kind in ("categorical", "discrete"):
        choices = grid_values(p) if grid else list(p.values)
        return str(trial.suggest_categorical(p.name, choices))
    log = p.distribution == LOG
    if p.kind == "int":
        step = int(float(p.step)) if p.step is not None else 1
        value = trial.suggest_int(p.name, int(float(p.min)), int(float(p.max)), step=step, log=log)
        return katib_text("int", value)
    step = float(p.step) if p.step is not None else None
    value = trial.suggest_float(p.name, float(p.min), float(p.max), step=step, log=log)
    return katib_text("double", value)
