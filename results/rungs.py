"""What an hpo-asha experiment trained, against full runs of the same configurations: the sums
the report's savings line and results.yaml's `rungs` record are made of."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from suggestion.asha import Plan

if TYPE_CHECKING:
    from results.model import TrialResult


@dataclass(frozen=True)
class RungTotals:
    """What an hpo-asha experiment trained, against full runs of the same configurations."""

    configurations: int
    trained_steps: int  # every trial's own steps (a trial that reported none adds none)
    # One full run's steps: the steps a configuration that completed every rung trained, its
    # rungs added up (exactly what one uninterrupted run of it trains). None when no
    # configuration completed them all, or when those that did differ (a searched batch size).
    full_run_steps: int | None


def rung_totals(trials: Iterable[TrialResult], plan: Plan) -> RungTotals:
    by_config: dict[int, list[TrialResult]] = defaultdict(list)
    trained = 0
    for trial in trials:
        trained += trial.trained_steps or 0
        if trial.config is not None:
            by_config[trial.config].append(trial)
    full = set()
    for own in by_config.values():
        path = sorted(own, key=lambda t: t.rung)
        if [t.rung for t in path] == list(range(plan.rungs)) and all(
            t.status == "Succeeded" and t.trained_steps is not None for t in path
        ):
            full.add(sum(t.trained_steps for t in path))
    return RungTotals(len(by_config), trained, full.pop() if len(full) == 1 else None)
