"""hpo-asha's policy: promotions, new configurations and their model, from the trials alone."""

from __future__ import annotations

import pytest

from suggestion import asha
from suggestion.asha import CONFIG_PARAMETER, RUNG_PARAMETER, space_problems
from suggestion.history import (
    COMPLETE,
    FAILED,
    PRUNED,
    RUNNING,
    Objective,
    Observation,
    encode_warm_start,
)
from suggestion.samplers import UnsupportedAlgorithm
from suggestion.sampling import next_assignments
from suggestion.settings import setting_problems
from suggestion.space import Parameter

LR = Parameter("learning_rate", "double", 1e-5, 1e-3, distribution="logUniform")
RUNG = Parameter(RUNG_PARAMETER, "categorical", values=("0", "1", "2"))
CONFIG = Parameter(CONFIG_PARAMETER, "int", 0, 99)
SPACE = [LR, RUNG, CONFIG]
LOSS = [Objective("eval_loss", "minimize")]
SETTINGS = {"random_state": "7"}


def lr(config: int) -> str:
    return repr((config + 1) * 1e-5)


def trial(config: int, rung: int, value: float | None = None, state: str = COMPLETE):
    """A trial of configuration `config` at `rung`, as Katib's Trials reach the policy."""
    assignments = {"learning_rate": lr(config), RUNG_PARAMETER: str(rung)}
    assignments[CONFIG_PARAMETER] = str(config)
    return Observation(assignments, state, {} if value is None else {"eval_loss": value})


def rung_zero(*values: float) -> list[Observation]:
    return [trial(config, 0, value) for config, value in enumerate(values)]


def ask(history, settings=SETTINGS, count=1, objectives=LOSS, space=SPACE):
    return next_assignments(space, "hpo-asha", settings, objectives, history, count)


def placed(point: dict[str, str]) -> tuple[int, int]:
    """(configuration, rung) of a suggestion."""
    return int(point[CONFIG_PARAMETER]), int(point[RUNG_PARAMETER])


class TestPromotion:
    """The best result of a rung's top 1/eta without a trial one rung up goes up, same values."""

    def test_the_best_not_yet_promoted_of_the_top_third(self):
        history = rung_zero(0.9, 0.3, 0.5, 0.2, 0.8, 0.7) + [trial(3, 1, state=RUNNING)]
        [point] = ask(history)
        # Top floor(6/3) = 2: configurations 3 (0.2, already promoted) and 1 (0.3).
        assert {"learning_rate": lr(1), RUNG_PARAMETER: "1", CONFIG_PARAMETER: "1"} == point

    def test_only_the_top_floor_n_over_eta_is_promotable(self):
        history = rung_zero(0.9, 0.3, 0.5, 0.2, 0.8) + [trial(3, 1, 0.1)]
        # Five results: floor(5/3) = 1, and configuration 3 has gone up; 1 (0.3) stays.
        assert (5, 0) == placed(ask(history)[0])

    def test_a_higher_rung_goes_first(self):
        history = rung_zero(0.9, 0.3, 0.5, 0.2, 0.8, 0.7, 0.6, 0.65, 0.95)
        history += [trial(3, 1, 0.15), trial(1, 1, 0.25), trial(2, 1, 0.4)]
        # Rung 1 holds three results: its best (3) goes to rung 2 before 2 (0.5) goes to rung 1.
        assert (3, 2) == placed(ask(history)[0])

    def test_the_reduction_factor_sets_the_share(self):
        history = rung_zero(0.9, 0.3, 0.5, 0.2) + [trial(3, 1, state=RUNNING)]
        assert (1, 1) == placed(ask(history, {"reduction_factor": "2"})[0])
        assert (4, 0) == placed(ask(history, {"reduction_factor": "4"})[0])

    def test_failed_trials_are_never_promoted(self):
        history = [trial(0, 0, 0.1, FAILED)] + [trial(c, 0, 0.5 + c / 10) for c in (1, 2, 3)]
        assert (1, 1) == placed(ask(history)[0])
        # Once configuration 1's rung-1 trial has failed, it is not promoted a second time.
        assert (4, 0) == placed(ask([*history, trial(1, 1, state=FAILED)])[0])

    def test_a_running_trial_has_no_result_yet(self):
        history = [trial(0, 0, state=RUNNING)] + [trial(c, 0, 0.5 + c / 10) for c in (1, 2, 3)]
        assert (1, 1) == placed(ask(history)[0])

    def test_a_trial_stopped_with_its_objective_reported_counts(self):
        history = [trial(0, 0, 0.2, PRUNED)] + [trial(c, 0, 0.5 + c / 10) for c in (1, 2)]
        assert (0, 1) == placed(ask(history)[0])

    def test_maximised_objectives_rank_the_largest_first(self):
        history = rung_zero(0.9, 0.3, 0.5)
        [point] = ask(history, objectives=[Objective("eval_loss", "maximize")])
        assert (0, 1) == placed(point)

    def test_the_top_rung_is_never_promoted(self):
        history = rung_zero(0.1, 0.2, 0.3) + [trial(0, 1, 0.1), trial(0, 2, 0.05)]
        history += [trial(1, 1, 0.2), trial(2, 1, 0.3)]
        assert (3, 0) == placed(ask(history)[0])


