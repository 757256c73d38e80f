"""Algorithm names and settings -> Optuna samplers, for a study rebuilt at every suggestion.

Two families of names: Katib's own (`random`, `tpe`, `cmaes`, ...), which `hpo tune --local`
plays the way Katib's services do, and this service's `hpo-*`. Settings arrive as Katib stores
them (strings) and have passed their rules, so parsing cannot fail on a reviewed definition.
Where Katib's service and Optuna differ, the Katib meaning wins: hyperopt's `gamma` is a fraction
of the square root of the number of trials, not Optuna's fraction of the trials.

Every sampler here reads all it needs from the trials of the study it is given, because the
study is rebuilt from the history for each suggestion: nothing is kept between requests. CMA-ES
would keep its state between generations, so it starts again at each suggestion, centred on the
best trial so far.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from functools import partial

from suggestion.settings import ALGORITHM_NAMES, DEFAULTS, KATIB_ALGORITHMS, RANDOM_STATE

# Katib algorithms whose searches are not a sequence of independent trials.
NO_EQUIVALENT = {
    "hyperband": "it resumes trials with a growing resource budget",
    "pbt": "it copies checkpoints between a population of trials",
    "enas": "it is a neural architecture search",
    "darts": "it is a neural architecture search",
}
GRID_ALGORITHMS = ("grid", "hpo-grid")
# Katib's algorithms that Optuna (or scipy's Sobol sequence) can play.
PLAYABLE = tuple(a for a in KATIB_ALGORITHMS if a not in NO_EQUIVALENT)


class UnsupportedAlgorithm(ValueError):
    """The algorithm, or one of its settings, has no equivalent here."""


def hyperopt_gamma(fraction: float, n: int) -> int:
    """hyperopt's split: the best ceil(gamma * sqrt(n)) trials are the 'good' ones (at most 25)."""
    return min(math.ceil(fraction * math.sqrt(n)), 25)


def base_seed(settings: Mapping[str, str]) -> int:
    return int(settings.get(RANDOM_STATE, "0"))


def suggestion_seed(settings: Mapping[str, str], history_length: int) -> int:
    """The seed of one suggestion: the same for the same setting and history, another for each
    further trial (so a rebuilt study does not draw the first trial's point again)."""
    return (base_seed(settings) * 1_000_003 + history_length * 7_919) % 2**32


def check_algorithm(algorithm: str, settings: Mapping[str, str]) -> None:
    """UnsupportedAlgorithm for what make_sampler cannot build; nothing else is refused here."""
    if algorithm in NO_EQUIVALENT:
        raise UnsupportedAlgorithm(
            f"algorithm '{algorithm}' has no equivalent here ({NO_EQUIVALENT[algorithm]}); "
            f"run it on a cluster, or use one of {', '.join(PLAYABLE)}"
        )
    if algorithm == "cmaes" and settings.get("restart_strategy", "none") != "none":
        raise UnsupportedAlgorithm(
            f"cmaes restart_strategy {settings['restart_strategy']} has no equivalent here "
            "(Optuna dropped IPOP and BIPOP restarts); remove the setting or run on a cluster"
        )
    if algorithm == "bayesianoptimization" and settings.get("base_estimator", "GP") != "GP":
        raise UnsupportedAlgorithm(
            f"bayesianoptimization with base_estimator {settings['base_estimator']} has no "
            "equivalent here; use GP (Optuna's Gaussian process)"
        )
    if algorithm not in ALGORITHM_NAMES:
        raise UnsupportedAlgorithm(
            f"unknown algorithm '{algorithm}'; use one of {', '.join(PLAYABLE)}"
        )


def make_sampler(
    algorithm: str,
    settings: Mapping[str, str],
    seed: int,
    finished: Sequence,
    best: Mapping | None = None,
):
    """The Optuna sampler that plays `algorithm` for one suggestion. `finished` are the study's
    completed trials and `best` the parameters of the best of them (CMA-ES starts from them)."""
    import optuna.samplers as samplers

    check_algorithm(algorithm, settings)
    values = {**DEFAULTS.get(algorithm, {}), **settings}
    if algorithm in ("random", "hpo-random", *GRID_ALGORITHMS):
        return samplers.RandomSampler(seed=seed)
    if algorithm == "tpe":
        # Katib's tpe is hyperopt's: 20 random startup trials, prior weight 1, 24 EI candidates.
        with warnings.catch_warnings():
            # Optuna deprecated gamma and prior_weight; they are exactly the hyperopt settings
            # Katib documents, so they are kept while they work.
            warnings.simplefilter("ignore", FutureWarning)
            return samplers.TPESampler(
                seed=seed,
                n_startup_trials=20,
                prior_weight=float(values.get("prior_weight", "1.0")),
                n_ei_candidates=int(values.get("n_EI_candidates", "24")),
                gamma=partial(hyperopt_gamma, float(values.get("gamma", "0.25"))),
            )
    if algorithm in ("multivariate-tpe", "hpo-tpe", "hpo-multivariate-tpe"):
        return samplers.TPESampler(
            seed=seed,
            multivariate=algorithm != "hpo-tpe",
            n_startup_trials=int(values.get("n_startup_trials", "10")),
            n_ei_candidates=int(values.get("n_ei_candidates", "24")),
            constant_liar=values.get("constant_liar", "true") == "true",
        )
    if algorithm in ("cmaes", "hpo-cmaes"):
        return _cmaes(values, seed, finished, best)
    if algorithm in ("bayesianoptimization", "hpo-gp"):
        # Katib's skopt calls its random start n_initial_points; ours is n_startup_trials.
        startup = values.get("n_startup_trials") or values.get("n_initial_points", "10")
        return samplers.GPSampler(seed=seed, n_startup_trials=int(startup))
    raise UnsupportedAlgorithm(f"unknown algorithm '{algorithm}'")


def _cmaes(values: Mapping[str, str], seed: int, finished: Sequence, best: Mapping | None):
    """A CMA-ES generation started afresh around the best trial so far (`sigma0` wide, else a
    sixth of the narrowest range): random until `n_startup_trials` have finished."""
    import optuna.samplers as samplers

    startup = int(values.get("n_startup_trials", "4"))
    if len(finished) < startup or best is None:
        return samplers.RandomSampler(seed=seed)
    sigma = values.get("sigma0") or values.get("sigma")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # categorical parameters are sampled independently
        return samplers.CmaEsSampler(
            x0=dict(best),
            sigma0=float(sigma) if sigma else None,
            seed=seed,
            n_startup_trials=0,
            warn_independent_sampling=False,
        )
