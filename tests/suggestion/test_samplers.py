"""Katib search spaces and algorithm settings as Optuna distributions and samplers."""

from __future__ import annotations

import math

import optuna
import pytest

from suggestion.history import COMPLETE, FAILED, PRUNED, Objective, Observation
from suggestion.samplers import UnsupportedAlgorithm, hyperopt_gamma, make_sampler
from suggestion.sampling import next_assignments
from suggestion.space import Parameter, grid_values, unsupported

LR = Parameter("learning_rate", "double", 1.0e-5, 1.0e-2, distribution="logUniform")
RANK = Parameter("r", "int", 4, 16, step=4)
OPTIM = Parameter("optim", "categorical", values=("adamw_torch", "sgd"))
DROPOUT = Parameter("lora_dropout", "discrete", values=("0.0", "0.1"))
LOSS = [Objective("eval_loss", "minimize")]


def draw(parameters, n: int = 30, algorithm="random", seed="0") -> list[dict[str, str]]:
    """n suggestions in a row, each told a constant loss."""
    seen: list[Observation] = []
    for _ in range(n):
        [point] = next_assignments(parameters, algorithm, {"random_state": seed}, LOSS, seen)
        seen.append(Observation(point, COMPLETE, {"eval_loss": 1.0}))
    return [dict(o.assignments) for o in seen]


class TestSuggestions:
    """Values respect type, range, step and distribution, and reach the trial as Katib text."""

    def test_types_ranges_and_steps(self):
        for values in draw([LR, RANK, OPTIM, DROPOUT]):
            assert 1e-5 <= float(values["learning_rate"]) <= 1e-2
            assert values["r"] in {"4", "8", "12", "16"}
            assert values["optim"] in {"adamw_torch", "sgd"}
            assert values["lora_dropout"] in {"0.0", "0.1"}

    def test_log_uniform_covers_the_decades(self):
        exponents = {math.floor(math.log10(float(v["learning_rate"]))) for v in draw([LR], 60)}
        assert {-5, -4, -3} <= exponents

    @pytest.mark.parametrize(
        "algorithm", ["sobol", "hpo-tpe", "cmaes", "bayesianoptimization", "hpo-gp"]
    )
    def test_every_algorithm_stays_in_the_space(self, algorithm):
        for values in draw([LR, RANK, OPTIM], 12, algorithm):
            assert 1e-5 <= float(values["learning_rate"]) <= 1e-2
            assert values["r"] in {"4", "8", "12", "16"}

    def test_sampled_values_as_katib_text(self):
        assert "3e-05" == LR.text(3e-05)
        assert "0.5" == LR.text(0.5)
        assert "16" == RANK.text(16.0)


class TestGrid:
    """Grid points are every step from min to max, listed values as they are."""

    def test_double_steps_print_cleanly(self):
        grid = grid_values(Parameter("x", "double", 0.1, 0.5, step=0.1))
        assert ["0.1", "0.2", "0.3", "0.4", "0.5"] == grid

    def test_int_default_step_is_one(self):
        assert ["1", "2", "3"] == grid_values(Parameter("x", "int", 1, 3))

    def test_listed_values(self):
        assert ["adamw_torch", "sgd"] == grid_values(OPTIM)

    def test_visits_each_point_once_then_stops(self):
        space = [OPTIM, Parameter("x", "int", 1, 2)]
        points = draw(space, 4, "grid")
        assert [(p["optim"], p["x"]) for p in points] == [
            ("adamw_torch", "1"),
            ("adamw_torch", "2"),
            ("sgd", "1"),
            ("sgd", "2"),
        ]
        seen = [Observation(p, COMPLETE, {"eval_loss": 1.0}) for p in points]
        assert next_assignments(space, "hpo-grid", {}, LOSS, seen) == []


class TestRefusedSpaces:
    """What Optuna cannot sample the way Katib does is refused with the parameter's name."""

    @pytest.mark.parametrize("distribution", ["normal", "logNormal"])
    def test_normal_distributions(self, distribution):
        parameter = Parameter("x", "double", 0.1, 0.5, distribution=distribution)
        assert [f"parameter x: distribution {distribution} cannot be sampled here; use "
                "uniform or logUniform"] == unsupported([parameter])  # fmt: skip

    def test_log_with_step(self):
        parameter = Parameter("x", "double", 0.1, 0.5, step=0.1, distribution="logUniform")
        assert "logUniform with step" in unsupported([parameter])[0]

    def test_log_int_with_unit_step_is_fine(self):
        assert [] == unsupported([Parameter("x", "int", 1, 64, step=1, distribution="logUniform")])