class TestNewConfigurations:
    """With nothing to promote, a new configuration at rung 0, the next id, drawn by `sampler`
    from a model of the highest rung with enough results."""

    def test_the_first_is_configuration_zero(self):
        [point] = ask([])
        assert (0, 0) == placed(point)
        assert 1e-5 <= float(point["learning_rate"]) <= 1e-3

    def test_the_next_id_is_one_past_the_largest_seen(self):
        history = [trial(0, 0, 0.5), trial(4, 0, state=FAILED), trial(2, 0, state=RUNNING)]
        assert (5, 0) == placed(ask(history)[0])

    @pytest.fixture
    def drawn(self, monkeypatch):
        """What each draw of a new configuration was given: (algorithm, history)."""
        calls = []
        real = asha.sample_point

        def spy(parameters, algorithm, settings, objectives, history, seed):
            calls.append((algorithm, history))
            return real(parameters, algorithm, settings, objectives, history, seed)

        monkeypatch.setattr(asha, "sample_point", spy)
        return calls

    def test_the_model_is_fitted_on_the_highest_rung_with_enough_results(self, drawn):
        # One searched parameter: two results make a rung enough. Rung 1 has two, rung 2 one.
        history = rung_zero(0.9, 0.3, 0.5, 0.2, 0.8, 0.7, 0.85)
        history += [trial(3, 1, 0.15), trial(1, 1, 0.25), trial(3, 2, state=RUNNING)]
        history += [trial(1, 2, state=FAILED)]
        ask(history, {"sampler": "tpe"})
        [(algorithm, seen)] = drawn
        assert "hpo-tpe" == algorithm
        finished = [(o.assignments["learning_rate"], o.metrics) for o in seen if o.state != RUNNING]
        assert [(lr(3), {"eval_loss": 0.15}), (lr(1), {"eval_loss": 0.25})] == finished
        # Every other configuration started is on its way to rung 1: running to the model.
        running = [o.assignments for o in seen if o.state == RUNNING]
        assert [{"learning_rate": lr(c)} for c in (0, 2, 4, 5, 6)] == running

    def test_random_until_a_rung_has_enough(self, drawn):
        ask([trial(0, 0, 0.5)], {"sampler": "gp"})
        assert "hpo-random" == drawn[0][0]

    def test_warm_start_trials_are_top_rung_results_never_promoted(self, drawn):
        earlier = [Observation({"learning_rate": v}, COMPLETE, {"eval_loss": 0.1}) for v in
                   ("0.0001", "0.0002")]  # fmt: skip
        settings = {**SETTINGS, "warm_start_trials": encode_warm_start(
            ["learning_rate"], ["eval_loss"], earlier)}  # fmt: skip
        [point] = ask(rung_zero(0.9, 0.3, 0.5) + [trial(1, 1, state=RUNNING)], settings)
        assert (3, 0) == placed(point)  # the better warm trials are no one's to promote
        [(algorithm, seen)] = drawn
        assert "hpo-gp" == algorithm  # the default sampler, on the top rung
        assert earlier == [o for o in seen if o.state == COMPLETE]

    def test_each_configuration_has_its_own_draw(self):
        first, second = ask([], count=2)
        assert [(0, 0), (1, 0)] == [placed(first), placed(second)]
        assert first["learning_rate"] != second["learning_rate"]


