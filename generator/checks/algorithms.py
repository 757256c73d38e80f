"""Katib's algorithm and early-stopping settings rules, checked before the cluster sees them.

Katib's webhook does not look at `algorithmSettings`; the suggestion service validates them only
once its Deployment is running, and then fails the whole Experiment. These are the same rules
(see Katib's hyperopt, optuna, goptuna, skopt, hyperband and pbt services), applied at review.
Settings are strings in Katib, so every rule parses the string the way the service does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from suggestion import settings as ours
from suggestion.settings import (
    KATIB_ALGORITHMS,
    NAS_ALGORITHMS,
    float_where,
    int_at_least,
    one_of,
    refused,
)
from suggestion.space import CHOICE_KINDS, RANGE_KINDS, Parameter, grid_points

# numpy seeds its generators with 0 .. 2**32 - 1: hyperopt, optuna and skopt accept a larger
# random_state when they validate it, then fail the Experiment when they first sample.
_RANDOM_STATE = {"random_state": ours.SEED_RULE}

# Per algorithm: setting name -> rule. Names outside the table are rejected, as the services do.
SETTINGS: dict[str, dict[str, Callable[[str], str | None]]] = {
    "random": _RANDOM_STATE,
    "grid": _RANDOM_STATE,
    # hyperopt's tpe and optuna's share the name; Katib's default config routes tpe to hyperopt.
    "tpe": {
        "gamma": float_where(lambda g: 0 < g < 1, "strictly between 0 and 1"),
        "prior_weight": float_where(lambda w: w > 0, "> 0"),
        "n_EI_candidates": int_at_least(1),
        **_RANDOM_STATE,
    },
    "multivariate-tpe": {
        "n_startup_trials": int_at_least(0),
        "n_ei_candidates": int_at_least(0),
        **_RANDOM_STATE,
    },
    # Katib routes cmaes to goptuna, which accepts restart strategies ipop, bipop and none and
    # seeds Go's generator with a 64-bit integer.
    "cmaes": {
        "restart_strategy": one_of("ipop", "bipop", "none"),
        "sigma": float_where(lambda s: s >= 0, ">= 0"),
        "random_state": int_at_least(0, 2**63 - 1, " (a 64-bit seed)"),
    },
    "sobol": {},
    "bayesianoptimization": {
        "base_estimator": one_of("GP", "RF", "ET", "GBRT"),
        "n_initial_points": int_at_least(0),
        "acq_func": one_of("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps"),
        "acq_optimizer": one_of("auto", "sampling", "lbfgs"),
        **_RANDOM_STATE,
    },
    "hyperband": {
        "r_l": float_where(lambda r: r > 0, "> 0"),
        "eta": float_where(lambda e: int(e) >= 2, "a whole number >= 2"),
        "resource_name": lambda value: None,  # checked against the parameters below
    },
    "pbt": {
        "suggestion_trial_dir": lambda value: None,
        "n_population": int_at_least(5),
        "truncation_threshold": float_where(lambda t: 0 <= t <= 1, "between 0 and 1"),
        # Katib's pbt service documents it, but its validation compares the setting's text with
        # a number, raises, and so fails every Experiment that sets it.
        "resample_probability": refused(
            "cannot be set: Katib's pbt service fails validating it (it compares the text with "
            "a number), which fails the Experiment; leave it out to perturb values by 0.8 or 1.2"
        ),
    },
}
REQUIRED_SETTINGS = {
    "hyperband": ("r_l", "resource_name"),
    "pbt": ("suggestion_trial_dir", "n_population", "truncation_threshold"),
}
EARLY_STOPPING_SETTINGS = {
    "min_trials_required": int_at_least(1),
    "start_step": int_at_least(1),
}


def check_settings(settings: dict[str, str], rules: dict, owner: str) -> list[tuple[str, str]]:
    """(setting name, message) for each setting the rules of `owner` (an algorithm) refuse.
    Each message starts with the setting's name."""
    problems = []
    for name, value in settings.items():
        rule = rules.get(name)
        if rule is None:
            allowed = ", ".join(r for r in rules if r != "resample_probability") or "none"
            problems.append((name, f"{name} is not a setting of {owner} (it accepts: {allowed})"))
        elif (message := rule(value)) is not None:
            problems.append((name, f"{name} {message}"))
    return problems


