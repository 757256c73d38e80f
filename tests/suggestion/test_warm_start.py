"""A warm start changes the suggestions, towards what the earlier trials found.

The same earlier trials are given twice, scored once as if small learning rates had done best
and once large ones, so only what they found differs: the first suggestions follow it, through
the shared sampler and through the service's gRPC door. Without the warm start they are the
random start's.
"""

from __future__ import annotations

import pytest
from kubeflow.katib import katib_api_pb2 as api

from suggestion.history import COMPLETE, Observation, encode_warm_start
from suggestion.settings import WARM_START_TRIALS
from tests.suggestion.conftest import experiment_message, render
from tests.suggestion.histories import LR, RANK, asks, exponent, point


def earlier(best_exponent: float, parameters=("learning_rate", "r")) -> str:
    """`warm_start_trials` of 12 trials spread over the learning rates, scored by their
    distance from 10^best_exponent, as the generator writes it."""
    trials = []
    for i in range(12):
        exp = -5 + 3 * (i + 0.5) / 12
        here = point(exp, 4 + (i * 23) % 61)
        trials.append(Observation(here, COMPLETE, {"eval_loss": (exp - best_exponent) ** 2}))
    return encode_warm_start(list(parameters), ["eval_loss"], trials)


LOW, HIGH = earlier(-4.7), earlier(-2.3)


class TestSampler:
    """With no trial of its own, the search starts where the earlier experiments did well."""

    @pytest.mark.parametrize(
        ("algorithm", "seeds"),
        [
            ("hpo-tpe", range(8)),
            ("hpo-multivariate-tpe", range(8)),
            ("hpo-cmaes", range(8)),
            ("hpo-gp", range(1)),  # a Gaussian process in torch: one seed keeps it quick
        ],
    )
    def test_the_first_points_follow_the_earlier_trials(self, algorithm, seeds):
        cold = [exponent(p) for p in asks(algorithm, {}, [], seeds)]
        low = [exponent(p) for p in asks(algorithm, {WARM_START_TRIALS: LOW}, [], seeds)]
        high = [exponent(p) for p in asks(algorithm, {WARM_START_TRIALS: HIGH}, [], seeds)]
        assert all(e < -4 for e in low)
        assert all(e > -3.1 for e in high)
        if len(seeds) > 1:  # a random start lands anywhere, on both sides
            assert min(cold) < -4 and max(cold) > -3.1

    def test_earlier_trials_count_as_finished_ones(self):
        """Twelve earlier trials end hpo-tpe's random start of four: its own fifth trial is
        guided with them, and random without them."""
        own = [Observation(point(-3.5, 30), COMPLETE, {"eval_loss": 1.4})] * 4
        cold = asks("hpo-tpe", {"n_startup_trials": "6"}, own)
        warm = asks("hpo-tpe", {"n_startup_trials": "6", WARM_START_TRIALS: LOW}, own)
        assert all(exponent(p) < -4 for p in warm)
        assert warm != cold


class TestService:
    """The setting reaches the sampler through the service's door, as Katib sends it."""

    def _first(self, service, experiment: api.Experiment) -> dict[str, str]:
        reply = service.GetSuggestions(
            api.GetSuggestionsRequest(experiment=experiment, trials=[], current_request_number=1)
        )
        [assignments] = reply.parameter_assignments
        return {a.name: a.value for a in assignments.assignments}

    def test_the_setting_moves_the_first_suggestion(self, service, repository):
        rendered = render(repository)[0]  # learning_rate in 1e-5 .. 1e-3, weight_decay, r
        names = [p["name"] for p in rendered["spec"]["parameters"]]
        assert ["learning_rate", "weight_decay", "r"] == names

        def first_with(best: float) -> float:
            trials = []
            for i in range(10):
                exp = -5 + 2 * (i + 0.5) / 10
                values = {"learning_rate": LR.text(10**exp), "weight_decay": "0.1", "r": "8"}
                trials.append(Observation(values, COMPLETE, {"eval_loss": (exp - best) ** 2}))
            experiment = experiment_message(rendered)
            experiment.spec.algorithm.algorithm_settings.append(
                api.AlgorithmSetting(
                    name=WARM_START_TRIALS,
                    value=encode_warm_start(names, ["eval_loss"], trials),
                )
            )
            return exponent(self._first(service, experiment))

        assert first_with(-4.8) < -4.4
        assert first_with(-3.2) > -3.6


def test_the_rank_is_carried_too():
    """Every parameter travels: a warm start that found high ranks starts high."""
    trials = [
        Observation(point(-4, r), COMPLETE, {"eval_loss": (64 - r) / 60}) for r in range(4, 65, 6)
    ]
    text = encode_warm_start(["learning_rate", "r"], ["eval_loss"], trials)
    ranks = [int(p["r"]) for p in asks("hpo-tpe", {WARM_START_TRIALS: text}, [])]
    assert min(ranks) > (RANK.min + RANK.max) / 2