class TestStateless:
    """Rebuilt from the trials at each request: any order, a batch, a restart answer alike."""

    HISTORY = rung_zero(0.9, 0.3, 0.5, 0.2, 0.8, 0.7) + [trial(3, 1, 0.1)]

    def test_a_batch_equals_a_sequence(self):
        batch = ask(self.HISTORY, count=3)
        seen = list(self.HISTORY)
        one_by_one = []
        for _ in range(3):
            [point] = ask(seen)
            one_by_one.append(point)
            seen.append(Observation(point, RUNNING))
        assert one_by_one == batch
        assert [(1, 1), (6, 0), (7, 0)] == [placed(p) for p in batch]

    def test_the_order_of_the_trials_does_not_matter(self):
        assert ask(self.HISTORY, count=2) == ask(self.HISTORY[::-1], count=2)

    def test_random_state_repeats_the_draws(self):
        assert ask([], {"random_state": "3"}, 2) == ask([], {"random_state": "3"}, 2)
        assert ask([], {"random_state": "3"}, 2) != ask([], {"random_state": "4"}, 2)


class TestSettings:
    """The settings and the two parameters are checked like every algorithm's, each by name."""

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("reduction_factor", "1", "reduction_factor must be >= 2, got 1"),
            ("rungs", "three", "rungs must be a whole number, got 'three'"),
            ("sampler", "cmaes", "sampler must be one of random, tpe, gp, got 'cmaes'"),
            ("random_state", "-1", "random_state must be >= 0, got -1"),
            ("n_startup_trials", "3", "n_startup_trials is not a setting of hpo-asha"),
        ],
    )
    def test_refused_settings_are_named(self, name, value, message):
        [(setting, found)] = setting_problems("hpo-asha", {name: value}, 1, 1)
        assert (name, message) == (setting, found[: len(message)])

    def test_good_settings(self):
        given = {"reduction_factor": "4", "rungs": "2", "sampler": "random", "random_state": "1"}
        assert [] == setting_problems("hpo-asha", given, 1, 1)

    def test_several_objectives_are_refused(self):
        [(_, message)] = setting_problems("hpo-asha", {}, 1, 2)
        assert message.startswith("hpo-asha optimises one objective")
        several = [*LOSS, Objective("trainable_params", "minimize")]
        with pytest.raises(UnsupportedAlgorithm, match="hpo-asha ranks one objective"):
            ask([], objectives=several)

    def test_the_rung_and_configuration_parameters_are_needed(self):
        assert [
            "parameter hpo_rung: hpo-asha needs it, categorical, listing the rungs",
            "parameter hpo_config: hpo-asha needs it, an int from 0 to max_trial_count - 1 "
            "(the configuration's id)",
        ] == space_problems([LR], {})
        with pytest.raises(UnsupportedAlgorithm, match="parameter hpo_rung"):
            ask([], space=[LR, CONFIG])

    def test_the_rungs_listed_match_the_setting(self):
        assert [
            "parameter hpo_rung must list 0, 1, 2, 3 (rungs is 4), got 0, 1, 2",
        ] == space_problems(SPACE, {"rungs": "4"})
        assert [] == space_problems(SPACE, {})

    def test_something_to_search(self):
        assert ["hpo-asha needs a parameter to search besides hpo_rung and hpo_config"] == (
            space_problems([RUNG, CONFIG], {})
        )