def check_algorithm(
    algorithm: str,
    settings: dict[str, str],
    parameters: list[Parameter],
    max_trial_count: int | None,
    parallel_trial_count: int,
    objectives: int = 1,
) -> list[tuple[str | None, str]]:
    """(setting name or None, message) for each way the suggestion service would fail. A
    message about a setting starts with its name; one about the algorithm names the fields.
    `objectives` counts the objectives the experiment optimises."""
    if algorithm in ours.ALGORITHMS:
        return _check_ours(algorithm, settings, parameters, max_trial_count, objectives)
    if objectives > 1:
        several = ", ".join(n for n, a in ours.ALGORITHMS.items() if a.several_objectives)
        return [(None, f"Katib's '{algorithm}' optimises one objective; for several use {several}")]
    if algorithm in NAS_ALGORITHMS:
        return [
            (
                None,
                f"'{algorithm}' is a neural architecture search algorithm; "
                "it cannot tune fine-tuning hyperparameters",
            )
        ]
    if algorithm not in SETTINGS:
        return [
            (
                None,
                f"unknown algorithm '{algorithm}'; Katib knows "
                f"{', '.join(a for a in KATIB_ALGORITHMS if a not in NAS_ALGORITHMS)}, and "
                f"this project's suggestion service {ours.names()}",
            )
        ]
    problems: list[tuple[str | None, str]] = list(
        check_settings(settings, SETTINGS[algorithm], algorithm)
    )
    for name in REQUIRED_SETTINGS.get(algorithm, ()):
        if name not in settings:
            problems.append((None, f"algorithm '{algorithm}' needs the setting '{name}'"))
    continuous = [p for p in parameters if p.kind in RANGE_KINDS]
    if algorithm == "cmaes" and len(continuous) < 2:
        problems.append((None, "cmaes needs at least two int or double parameters"))
    if algorithm == "grid":
        problems += _check_grid(parameters, max_trial_count)
    problems += _check_suggestion_space(algorithm, continuous)
    if algorithm == "hyperband" and not problems:  # its arithmetic needs valid settings
        problems += _check_hyperband(settings, parameters, parallel_trial_count)
    return problems


def _check_ours(algorithm, settings, parameters, max_trial_count, objectives):
    """The project's suggestion service (suggestion/): its own rules, and the two settings the
    generator writes, which a definition must not."""
    problems: list[tuple[str | None, str]] = [
        (name, f"{name} is written by the generator (from {GENERATED[name]}); remove it")
        for name in settings
        if name in GENERATED
    ]
    given = {k: v for k, v in settings.items() if k not in GENERATED}
    continuous = sum(p.kind in RANGE_KINDS for p in parameters)
    problems += ours.setting_problems(algorithm, given, continuous, objectives)
    for p in parameters:
        if p.distribution in ("normal", "logNormal"):
            problems.append(
                (
                    None,
                    f"{algorithm} samples uniform and logUniform only; '{p.name}' uses "
                    f"{p.distribution}",
                )
            )
    if algorithm == "hpo-grid":
        problems += _check_grid(parameters, max_trial_count)
    return problems


# What the generator writes into an hpo- algorithm's settings, and from which key.
GENERATED = {ours.OBJECTIVES: "objectives", ours.WARM_START_TRIALS: "warm_start"}


# Katib routes grid and multivariate-tpe to its optuna service and bayesianoptimization to skopt;
# both sample only uniform and log-uniform spaces (skopt refuses the others when it starts).
UNIFORM_ONLY = ("grid", "multivariate-tpe", "bayesianoptimization")
INT64_MAX = 2**63 - 1


def _check_suggestion_space(algorithm: str, continuous: list[Parameter]):
    """What the suggestion services reject only once the Experiment runs."""
    problems = []
    for p in continuous:
        if p.kind == "int" and max(abs(p.min), abs(p.max)) > INT64_MAX:
            problems.append((None, f"'{p.name}' bounds do not fit a 64-bit integer"))
        if algorithm in UNIFORM_ONLY and p.distribution in ("normal", "logNormal"):
            problems.append(
                (
                    None,
                    f"{algorithm} samples only uniform and logUniform; "
                    f"'{p.name}' uses {p.distribution}",
                )
            )
        if algorithm == "bayesianoptimization" and p.kind == "double" and p.min <= 0:
            problems.append(
                (
                    None,
                    f"bayesianoptimization samples doubles on a log scale: "
                    f"'{p.name}' needs min > 0",
                )
            )
        if algorithm == "pbt" and p.kind == "double" and p.step is None:
            problems.append((None, f"pbt needs a step for double parameter '{p.name}'"))
    return problems


def grid_size(parameters: list[Parameter]) -> int | None:
    """How many points a grid search visits; None when a double has no step."""
    total = 1
    for p in parameters:
        if p.kind in CHOICE_KINDS:
            total *= len(p.values)
        elif p.step is None and p.kind == "double":
            return None
        else:
            total *= grid_points(p.min, p.max, p.step or 1)
    return total


def _check_grid(parameters, max_trial_count):
    problems = []
    for p in parameters:
        if p.kind == "double" and p.step is None:
            problems.append((None, f"grid search needs a step for double parameter '{p.name}'"))
    size = grid_size(parameters)
    if size is not None and max_trial_count is not None and max_trial_count > size:
        problems.append(
            (None, f"max_trial_count {max_trial_count} is more than the {size} points of the grid")
        )
    return problems


def _check_hyperband(settings, parameters, parallel_trial_count):
    problems = []
    if settings["resource_name"] not in {p.name for p in parameters}:
        problems.append(("resource_name", "resource_name must name one of the tuned parameters"))
    r_l = float(settings["r_l"])
    eta = int(float(settings.get("eta", "3"))) if float(settings.get("eta", "3")) > 0 else 3
    if r_l >= 1 and eta >= 2:
        s_max = int(math.log(r_l) / math.log(eta))
        needed = math.ceil(eta**s_max)
        if parallel_trial_count < needed:
            problems.append(
                (
                    None,
                    f"hyperband with r_l={settings['r_l']} and eta={eta} needs "
                    f"parallel_trial_count >= {needed}",
                )
            )
    return problems