class TestSamplers:
    """Each algorithm gets its Optuna counterpart with its settings."""

    @pytest.mark.parametrize(
        ("algorithm", "settings", "kind"),
        [
            ("random", {"random_state": "1"}, optuna.samplers.RandomSampler),
            ("hpo-random", {}, optuna.samplers.RandomSampler),
            ("tpe", {"gamma": "0.3"}, optuna.samplers.TPESampler),
            ("multivariate-tpe", {"n_startup_trials": "3"}, optuna.samplers.TPESampler),
            ("hpo-tpe", {"n_startup_trials": "3"}, optuna.samplers.TPESampler),
            ("hpo-multivariate-tpe", {}, optuna.samplers.TPESampler),
            ("bayesianoptimization", {"n_initial_points": "4"}, optuna.samplers.GPSampler),
            ("hpo-gp", {}, optuna.samplers.GPSampler),
        ],
    )
    def test_mapping(self, algorithm, settings, kind):
        assert isinstance(make_sampler(algorithm, settings, 0, []), kind)

    def test_tpe_settings_reach_the_sampler(self):
        sampler = make_sampler("hpo-multivariate-tpe", {"n_startup_trials": "7"}, 0, [])
        assert (sampler._n_startup_trials, sampler._multivariate) == (7, True)
        univariate = make_sampler("hpo-tpe", {"constant_liar": "false"}, 0, [])
        assert (univariate._multivariate, univariate._constant_liar) == (False, False)

    def test_gp_settings_reach_the_sampler(self):
        sampler = make_sampler("hpo-gp", {"n_startup_trials": "6"}, 0, [])
        assert 6 == sampler._n_startup_trials

    def test_gp_learns_from_stopped_trials(self):
        """A Gaussian process sees finished trials only, so to hpo-gp a trial stopped early is
        finished at the value it was stopped at: the guided suggestion after it is the one after
        a finished trial at that value, not the one after a failed trial (which teaches nothing).
        """
        space = [LR, OPTIM]
        settings = {"random_state": "3", "n_startup_trials": "2"}
        start = draw(space, 3, "random", seed="3")
        finished = [
            Observation(start[0], COMPLETE, {"eval_loss": 0.5}),
            Observation(start[1], COMPLETE, {"eval_loss": 0.7}),
        ]

        def after(state: str) -> dict[str, str]:
            last = Observation(start[2], state, {"eval_loss": 0.9})
            [point] = next_assignments(space, "hpo-gp", settings, LOSS, [*finished, last])
            return point

        assert after(PRUNED) == after(COMPLETE)
        assert after(PRUNED) != after(FAILED)

    def test_cmaes_starts_at_random_then_centres_on_the_best(self):
        assert isinstance(make_sampler("hpo-cmaes", {}, 0, [], None), optuna.samplers.RandomSampler)
        finished = [object()] * 4
        sampler = make_sampler("hpo-cmaes", {"sigma0": "0.2"}, 0, finished, {"r": 8})
        assert isinstance(sampler, optuna.samplers.CmaEsSampler)
        assert (sampler._x0, sampler._sigma0) == ({"r": 8}, 0.2)

    @pytest.mark.parametrize("algorithm", ["hyperband", "pbt", "enas", "darts"])
    def test_no_equivalent(self, algorithm):
        with pytest.raises(UnsupportedAlgorithm, match=f"'{algorithm}' has no equivalent here"):
            make_sampler(algorithm, {}, 0, [])

    def test_cmaes_restarts_are_refused(self):
        with pytest.raises(UnsupportedAlgorithm, match="restart_strategy ipop"):
            make_sampler("cmaes", {"restart_strategy": "ipop"}, 0, [])

    def test_only_gaussian_process_estimator(self):
        with pytest.raises(UnsupportedAlgorithm, match="base_estimator RF"):
            make_sampler("bayesianoptimization", {"base_estimator": "RF"}, 0, [])

    def test_hyperopt_gamma_grows_with_the_square_root(self):
        assert [1, 3, 5, 25] == [hyperopt_gamma(0.25, n) for n in (1, 100, 400, 100_000)]

    def test_random_state_repeats_the_draws(self):
        assert draw([LR, RANK], 3, seed="5") == draw([LR, RANK], 3, seed="5")
        assert draw([LR, RANK], 3, seed="5") != draw([LR, RANK], 3, seed="6")
