"""hpo-asha as Katib calls it: a real gRPC server on 127.0.0.1 and Katib's protobuf messages,
an Experiment rendered from a definition and Trials that carry their rungs."""

from __future__ import annotations

from types import SimpleNamespace

import grpc
import pytest
from kubeflow.katib import katib_api_pb2 as api

from local_runner import study as keys
from local_runner.plan import build_plan
from local_runner.suggest import history, next_point
from suggestion.asha import CONFIG_PARAMETER, RUNG_PARAMETER
from tests.suggestion.conftest import DEFINITION, experiment_message, render, trial_message

# Thirteen trials: the fewest that bring a configuration to the top of three rungs (hpo check).
ASHA = (
    DEFINITION.replace("hpo-multivariate-tpe", "hpo-asha")
    .replace("n_startup_trials: 2", "reduction_factor: 3, rungs: 3, sampler: tpe")
    .replace("max_trial_count: 8", "max_trial_count: 13")
)
# The two parameters the generator adds under hpo-asha (the contract in suggestion/asha.py).
RESERVED = [
    {"name": RUNG_PARAMETER, "parameterType": "categorical",
     "feasibleSpace": {"list": ["0", "1", "2"]}},
    {"name": CONFIG_PARAMETER, "parameterType": "int",
     "feasibleSpace": {"min": "0", "max": "7"}},
]  # fmt: skip
RESERVED_NAMES = (RUNG_PARAMETER, CONFIG_PARAMETER)
VALUES = [
    {"learning_rate": "0.0001", "weight_decay": "0.05", "r": "8"},
    {"learning_rate": "0.0009", "weight_decay": "0.15", "r": "16"},
    {"learning_rate": "2e-05", "weight_decay": "0.1", "r": "4"},
    {"learning_rate": "0.0003", "weight_decay": "0.01", "r": "4"},
]
# Rung 0 of four configurations, the best (3) already running at rung 1, and 0 still running.
RUNGS = [
    ("tuned-a", 0, 0, "Running", None),
    ("tuned-b", 1, 0, "Succeeded", 0.61),
    ("tuned-c", 2, 0, "Succeeded", 0.70),
    ("tuned-d", 3, 0, "Succeeded", 0.52),
    ("tuned-e", 3, 1, "Running", None),
    ("tuned-f", 4, 0, "Failed", None),
    ("tuned-g", 5, 0, "Succeeded", 0.58),
    ("tuned-h", 6, 0, "Succeeded", 0.66),
]


def rendered(repository, text: str = ASHA) -> tuple[dict, dict]:
    """The rendered Experiment with the two rung parameters, and the storage-init Job."""
    experiment, job = render(repository, text)
    parameters = experiment["spec"]["parameters"]
    if not any(p["name"] == RUNG_PARAMETER for p in parameters):  # until the generator adds them
        parameters += RESERVED
    return experiment, job


def assignments(config: int, rung: int) -> dict[str, str]:
    values = VALUES[config % len(VALUES)]
    return {**values, RUNG_PARAMETER: str(rung), CONFIG_PARAMETER: str(config)}


def katib_trials() -> list[api.Trial]:
    return [
        trial_message(name, assignments(c, k), state, {} if v is None else {"eval_loss": v})
        for name, c, k, state, v in RUNGS
    ]


def ask(service, experiment, trials, count=1) -> list[dict[str, str]]:
    reply = service.GetSuggestions(
        api.GetSuggestionsRequest(
            experiment=experiment, trials=trials, current_request_number=count
        )
    )
    return [{a.name: a.value for a in p.assignments} for p in reply.parameter_assignments]


