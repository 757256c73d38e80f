"""The local door to the shared sampler (suggestion.sampling): this run's trials in, a point out.

A cluster's suggestion service sees the Experiment's Trials; here the same history comes from the
run's Optuna study (finished trials, by their Katib status and observed metrics) and the trials
running now. Both doors hand it to `suggestion.sampling.next_assignments`, so for the same
definition, seed and history the same parameters come out.
"""

from __future__ import annotations

from collections.abc import Iterable

from local_runner import study as keys
from local_runner.errors import UnsupportedLocallyError
from local_runner.plan import LocalPlan
from suggestion.history import (
    COMPLETE,
    FAILED,
    PRUNED,
    RUNNING,
    HistoryError,
    Objective,
    Observation,
    objectives_of,
    warm_start_of,
)
from suggestion.samplers import UnsupportedAlgorithm, check_algorithm
from suggestion.sampling import next_assignments
from suggestion.space import unsupported

_STATES = {"Succeeded": COMPLETE, "EarlyStopped": PRUNED}


def objectives(plan: LocalPlan) -> list[Objective]:
    return objectives_of(plan.algorithm_settings, plan.objective_metric, plan.objective_type)


def check_search(plan: LocalPlan) -> None:
    """Refuse, before anything starts, a search this machine cannot run the way Katib would."""
    problems = unsupported(plan.parameters)
    if problems:
        raise UnsupportedLocallyError(problems[0])
    try:
        check_algorithm(plan.algorithm, plan.algorithm_settings)
        objectives(plan)
        warm_start_of(plan.algorithm_settings)
    except (UnsupportedAlgorithm, HistoryError) as e:
        raise UnsupportedLocallyError(str(e)) from None


def history(finished_trials: Iterable, running: Iterable[dict[str, str]]) -> list[Observation]:
    """The run's trials as the sampler sees them: finished ones by their Katib status, then
    the ones running now. Interrupted trials are left out: they run again."""
    seen = []
    for trial in finished_trials:
        attrs = trial.user_attrs
        if keys.STATUS not in attrs or attrs.get(keys.INTERRUPTED):
            continue
        state = _STATES.get(attrs[keys.STATUS], FAILED)
        seen.append(Observation(attrs[keys.ASSIGNMENTS], state, attrs.get(keys.METRICS) or {}))
    seen += [Observation(assignments, RUNNING) for assignments in running]
    return seen


def next_point(plan: LocalPlan, seen: list[Observation]) -> dict[str, str] | None:
    """The next assignments to run; None when the search has no point left (a finished grid)."""
    points = next_assignments(
        plan.parameters, plan.algorithm, plan.algorithm_settings, objectives(plan), seen
    )
    return points[0] if points else None
