"""Katib algorithm names and settings -> Optuna samplers.

Settings arrive as Katib stores them (strings) and have already passed the generator's checks
(generator.algorithms), so parsing here cannot fail on a reviewed definition. Where Katib's
service and Optuna differ, the Katib meaning wins: hyperopt's `gamma` is a fraction of the square
root of the number of trials, not Optuna's fraction of the trials.
"""

from __future__ import annotations

import math
import warnings
from functools import partial

from local_runner.errors import UnsupportedLocallyError
from local_runner.plan import Parameter

# Katib algorithms whose searches are not a sequence of independent trials.
NO_LOCAL_EQUIVALENT = {
    "hyperband": "it resumes trials with a growing resource budget",
    "pbt": "it copies checkpoints between a population of trials",
    "enas": "it is a neural architecture search",
    "darts": "it is a neural architecture search",
}
LOCAL_ALGORITHMS = (
    "random",
    "grid",
    "tpe",
    "multivariate-tpe",
    "cmaes",
    "sobol",
    "bayesianoptimization",
)


def hyperopt_gamma(fraction: float, n: int) -> int:
    """hyperopt's split: the best ceil(gamma * sqrt(n)) trials are the 'good' ones (at most 25)."""
    return min(math.ceil(fraction * math.sqrt(n)), 25)


def _seed(settings: dict[str, str]) -> int | None:
    value = settings.get("random_state")
    return int(value) if value is not None else None


def make_sampler(algorithm: str, settings: dict[str, str], parameters: tuple[Parameter, ...]):
    """The Optuna sampler that plays Katib's `algorithm` with `settings`."""
    import optuna
    import optuna.samplers as samplers

    if algorithm in NO_LOCAL_EQUIVALENT:
        raise UnsupportedLocallyError(
            f"algorithm '{algorithm}' has no local equivalent ({NO_LOCAL_EQUIVALENT[algorithm]}); "
            f"run it on a cluster, or use one of {', '.join(LOCAL_ALGORITHMS)}"
        )
    seed = _seed(settings)
    if algorithm == "random":
        return samplers.RandomSampler(seed=seed)
    if algorithm == "grid":
        # The scheduler queues the grid's points itself: Optuna's GridSampler revisits failed
        # points and ends its study from inside tell(), neither of which Katib does.
        return samplers.RandomSampler(seed=seed)
    if algorithm == "tpe":
        # Katib's tpe is hyperopt's: 20 random startup trials, prior weight 1, 24 EI candidates.
        gamma = float(settings.get("gamma", "0.25"))
        with warnings.catch_warnings():
            # Optuna 4.9 deprecated gamma and prior_weight (removal planned for 6.0); they are
            # exactly the hyperopt settings Katib documents, so they are kept while they work.
            warnings.simplefilter("ignore", FutureWarning)
            return samplers.TPESampler(
                seed=seed,
                n_startup_trials=20,
                prior_weight=float(settings.get("prior_weight", "1.0")),
                n_ei_candidates=int(settings.get("n_EI_candidates", "24")),
                gamma=partial(hyperopt_gamma, gamma),
            )
    if algorithm == "multivariate-tpe":
        return samplers.TPESampler(
            seed=seed,
            multivariate=True,
            n_startup_trials=int(settings.get("n_startup_trials", "10")),
            n_ei_candidates=int(settings.get("n_ei_candidates", "24")),
        )
    if algorithm == "cmaes":
        restart = settings.get("restart_strategy", "none")
        if restart != "none":
            raise UnsupportedLocallyError(
                f"cmaes restart_strategy {restart} has no local equivalent (Optuna dropped IPOP "
                "and BIPOP restarts); remove the setting or run on a cluster"
            )
        sigma = settings.get("sigma")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # sigma0: deprecated in Optuna 4.9
            return samplers.CmaEsSampler(
                seed=seed, sigma0=float(sigma) if sigma is not None else None
            )
    if algorithm == "sobol":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return samplers.QMCSampler(qmc_type="sobol", scramble=seed is not None, seed=seed)
    if algorithm == "bayesianoptimization":
        return _gaussian_process(settings, seed)
    raise UnsupportedLocallyError(
        f"unknown algorithm '{algorithm}'; use one of {', '.join(LOCAL_ALGORITHMS)}"
    )


def _gaussian_process(settings: dict[str, str], seed: int | None):
    """Katib's skopt Gaussian process as Optuna's GPSampler (log expected improvement)."""
    import optuna.samplers as samplers

    estimator = settings.get("base_estimator", "GP")
    if estimator != "GP":
        raise UnsupportedLocallyError(
            f"bayesianoptimization with base_estimator {estimator} has no local equivalent; "
            "use GP (Optuna's Gaussian process)"
        )
    return samplers.GPSampler(
        seed=seed, n_startup_trials=int(settings.get("n_initial_points", "10"))
    )
