"""Each algorithm's settings reach its sampler and change what it suggests.

Every test asks the shared sampler (`suggestion.sampling.next_assignments`, which the service and
`hpo tune --local` both call) with the same history and seeds and a setting at two values, and
asserts the change the setting exists for. Were the setting lost on its way to the sampler, the
two answers would be the same and the test would fail. Histories are long enough for the models
to act: past the random start, and past Katib's tpe's 20 random trials.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest

from generator.checks.algorithms import SETTINGS as KATIB_SETTINGS
from suggestion.history import COMPLETE, RUNNING, Observation
from suggestion.samplers import NO_EQUIVALENT
from suggestion.settings import ALGORITHMS, KATIB_ALGORITHMS, OBJECTIVES, WARM_START_TRIALS
from suggestion.space import Parameter
from tests.suggestion.histories import (
    LR,
    asks,
    best_of,
    exponent,
    mean_distance,
    spread,
)

EIGHT = spread(8)
THIRTY = spread(30)
# Optuna's Gaussian process fits in torch: one seed keeps these tests quick, and its acquisition
# optimum does not depend on the seed anyway.
GP = ("hpo-gp", "bayesianoptimization")


def _seeds(algorithm: str) -> range:
    return range(1) if algorithm in GP else range(4)


class TestRandomStart:
    """The random start lasts exactly as many finished trials as the setting says."""

    @pytest.mark.parametrize(
        ("algorithm", "setting"),
        [
            ("hpo-tpe", "n_startup_trials"),
            ("hpo-multivariate-tpe", "n_startup_trials"),
            ("multivariate-tpe", "n_startup_trials"),
            ("hpo-gp", "n_startup_trials"),
            ("hpo-cmaes", "n_startup_trials"),
            ("bayesianoptimization", "n_initial_points"),
        ],
    )
    def test_the_model_takes_over_after_the_startup_trials(self, algorithm, setting):
        seeds = _seeds(algorithm)
        random = asks("hpo-random", {}, EIGHT, seeds)
        # Eight finished trials: a start of nine is still random, the random sampler's own draws.
        assert random == asks(algorithm, {setting: "9"}, EIGHT, seeds)
        # A start of four is over: every point is the model's, and nearer the best trial.
        guided = asks(algorithm, {setting: "4"}, EIGHT, seeds)
        assert all(g != r for g, r in zip(guided, random, strict=True))
        best = best_of(EIGHT)
        assert mean_distance(guided, best) < mean_distance(random, best)


class TestExpectedImprovementCandidates:
    """TPE draws candidates from its model of the good trials and keeps the one with the best
    expected improvement: with more candidates, the point it keeps lies nearer the best."""

    @pytest.mark.parametrize(
        ("algorithm", "setting"),
        [
            ("tpe", "n_EI_candidates"),
            ("multivariate-tpe", "n_ei_candidates"),
            ("hpo-tpe", "n_ei_candidates"),
            ("hpo-multivariate-tpe", "n_ei_candidates"),
        ],
    )
    def test_more_candidates_land_nearer_the_best(self, algorithm, setting):
        best = best_of(THIRTY)
        one = mean_distance(asks(algorithm, {setting: "1"}, THIRTY), best)
        many = mean_distance(asks(algorithm, {setting: "100"}, THIRTY), best)
        assert many < one / 2


def _two_good_places() -> list[Observation]:
    """30 trials of the learning rate alone: the best at 10^-4.8, the five next best close
    together at 10^-2.5, the rest poor and spread over the range."""

    def tried(exp: float, loss: float) -> Observation:
        return Observation({"learning_rate": LR.text(10**exp)}, COMPLETE, {"eval_loss": loss})

    trials = [tried(-4.8, 0.0)]
    trials += [tried(-2.5 + d, 0.05 + 0.01 * i) for i, d in enumerate((-0.1, -0.05, 0, 0.05, 0.1))]
    trials += [tried(-5 + 3 * (i + 0.5) / 24, 1.0 + 0.01 * i) for i in range(24)]
    return trials


class TestHyperoptTpe:
    """Katib's tpe is hyperopt's: `gamma` decides how many trials count as good (the best
    ceil(gamma * sqrt(n))), `prior_weight` how much a wide prior is mixed into their model."""

    HISTORY = _two_good_places()

    def _points(self, settings) -> list[float]:
        """Where 16 seeds' suggestions lie, in decades from the cluster of five."""
        points = asks("tpe", settings, self.HISTORY, range(16), space=[LR])
        return [abs(exponent(p) + 2.5) for p in points]

    def test_gamma_counts_more_trials_as_good(self):
        # 0.05 * sqrt(30) makes one good trial, the best alone; 0.95 makes five, most of them
        # in the cluster, which then draws every suggestion.
        assert all(away > 0.4 for away in self._points({"gamma": "0.05"}))
        assert all(away < 0.4 for away in self._points({"gamma": "0.95"}))

    def test_a_heavier_prior_draws_further_from_the_good_trials(self):
        # One candidate: the suggestion is a draw from the good trials' model itself.
        settings = {"gamma": "0.95", "n_EI_candidates": "1"}
        light = sum(self._points({**settings, "prior_weight": "0.01"}))
        heavy = sum(self._points({**settings, "prior_weight": "100"}))
        assert heavy > 1.5 * light


