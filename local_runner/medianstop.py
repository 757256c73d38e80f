"""Katib's median stopping rule, applied to the metrics a running trial prints.

As in Katib: once `min_trials_required` trials have succeeded, the rule's value is the median,
over those trials, of the mean of each one's first `start_step` reports of the objective. A trial
gets the rule when it starts (Katib attaches rules at trial creation) and is stopped as soon as,
having printed the objective at least `start_step` times, its latest value is worse than the
median (greater when minimising, less when maximising).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from local_runner.plan import EarlyStopping


@dataclass(frozen=True)
class StoppingRule:
    median: float
    start_step: int
    minimize: bool

    def should_stop(self, series: list[float]) -> bool:
        if len(series) < self.start_step:
            return False
        latest = series[-1]
        return latest > self.median if self.minimize else latest < self.median


def early_average(series: list[float], start_step: int) -> float | None:
    head = series[:start_step]
    return sum(head) / len(head) if head else None


def current_rule(
    settings: EarlyStopping | None,
    succeeded_series: Iterable[list[float]],
    minimize: bool,
) -> StoppingRule | None:
    """The rule a trial starting now gets, or None when there is none yet."""
    if settings is None:
        return None
    averages = [
        average
        for series in succeeded_series
        if (average := early_average(series, settings.start_step)) is not None
    ]
    if len(averages) < settings.min_trials_required:
        return None
    return StoppingRule(statistics.median(averages), settings.start_step, minimize)
