"""Search histories with a known answer, for tests that show what a setting does to a sampler.

The space is the usual LoRA pair: a log-uniform learning rate and an int rank. Losses depend on
the distance to a point the test chooses, so "nearer the best" has a meaning a test can assert.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence

from suggestion.history import COMPLETE, Objective, Observation
from suggestion.sampling import next_assignments
from suggestion.space import Parameter

LR = Parameter("learning_rate", "double", 1.0e-5, 1.0e-2, distribution="logUniform")
RANK = Parameter("r", "int", 4, 64)
SPACE = (LR, RANK)
LOSS = [Objective("eval_loss", "minimize")]
SEEDS = range(8)


def exponent(point: Mapping[str, str]) -> float:
    """log10 of the point's learning rate: where it lies in the log-uniform range (-5 .. -2)."""
    return math.log10(float(point["learning_rate"]))


def point(exp: float, rank: int) -> dict[str, str]:
    return {"learning_rate": LR.text(10**exp), "r": RANK.text(rank)}


def distance(a: Mapping[str, str], b: Mapping[str, str]) -> float:
    """How far apart two points are, in decades of learning rate and 30s of rank."""
    return math.hypot(exponent(a) - exponent(b), (int(a["r"]) - int(b["r"])) / 30)


def spread(n: int, best: tuple[float, int] = (-4.5, 48)) -> list[Observation]:
    """n finished trials spread over the space, scored by their distance to `best`."""
    trials = []
    for i in range(n):
        here = point(-5 + 3 * ((i * 7) % n + 0.5) / n, 4 + (i * 13) % 61)
        loss = distance(here, point(*best)) ** 2
        trials.append(Observation(here, COMPLETE, {"eval_loss": loss}))
    return trials


def best_of(history: Iterable[Observation]) -> dict[str, str]:
    return dict(min(history, key=lambda o: o.metrics["eval_loss"]).assignments)


def ask(
    algorithm: str,
    settings: Mapping[str, str],
    history: Sequence[Observation],
    seed: int,
    space: Sequence[Parameter] = SPACE,
) -> dict[str, str]:
    """The one next point, with `random_state` = seed."""
    [found] = next_assignments(
        space, algorithm, {"random_state": str(seed), **settings}, LOSS, history
    )
    return found


def asks(algorithm, settings, history, seeds=SEEDS, space=SPACE) -> list[dict[str, str]]:
    return [ask(algorithm, settings, history, seed, space) for seed in seeds]


def mean_distance(points: Iterable[Mapping[str, str]], target: Mapping[str, str]) -> float:
    return statistics.mean(distance(p, target) for p in points)
