"""The rung rule of `hpo-asha`: how far each rung trains, and where its checkpoint lives.

A configuration climbs rungs 0..R-1. Rung k trains up to optimizer step
`ceil(T / eta**(R-1-k))` of the full run's T steps (a fraction `eta**-(R-1-k)` of it), so the top
rung R-1 is the full run. A promoted configuration never starts again: its rung-k trial resumes the
checkpoint its rung-(k-1) trial left in `<checkpoint dir>/rung-<k-1>`, on one learning-rate
schedule of T steps, and a configuration that reaches the top rung has trained exactly the steps
one uninterrupted run trains.

This is the one home of the rule. Standard library only, like `trainer.catalog`: the trainer
applies it, the generator (what an experiment may cost at worst) and the benchmarks import it.
Bad values raise ValueError with the reason; each caller names the flag or key it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

MIN_RUNGS = 2  # a lowest rung and the full run
MIN_REDUCTION_FACTOR = 2
CHECKPOINT_PREFIX = "rung-"


def _require_int(name: str, value: object, minimum: int) -> int:
    # bool is an int to Python; a rung count of True is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def validate(rung: int, rungs: int, reduction_factor: int) -> None:
    """Raise ValueError unless `rung` is one of `rungs` rungs with a usable reduction factor."""
    _require_int("rungs", rungs, MIN_RUNGS)
    _require_int("reduction_factor", reduction_factor, MIN_REDUCTION_FACTOR)
    _require_int("rung", rung, 0)
    if rung >= rungs:
        raise ValueError(
            f"rung must be below rungs ({rungs}): rungs are 0..{rungs - 1}, got {rung}"
        )


def fraction(rung: int, rungs: int, reduction_factor: int) -> Fraction:
    """The share of the full run's optimizer steps that rung `rung` trains up to (exact)."""
    validate(rung, rungs, reduction_factor)
    return Fraction(1, reduction_factor ** (rungs - 1 - rung))


def stop_step(total_steps: int, rung: int, rungs: int, reduction_factor: int) -> int:
    """The optimizer step rung `rung` stops at: ceil(total_steps * fraction), in integers."""
    _require_int("total_steps", total_steps, 1)
    divisor = fraction(rung, rungs, reduction_factor).denominator
    return -(-total_steps // divisor)


def stop_steps(total_steps: int, rungs: int, reduction_factor: int) -> tuple[int, ...]:
    """The stop step of every rung, lowest first; the last is `total_steps`."""
    return tuple(stop_step(total_steps, k, rungs, reduction_factor) for k in range(rungs))


def min_total_steps(rungs: int, reduction_factor: int) -> int:
    """The fewest full-run steps for which every rung trains steps of its own: eta**(R-2) + 1.

    Rung k stops at ceil(a), a = T / eta**(R-1-k), and the rung above it at ceil(eta * a). For
    a > 1, eta * a > a + 1: the rung above stops at least one step later. Above the lowest rung
    a >= T / eta**(R-2), so with T > eta**(R-2) only the lowest rung may have a <= 1; it stops at
    step 1, and rung 1 at step 2 or later. With T <= eta**(R-2), rungs 0 and 1 both stop at step 1.
    """
    validate(0, rungs, reduction_factor)
    return reduction_factor ** (rungs - 2) + 1


def checkpoint_name(rung: int) -> str:
    """The folder, inside a configuration's checkpoint directory, that rung `rung` saves."""
    return f"{CHECKPOINT_PREFIX}{_require_int('rung', rung, 0)}"


@dataclass(frozen=True)
class Rung:
    """Rung `rung` of `rungs`, each rung `reduction_factor` times longer than the one below."""

    rung: int
    rungs: int
    reduction_factor: int

    def __post_init__(self) -> None:
        validate(self.rung, self.rungs, self.reduction_factor)

    @property
    def is_top(self) -> bool:
        """The top rung is the full run: nothing resumes it, so it saves no checkpoint."""
        return self.rung == self.rungs - 1

    def stop_step(self, total_steps: int) -> int:
        return stop_step(total_steps, self.rung, self.rungs, self.reduction_factor)
