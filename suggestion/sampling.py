"""The next parameters to try, from a search space and the trials seen so far.

The one place suggestions are made, for the service (a Katib cluster) and for `hpo tune --local`
alike: the same space, algorithm, settings and history give the same parameters through either
door. Each suggestion rebuilds an in-memory Optuna study from the history (warm-start trials
first, then the experiment's own, each in a stable order), seeds the sampler from `random_state`
and the history's length, and asks once. Asking for several at once is asking one at a time,
each earlier suggestion joining the history as a running trial, so a batch equals a sequence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from suggestion.history import (
    COMPLETE,
    FAILED,
    PRUNED,
    RUNNING,
    Objective,
    Observation,
    warm_start_of,
)
from suggestion.samplers import GRID_ALGORITHMS, base_seed, make_sampler, suggestion_seed
from suggestion.settings import ASHA
from suggestion.space import CHOICE_KINDS, LOG, Parameter, distribution, grid, internal


def next_assignments(
    parameters: Sequence[Parameter],
    algorithm: str,
    settings: Mapping[str, str],
    objectives: Sequence[Objective],
    history: Sequence[Observation],
    count: int = 1,
) -> list[dict[str, str]]:
    """Up to `count` assignments (Katib strings); fewer only when a grid has run out."""
    if algorithm == ASHA:
        # Successive halving decides between promoting and starting a configuration; it draws
        # new configurations with sample_point below (imported here: it imports this module).
        from suggestion.asha import asha_assignments

        return asha_assignments(parameters, settings, objectives, history, count)
    if algorithm in GRID_ALGORITHMS:
        return _grid_points(parameters, history, count)
    if algorithm == "sobol":
        return [_sobol_point(parameters, settings, len(history) + i) for i in range(count)]
    seen = [*warm_start_of(settings), *sorted(history, key=Observation.key)]
    suggested: list[dict[str, str]] = []
    for _ in range(count):
        pending = [Observation(a, RUNNING) for a in suggested]
        point = sample_point(parameters, algorithm, settings, objectives, seen + pending)
        suggested.append(point)
    return suggested


def _grid_points(parameters, history, count) -> list[dict[str, str]]:
    """The next grid points no trial has taken, in Katib's order."""
    taken = {tuple(sorted(o.assignments.items())) for o in history}
    points = []
    for point in grid(parameters):
        if len(points) == count:
            break
        if tuple(sorted(point.items())) not in taken:
            points.append(point)
    return points


def _sobol_point(parameters, settings, index: int) -> dict[str, str]:
    """Point `index` of one scrambled Sobol sequence per experiment (seeded by random_state)."""
    import math

    from scipy.stats import qmc

    engine = qmc.Sobol(d=len(parameters), scramble=True, seed=base_seed(settings))
    if index:  # scipy refuses to skip no points
        engine.fast_forward(index)
    point = {}
    for p, u in zip(parameters, engine.random(1)[0], strict=True):
        if p.kind in CHOICE_KINDS:
            choices = p.choices()
            point[p.name] = choices[min(int(u * len(choices)), len(choices) - 1)]
            continue
        low, high = float(p.min), float(p.max)
        if p.distribution == LOG:
            value = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        else:
            value = low + u * (high - low)
        if p.step is not None:
            value = low + round((value - low) / float(p.step)) * float(p.step)
        point[p.name] = p.text(value)
    return point


def sample_point(
    parameters, algorithm, settings, objectives, history, seed: int | None = None
) -> dict[str, str]:
    """One point from an Optuna study rebuilt from `history` (in the order given), sampled by
    `algorithm`; seeded by `seed`, else by `random_state` and the history's length."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {p.name: distribution(p) for p in parameters}
    # Optuna's Gaussian process learns from finished trials only; to hpo-gp a trial stopped
    # early is finished at the value it was stopped at, or the search would try its
    # neighbourhood again. (Katib's bayesianoptimization, played locally, learns as Katib's does.)
    stopped_as = COMPLETE if algorithm == "hpo-gp" and len(objectives) == 1 else PRUNED
    trials = [
        t for o in history if (t := _frozen(o, parameters, distributions, objectives, stopped_as))
    ]
    finished = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    sampler = make_sampler(
        algorithm,
        settings,
        suggestion_seed(settings, len(history)) if seed is None else seed,
        finished,
        _best(finished, objectives),
    )
    study = optuna.create_study(directions=[o.type for o in objectives], sampler=sampler)
    for trial in trials:
        study.add_trial(trial)
    asked = study.ask(fixed_distributions=distributions)
    return {p.name: p.text(asked.params[p.name]) for p in parameters}


def _frozen(observation, parameters, distributions, objectives, stopped_as=PRUNED):
    """The observation as an Optuna trial; None when it is not a point of this space. A trial
    stopped early with its objective reported becomes `stopped_as` (PRUNED or COMPLETE)."""
    from optuna.trial import TrialState, create_trial

    try:
        params = {p.name: internal(p, observation.assignments[p.name]) for p in parameters}
    except (KeyError, ValueError):
        return None
    metrics = observation.metrics
    values = [metrics.get(o.metric) for o in objectives]
    state = observation.state
    # Where a trial stopped early stood when it was stopped (one objective only: Optuna keeps
    # one intermediate value per step).
    stopped_at = values[0] if state == PRUNED and len(values) == 1 else None
    if stopped_at is not None:
        state = stopped_as
    if state == COMPLETE and any(v is None for v in values):
        state = FAILED  # succeeded without reporting an objective: nothing to learn from
    if state == COMPLETE:
        return create_trial(
            params=params, distributions=distributions, values=values, state=TrialState.COMPLETE
        )
    return create_trial(
        params=params,
        distributions=distributions,
        intermediate_values={0: stopped_at} if stopped_at is not None else {},
        state={PRUNED: TrialState.PRUNED, RUNNING: TrialState.RUNNING}.get(state, TrialState.FAIL),
    )


def _best(finished, objectives) -> Mapping | None:
    """The parameters of the best finished trial by the first objective."""
    if not finished:
        return None
    sign = 1 if objectives[0].type == "minimize" else -1
    return min(finished, key=lambda t: sign * t.values[0]).params
