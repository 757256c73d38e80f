"""Katib search spaces and algorithm settings as Optuna suggestions and samplers."""

from __future__ import annotations

import math

import optuna
import pytest

from local_runner.errors import UnsupportedLocallyError
from local_runner.plan import Parameter
from local_runner.samplers import hyperopt_gamma, make_sampler
from local_runner.space import check_parameters, grid_values, katib_text, suggest

LR = Parameter("learning_rate", "double", "1.0e-5", "1.0e-2", distribution="logUniform")
RANK = Parameter("r", "int", "4", "16", step="4")
OPTIM = Parameter("optim", "categorical", values=("adamw_torch", "sgd"))
DROPOUT = Parameter("lora_dropout", "discrete", values=("0.0", "0.1"))


def draw(parameters, n: int = 30, seed: int = 0) -> list[dict[str, str]]:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    drawn = []
    for _ in range(n):
        trial = study.ask()
        drawn.append({p.name: suggest(trial, p, grid=False) for p in parameters})
        study.tell(trial, 0.0)
    return drawn


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

    def test_katib_text(self):
        assert "3e-05" == katib_text("double", 3e-05)
        assert "0.5" == katib_text("double", 0.5)
        assert "16" == katib_text("int", 16.0)


class TestGrid:
    """Grid points are every step from min to max, listed values as they are."""

    def test_double_steps_print_cleanly(self):
        grid = grid_values(Parameter("x", "double", "0.1", "0.5", step="0.1"))
        assert ["0.1", "0.2", "0.3", "0.4", "0.5"] == grid

    def test_int_default_step_is_one(self):
        assert ["1", "2", "3"] == grid_values(Parameter("x", "int", "1", "3"))

    def test_listed_values(self):
        assert ["adamw_torch", "sgd"] == grid_values(OPTIM)


class TestRefusedSpaces:
    """What Optuna cannot sample the way Katib does is refused with the parameter's name."""

    @pytest.mark.parametrize("distribution", ["normal", "logNormal"])
    def test_normal_distributions(self, distribution):
        parameter = Parameter("x", "double", "0.1", "0.5", distribution=distribution)
        with pytest.raises(UnsupportedLocallyError, match=f"x: distribution {distribution}"):
            check_parameters([parameter])

    def test_log_with_step(self):
        parameter = Parameter("x", "double", "0.1", "0.5", step="0.1", distribution="logUniform")
        with pytest.raises(UnsupportedLocallyError, match="logUniform with step"):
            check_parameters([parameter])

    def test_log_int_with_unit_step_is_fine(self):
        check_parameters([Parameter("x", "int", "1", "64", step="1", distribution="logUniform")])


class TestSamplers:
    """Each Katib algorithm gets its Optuna counterpart with its settings."""

    @pytest.mark.parametrize(
        ("algorithm", "settings", "kind"),
        [
            ("random", {"random_state": "1"}, optuna.samplers.RandomSampler),
            ("grid", {}, optuna.samplers.RandomSampler),  # points are queued by the scheduler
            ("tpe", {"gamma": "0.3"}, optuna.samplers.TPESampler),
            ("multivariate-tpe", {"n_startup_trials": "3"}, optuna.samplers.TPESampler),
            ("cmaes", {"restart_strategy": "none", "sigma": "0.2"}, optuna.samplers.CmaEsSampler),
            ("sobol", {}, optuna.samplers.QMCSampler),
            ("bayesianoptimization", {"n_initial_points": "4"}, optuna.samplers.GPSampler),
        ],
    )
    def test_mapping(self, algorithm, settings, kind):
        assert isinstance(make_sampler(algorithm, settings, (LR, RANK)), kind)

    @pytest.mark.parametrize("algorithm", ["hyperband", "pbt", "enas", "darts"])
    def test_no_local_equivalent(self, algorithm):
        with pytest.raises(UnsupportedLocallyError, match=f"'{algorithm}' has no local equiv"):
            make_sampler(algorithm, {}, (LR,))

    def test_cmaes_restarts_are_refused(self):
        with pytest.raises(UnsupportedLocallyError, match="restart_strategy ipop"):
            make_sampler("cmaes", {"restart_strategy": "ipop"}, (LR, RANK))

    def test_only_gaussian_process_estimator(self):
        with pytest.raises(UnsupportedLocallyError, match="base_estimator RF"):
            make_sampler("bayesianoptimization", {"base_estimator": "RF"}, (LR,))

    def test_hyperopt_gamma_grows_with_the_square_root(self):
        assert [1, 3, 5, 25] == [hyperopt_gamma(0.25, n) for n in (1, 100, 400, 100_000)]

    def test_random_state_repeats_the_draws(self):
        def first_values(seed):
            study = optuna.create_study(sampler=make_sampler("random", {"random_state": seed}, ()))
            trial = study.ask()
            return suggest(trial, LR, grid=False), suggest(trial, RANK, grid=False)

        assert first_values("5") == first_values("5")
        assert first_values("5") != first_values("6")