class TestGetSuggestions:
    def test_given_a_rung_history_the_next_is_the_promotion(self, service, repository):
        """Five results at rung 0: floor(5/3) = 1 is promotable, configuration 3 (0.52), which
        is at rung 1 already, so Katib gets a new configuration, 7. Once 0 finishes (0.55) the
        top two of six are 3 and 0: 0 goes up, with its values."""
        experiment = experiment_message(rendered(repository)[0])
        [new] = ask(service, experiment, katib_trials())
        assert ("7", "0") == (new[CONFIG_PARAMETER], new[RUNG_PARAMETER])
        trials = katib_trials()
        trials[0] = trial_message("tuned-a", assignments(0, 0), "Succeeded", {"eval_loss": 0.55})
        [promoted] = ask(service, experiment, trials)
        assert assignments(0, 1) == promoted

    def test_a_batch_promotes_then_starts(self, service, repository):
        experiment = experiment_message(rendered(repository)[0])
        trials = katib_trials()
        trials[0] = trial_message("tuned-a", assignments(0, 0), "Succeeded", {"eval_loss": 0.55})
        first, second = ask(service, experiment, trials, 2)
        assert assignments(0, 1) == first
        assert ("7", "0") == (second[CONFIG_PARAMETER], second[RUNG_PARAMETER])

    def test_the_local_runner_suggests_the_same(self, service, repository):
        """hpo tune --local asks the same policy with the study's trials: the same point."""
        experiment, job = rendered(repository)
        plan = build_plan(experiment, job)
        finished = [
            SimpleNamespace(
                user_attrs={
                    keys.NAME: name,
                    keys.ASSIGNMENTS: assignments(c, k),
                    keys.STATUS: state,
                    keys.METRICS: {} if v is None else {"eval_loss": v},
                }
            )
            for name, c, k, state, v in RUNGS
            if state != "Running"
        ]
        running = [assignments(c, k) for _, c, k, state, _ in RUNGS if state == "Running"]
        local = next_point(plan, history(finished, running))
        [remote] = ask(service, experiment_message(experiment), katib_trials())
        assert local == remote


class TestValidateAlgorithmSettings:
    def _refusal(self, service, experiment) -> str:
        with pytest.raises(grpc.RpcError) as raised:
            service.ValidateAlgorithmSettings(
                api.ValidateAlgorithmSettingsRequest(experiment=experiment)
            )
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        return raised.value.details()

    def test_the_rendered_experiment_is_valid(self, service, repository):
        experiment = experiment_message(rendered(repository)[0])
        service.ValidateAlgorithmSettings(
            api.ValidateAlgorithmSettingsRequest(experiment=experiment)
        )

    def test_the_rung_parameters_must_be_declared(self, service, repository):
        experiment = render(repository, ASHA)[0]
        spec = experiment["spec"]
        spec["parameters"] = [p for p in spec["parameters"] if p["name"] not in RESERVED_NAMES]
        details = self._refusal(service, experiment_message(experiment))
        assert "parameter hpo_rung: hpo-asha needs it" in details
        assert "parameter hpo_config: hpo-asha needs it" in details

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("reduction_factor", "1", "reduction_factor must be >= 2, got 1"),
            ("sampler", "cmaes", "sampler must be one of random, tpe, gp, got 'cmaes'"),
            ("rungs", "4", "parameter hpo_rung must list 0, 1, 2, 3 (rungs is 4), got 0, 1, 2"),
        ],
    )
    def test_refused_settings_are_named(self, service, repository, name, value, message):
        experiment = experiment_message(rendered(repository)[0])
        settings = experiment.spec.algorithm.algorithm_settings
        for setting in settings:
            if setting.name == name:
                setting.value = value
        assert message in self._refusal(service, experiment)

    def test_several_objectives_are_refused(self, service, repository):
        experiment = experiment_message(rendered(repository)[0])
        experiment.spec.algorithm.algorithm_settings.append(
            api.AlgorithmSetting(name="objectives", value="eval_loss:minimize,step:maximize")
        )
        assert "hpo-asha optimises one objective" in self._refusal(service, experiment)

    def test_warm_start_trials_carry_the_searched_parameters_only(self, service, repository):
        experiment = experiment_message(rendered(repository)[0])
        experiment.spec.algorithm.algorithm_settings.append(
            api.AlgorithmSetting(
                name="warm_start_trials",
                value='{"parameters":["learning_rate","weight_decay","r"],"metrics":'
                '["eval_loss"],"trials":[["0.0001","0.1","8",0.4]]}',
            )
        )
        service.ValidateAlgorithmSettings(
            api.ValidateAlgorithmSettingsRequest(experiment=experiment)
        )
