"""Every algorithm name a cluster knows, and the rules of the settings of this service's own.

Katib's own algorithms (`KATIB_ALGORITHMS`) and the ones this service adds (`ALGORITHMS`, all
named `hpo-*`) form the one list of names (`ALGORITHM_NAMES`) that `hpo check`, the rendered
Experiment's checks and the local runner read. The rules of Katib's own settings are Katib's
services', kept in `generator.checks.algorithms`.

Katib stores algorithm settings as strings; every rule parses the string the way the sampler
will, and a refused setting is named with the reason. The same rules run three times: in
`hpo check` (the generator reads them from here), in the service's ValidateAlgorithmSettings
before Katib creates the Suggestion, and never again, since a validated setting cannot fail.

Two settings are the generator's, not a person's: `objectives` (the directions of several
objectives; Katib's Experiment holds only one) and `warm_start_trials` (earlier experiments'
trials, rendered from their results). `suggestion.history` reads them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Rule = Callable[[str], "str | None"]

OBJECTIVES = "objectives"
WARM_START_TRIALS = "warm_start_trials"
RANDOM_STATE = "random_state"
# Successive halving: its home is suggestion.asha; the name is here, with the other names.
ASHA = "hpo-asha"

# Katib's own algorithms: the suggestion services of Katib's default katib-config.
KATIB_ALGORITHMS = (
    "random",
    "tpe",
    "grid",
    "hyperband",
    "bayesianoptimization",
    "cmaes",
    "sobol",
    "multivariate-tpe",
    "enas",
    "darts",
    "pbt",
)
# Katib's neural architecture searches: they search a nasConfig, not hyperparameters.
NAS_ALGORITHMS = ("enas", "darts")


def int_at_least(low: int, high: int | None = None, why: str = "") -> Rule:
    def check(value: str) -> str | None:
        try:
            number = int(value)
        except ValueError:
            return f"must be a whole number, got '{value}'"
        if number < low:
            return f"must be >= {low}, got {number}"
        if high is not None and number > high:
            return f"must be at most {high}{why}, got {number}"
        return None

    return check


def float_where(test: Callable[[float], bool], wanted: str) -> Rule:
    def check(value: str) -> str | None:
        try:
            number = float(value)
        except ValueError:
            return f"must be a number, got '{value}'"
        if not math.isfinite(number):
            return f"must be a finite number, got {value}"
        return None if test(number) else f"must be {wanted}, got {value}"

    return check


def one_of(*choices: str) -> Rule:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, got '{value}'"

    return check


def refused(why: str) -> Rule:
    return lambda value: why


def _checked_by_history(value: str) -> str | None:
    return None  # parsed, with the parameters at hand, by suggestion.history


# numpy seeds its generators with 0 .. 2**32 - 1.
SEED_RULE = int_at_least(0, 2**32 - 1, " (numpy's largest seed)")
_COMMON: dict[str, Rule] = {
    RANDOM_STATE: SEED_RULE,
    OBJECTIVES: _checked_by_history,
    WARM_START_TRIALS: _checked_by_history,
}
_TPE: dict[str, Rule] = {
    "n_startup_trials": int_at_least(0),
    "n_ei_candidates": int_at_least(1),
    "constant_liar": one_of("true", "false"),
}


@dataclass(frozen=True)
class Algorithm:
    """One of the service's algorithms: its settings and whether it takes several objectives."""

    settings: Mapping[str, Rule] = field(default_factory=dict)
    several_objectives: bool = True
    needs_continuous: int = 0  # int or double parameters it needs at least


ALGORITHMS: dict[str, Algorithm] = {
    "hpo-random": Algorithm(_COMMON),
    "hpo-grid": Algorithm(_COMMON),
    "hpo-tpe": Algorithm({**_COMMON, **_TPE}),
    "hpo-multivariate-tpe": Algorithm({**_COMMON, **_TPE}),
    # A Gaussian process over the parameters jointly (Optuna's GPSampler: Matern kernel, log
    # expected improvement, batches for running trials): the search that reached the best
    # trials soonest in benchmarks/local_search.py.
    "hpo-gp": Algorithm({**_COMMON, "n_startup_trials": int_at_least(1)}),
    # CMA-ES starts again at each request, centred on the best trial so far, so it needs
    # nothing stored between requests; it optimises one objective.
    "hpo-cmaes": Algorithm(
        {
            **_COMMON,
            "n_startup_trials": int_at_least(1),
            "sigma0": float_where(lambda s: s > 0, "> 0"),
        },
        several_objectives=False,
        needs_continuous=2,
    ),
    # Asynchronous successive halving over rungs of a full trial's optimizer steps
    # (suggestion.asha): configurations start at the lowest rung and the best third of each rung
    # goes on to the next. Promotion ranks one objective.
    ASHA: Algorithm(
        {
            **_COMMON,
            "reduction_factor": int_at_least(2),
            "rungs": int_at_least(2),
            "sampler": one_of("random", "tpe", "gp"),
        },
        several_objectives=False,
    ),
}
# Defaults chosen for the small budgets of LLM tuning (tens of trials, not hundreds).
DEFAULTS: dict[str, dict[str, str]] = {
    "hpo-tpe": {"n_startup_trials": "4", "n_ei_candidates": "24", "constant_liar": "true"},
    "hpo-multivariate-tpe": {
        "n_startup_trials": "4",
        "n_ei_candidates": "24",
        "constant_liar": "true",
    },
    "hpo-gp": {"n_startup_trials": "4"},
    "hpo-cmaes": {"n_startup_trials": "4"},
    # Rungs at 1/9, 1/3 and all of a full run's steps.
    ASHA: {"reduction_factor": "3", "rungs": "3", "sampler": "gp"},
}


def setting_problems(
    algorithm: str, settings: Mapping[str, str], continuous: int, objectives: int
) -> list[tuple[str | None, str]]:
    """(setting or None, message) for each setting, or each need of the algorithm, refused.
    A message about a setting starts with its name."""
    known = ALGORITHMS.get(algorithm)
    if known is None:
        return [(None, f"unknown algorithm '{algorithm}'; this service serves {names()}")]
    problems: list[tuple[str | None, str]] = []
    for name, value in settings.items():
        rule = known.settings.get(name)
        if rule is None:
            people = [n for n in known.settings if n not in (OBJECTIVES, WARM_START_TRIALS)]
            accepted = ", ".join(people) or "none"
            message = f"{name} is not a setting of {algorithm} (it accepts: {accepted})"
            problems.append((name, message))
        elif (message := rule(value)) is not None:
            problems.append((name, f"{name} {message}"))
    if objectives > 1 and not known.several_objectives:
        several = ", ".join(n for n, a in ALGORITHMS.items() if a.several_objectives)
        problems.append((None, f"{algorithm} optimises one objective; for several use {several}"))
    if continuous < known.needs_continuous:
        problems.append(
            (None, f"{algorithm} needs at least {known.needs_continuous} int or double parameters")
        )
    return problems


def names() -> str:
    return ", ".join(ALGORITHMS)


# What a cluster set up as docs/cluster-setup.md knows: Katib's algorithms and this service's,
# which argocd/katib-config-patch.yaml registers.
ALGORITHM_NAMES = KATIB_ALGORITHMS + tuple(ALGORITHMS)