class TestConstantLiar:
    """With `constant_liar`, trials still running count as poor ones, so parallel trials are
    not sent to the point a running trial already tries."""

    @pytest.mark.parametrize("algorithm", ["hpo-tpe", "hpo-multivariate-tpe"])
    def test_running_trials_push_the_next_point_away(self, algorithm):
        finished = [
            Observation(
                {"learning_rate": LR.text(10**exp)}, COMPLETE, {"eval_loss": (exp + 4) ** 2}
            )
            for exp in (-5 + 3 * (i + 0.5) / 12 for i in range(12))
        ]
        best = best_of(finished)
        history = finished + [Observation(best, RUNNING)] * 3

        def away(liar: str) -> float:
            points = asks(algorithm, {"constant_liar": liar}, history, space=[LR])
            return sum(abs(exponent(p) - exponent(best)) for p in points) / len(points)

        assert away("true") > 2 * away("false")


class TestCmaesStepSize:
    """CMA-ES samples around the best trial with an initial standard deviation of `sigma0`
    (Katib's `sigma`): a small one stays close, a large one looks far."""

    @pytest.mark.parametrize(
        ("algorithm", "setting"), [("hpo-cmaes", "sigma0"), ("cmaes", "sigma")]
    )
    def test_a_small_step_stays_near_the_best(self, algorithm, setting):
        best = best_of(EIGHT)
        near = mean_distance(asks(algorithm, {setting: "0.02"}, EIGHT), best)
        far = mean_distance(asks(algorithm, {setting: "1.0"}, EIGHT), best)
        assert near < far / 5


PLAYABLE = [a for a in KATIB_ALGORITHMS if a not in NO_EQUIVALENT]
SEEDED = [a for a in (*ALGORITHMS, *PLAYABLE) if a not in ("grid", "hpo-grid")]


class TestRandomState:
    """`random_state` picks the draws: the same seed, the same points; another, others."""

    @pytest.mark.parametrize("algorithm", SEEDED)
    def test_another_seed_other_points(self, algorithm):
        seeds = _seeds(algorithm)
        history = EIGHT if algorithm not in GP else EIGHT[:2]  # random start: quick
        assert asks(algorithm, {}, history, seeds) == asks(algorithm, {}, history, seeds)
        moved = [s + 100 for s in seeds]
        assert asks(algorithm, {}, history, seeds) != asks(algorithm, {}, history, moved)

    @pytest.mark.parametrize("algorithm", ["grid", "hpo-grid"])
    def test_a_grid_has_nothing_to_draw(self, algorithm):
        space = [Parameter("r", "int", 1, 3)]
        assert asks(algorithm, {}, [], [0], space) == asks(algorithm, {}, [], [7], space)


# Every setting a definition may give a played algorithm, and the test above that shows it act.
SHOWN = {
    "random_state": TestRandomState,
    "n_startup_trials": TestRandomStart,
    "n_initial_points": TestRandomStart,
    "n_ei_candidates": TestExpectedImprovementCandidates,
    "n_EI_candidates": TestExpectedImprovementCandidates,
    "gamma": TestHyperoptTpe,
    "prior_weight": TestHyperoptTpe,
    "constant_liar": TestConstantLiar,
    "sigma0": TestCmaesStepSize,
    "sigma": TestCmaesStepSize,
}
# Settings that are not the sampler's to act on, and where their behaviour is shown instead.
NOT_THE_SAMPLERS = {
    OBJECTIVES: "tests/local_runner/test_search_extensions.py (the Pareto front)",
    WARM_START_TRIALS: "tests/suggestion/test_warm_start.py",
    # Played locally only as Optuna can: anything else is refused (tests/suggestion/test_samplers)
    "restart_strategy": "refused locally unless none",
    "base_estimator": "refused locally unless GP",
    # skopt's acquisition settings have no Optuna counterpart; docs/local-runner.md says so.
    "acq_func": "not honoured locally",
    "acq_optimizer": "not honoured locally",
}


def test_every_setting_of_a_played_algorithm_is_shown_to_act():
    """A setting added to an algorithm needs a test above that shows the sampler use it."""
    given = {name for a in ALGORITHMS.values() for name in a.settings}
    given |= {name for a in PLAYABLE for name in KATIB_SETTINGS.get(a, {})}
    assert set() == given - set(SHOWN) - set(NOT_THE_SAMPLERS)
