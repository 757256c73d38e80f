"""`hpo-asha`: asynchronous successive halving over rungs of a full trial's optimizer steps.

Rung k of R trains a configuration to 1/eta**(R-1-k) of a full run's steps (the trainer's
`trainer.rungs` says at which step exactly), resuming from where rung k-1 left it. Each time Katib
asks for a trial, the policy looks at rungs R-2 down to 0: at rung k the configurations with a
finished result are ranked by the objective, the best floor(n_k / eta) are promotable, and the
best of those with no trial at rung k+1 yet (in any state) is promoted: the same
hyperparameters, one rung up. With nothing to promote, a new configuration starts at rung 0,
drawn by `sampler`; as BOHB does, its model is fitted on the highest rung with at least one more
finished result than there are searched parameters (at least 2), else it is drawn at random.
Nobody waits for a rung to fill, so no worker idles (Li et al., "A System for Massively Parallel
Hyperparameter Tuning", 2020).

Nothing is kept between requests: two parameters the generator adds to the Experiment carry the
rungs in the trials themselves. RUNG_PARAMETER is the rung a trial trains to and CONFIG_PARAMETER
the configuration it continues (ids in creation order). The sampler never sees them.
Warm-start trials (earlier experiments' full runs) join the model as top-rung results and are
never promoted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from suggestion.history import COMPLETE, PRUNED, RUNNING, Objective, Observation, warm_start_of
from suggestion.samplers import UnsupportedAlgorithm, suggestion_seed
from suggestion.sampling import sample_point
from suggestion.settings import ASHA, DEFAULTS, RANDOM_STATE
from suggestion.space import Parameter

RUNG_PARAMETER = "hpo_rung"
CONFIG_PARAMETER = "hpo_config"
RESERVED = (RUNG_PARAMETER, CONFIG_PARAMETER)
# The `sampler` setting -> the algorithm that draws new configurations.
SAMPLERS = {"random": "hpo-random", "tpe": "hpo-tpe", "gp": "hpo-gp"}


@dataclass(frozen=True)
class Plan:
    """The settings as numbers: eta, the number of rungs, the algorithm of new configurations."""

    reduction_factor: int
    rungs: int
    sampler: str

    @classmethod
    def of(cls, settings: Mapping[str, str]) -> Plan:
        values = {**DEFAULTS[ASHA], **settings}
        return cls(int(values["reduction_factor"]), int(values["rungs"]), values["sampler"])


@dataclass(frozen=True)
class RungTrial:
    """One trial of the experiment, placed: its configuration, rung, state and objective."""

    config: int
    rung: int
    assignments: Mapping[str, str]  # the searched parameters only
    state: str
    value: float | None  # the objective, reported

    @property
    def finished(self) -> bool:
        return self.state in (COMPLETE, PRUNED) and self.value is not None


def searched(parameters: Sequence[Parameter]) -> list[Parameter]:
    """The parameters the sampler draws: all but the two the policy sets."""
    return [p for p in parameters if p.name not in RESERVED]


def space_problems(parameters: Sequence[Parameter], settings: Mapping[str, str]) -> list[str]:
    """What the Experiment must declare for hpo-asha and does not, one message per parameter."""
    by_name = {p.name: p for p in parameters}
    problems = []
    try:
        rungs = Plan.of(settings).rungs
    except ValueError:
        rungs = None  # the setting's own rule reports it
    rung = by_name.get(RUNG_PARAMETER)
    wanted = [str(k) for k in range(rungs)] if rungs is not None else None
    if rung is None or rung.kind != "categorical":
        problems.append(
            f"parameter {RUNG_PARAMETER}: hpo-asha needs it, categorical, listing the rungs"
        )
    elif wanted is not None and list(rung.values) != wanted:
        problems.append(
            f"parameter {RUNG_PARAMETER} must list {', '.join(wanted)} (rungs is {rungs}), "
            f"got {', '.join(rung.values) or 'nothing'}"
        )
    config = by_name.get(CONFIG_PARAMETER)
    if config is None or config.kind != "int" or config.min != 0:
        problems.append(
            f"parameter {CONFIG_PARAMETER}: hpo-asha needs it, an int from 0 to "
            "max_trial_count - 1 (the configuration's id)"
        )
    if not searched(parameters):
        problems.append("hpo-asha needs a parameter to search besides hpo_rung and hpo_config")
    return problems


def placed(history: Sequence[Observation], names: Sequence[str], metric: str) -> list[RungTrial]:
    """The trials that carry a rung and a configuration id, in a stable order; the others (none
    the policy made) say nothing about rungs and are left out."""
    trials = []
    for o in sorted(history, key=Observation.key):
        try:
            rung, config = int(o.assignments[RUNG_PARAMETER]), int(o.assignments[CONFIG_PARAMETER])
        except (KeyError, ValueError):
            continue
        if any(name not in o.assignments for name in names):
            continue
        values = {name: o.assignments[name] for name in names}
        trials.append(RungTrial(config, rung, values, o.state, o.metrics.get(metric)))
    return trials


def _results(trials: Sequence[RungTrial], rung: int, sign: int) -> list[RungTrial]:
    """The finished results of a rung, best first, one per configuration (ties by id)."""
    best: dict[int, RungTrial] = {}
    for t in trials:
        if t.rung == rung and t.finished:
            kept = best.get(t.config)
            if kept is None or sign * t.value < sign * kept.value:
                best[t.config] = t
    return sorted(best.values(), key=lambda t: (sign * t.value, t.config))


def promotion(trials: Sequence[RungTrial], plan: Plan, sign: int) -> RungTrial | None:
    """The result to promote one rung up, the highest rung first; None when there is none.
    `sign` is 1 when minimising, -1 when maximising."""
    for rung in range(plan.rungs - 2, -1, -1):
        ranked = _results(trials, rung, sign)
        above = {t.config for t in trials if t.rung == rung + 1}
        for t in ranked[: len(ranked) // plan.reduction_factor]:
            if t.config not in above:
                return t
    return None


def new_configuration(
    parameters: Sequence[Parameter],
    settings: Mapping[str, str],
    objective: Objective,
    trials: Sequence[RungTrial],
    warm: Sequence[Observation],
    plan: Plan,
    config: int,
) -> dict[str, str]:
    """The searched parameters of configuration `config`, drawn by the sampler fitted on the
    highest rung with enough results (warm-start trials count as top-rung results)."""
    space = searched(parameters)
    enough = max(2, len(space) + 1)
    sign = 1 if objective.type == "minimize" else -1
    seen: list[Observation] = []
    for rung in range(plan.rungs - 1, -1, -1):
        top = list(warm) if rung == plan.rungs - 1 else []
        top += [
            Observation(t.assignments, COMPLETE, {objective.metric: t.value})
            for t in _results(trials, rung, sign)
        ]
        if len(top) >= enough:
            seen = top
            break
    # A configuration without a result on the model's rung is on its way there (running, or
    # waiting at a lower rung for a promotion that may come) or failed: a running trial to the
    # model, so that it is not drawn again (BOHB's model would keep drawing what never got
    # that far: the model cannot see it).
    # Each point once: on a grid many configurations share one, and the model's cost grows
    # with the running trials.
    points = {_point(o.assignments) for o in seen}
    running = []
    for t in trials:
        if (point := _point(t.assignments)) not in points:
            points.add(point)
            running.append(Observation(t.assignments, RUNNING))
    algorithm = SAMPLERS[plan.sampler] if seen else "hpo-random"
    inner = {RANDOM_STATE: settings.get(RANDOM_STATE, "0"), "n_startup_trials": str(enough)}
    # Seeded by the configuration's id: each configuration is drawn once, with its own seed.
    seed = suggestion_seed(settings, config)
    return sample_point(space, algorithm, inner, [objective], seen + running, seed)


def _point(assignments: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(assignments.items()))


def asha_assignments(
    parameters: Sequence[Parameter],
    settings: Mapping[str, str],
    objectives: Sequence[Objective],
    history: Sequence[Observation],
    count: int = 1,
) -> list[dict[str, str]]:
    """`count` trials to create (Katib strings, in the Experiment's parameter order), each a
    promotion or a new configuration; each earlier one joins the history as running, so a
    batch equals a sequence."""
    if len(objectives) != 1:
        raise UnsupportedAlgorithm("hpo-asha ranks one objective; it cannot optimise several")
    [objective] = objectives
    problems = space_problems(parameters, settings)
    if problems:
        raise UnsupportedAlgorithm(problems[0])
    plan = Plan.of(settings)
    sign = 1 if objective.type == "minimize" else -1
    names = [p.name for p in searched(parameters)]
    trials = placed(history, names, objective.metric)
    warm = warm_start_of(settings)
    suggested = []
    for _ in range(count):
        chosen = promotion(trials, plan, sign)
        if chosen is not None:
            config, rung, values = chosen.config, chosen.rung + 1, dict(chosen.assignments)
        else:
            config = max((t.config for t in trials), default=-1) + 1
            rung = 0
            values = new_configuration(parameters, settings, objective, trials, warm, plan, config)
        trials.append(RungTrial(config, rung, values, RUNNING, None))
        point = {**values, RUNG_PARAMETER: str(rung), CONFIG_PARAMETER: str(config)}
        suggested.append({p.name: point[p.name] for p in parameters})
    return suggested
