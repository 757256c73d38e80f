"""The suggestion service as Katib calls it: a real gRPC server on 127.0.0.1, Katib's own protobuf
messages built from a rendered Experiment, and the local runner's door to the same sampler."""

from __future__ import annotations

from types import SimpleNamespace

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kubeflow.katib import katib_api_pb2 as api

from local_runner import study as keys
from local_runner.plan import build_plan
from local_runner.suggest import history, next_point
from suggestion.__main__ import HEALTH_SERVICE, serve
from tests.suggestion.conftest import (
    DEFINITION,
    experiment_message,
    render,
    trial_message,
)

FINISHED = [
    ("tuned-a", {"learning_rate": "0.0001", "weight_decay": "0.05", "r": "8"}, 0.52),
    ("tuned-b", {"learning_rate": "0.0009", "weight_decay": "0.15", "r": "16"}, 0.61),
    ("tuned-c", {"learning_rate": "2e-05", "weight_decay": "0.1", "r": "4"}, 0.70),
]
RUNNING = {"learning_rate": "0.0003", "weight_decay": "0.01", "r": "4"}


STOPPED = ("tuned-e", {"learning_rate": "0.0005", "weight_decay": "0.2", "r": "16"}, 0.93)


def _katib_trials(stopped=()) -> list[api.Trial]:
    trials = [trial_message(n, a, "Succeeded", {"eval_loss": v}) for n, a, v in FINISHED]
    trials += [trial_message(n, a, "EarlyStopped", {"eval_loss": v}) for n, a, v in stopped]
    return trials + [trial_message("tuned-d", RUNNING, "Running", {})]


def _local_history(stopped=()):
    """The same trials as the local runner's study holds them (the scheduler's attributes)."""
    finished = [
        SimpleNamespace(
            user_attrs={
                keys.NAME: name,
                keys.ASSIGNMENTS: assignments,
                keys.STATUS: status,
                keys.METRICS: {"eval_loss": value},
            }
        )
        for trials, status in ((FINISHED, "Succeeded"), (stopped, "EarlyStopped"))
        for name, assignments, value in trials
    ]
    return history(finished, [RUNNING])


def _ask(service, experiment, trials, count):
    reply = service.GetSuggestions(
        api.GetSuggestionsRequest(
            experiment=experiment, trials=trials, current_request_number=count
        )
    )
    return [{a.name: a.value for a in p.assignments} for p in reply.parameter_assignments]


class TestGetSuggestions:
    def test_points_of_the_search_space(self, service, repository):
        experiment = experiment_message(render(repository)[0])
        points = _ask(service, experiment, _katib_trials(), 2)
        assert len(points) == 2 and points[0] != points[1]
        for point in points:
            assert 1e-5 <= float(point["learning_rate"]) <= 1e-3
            assert 0.0 <= float(point["weight_decay"]) <= 0.2
            assert point["r"] in {"4", "8", "16"}

    def test_a_restarted_service_answers_the_same(self, service, repository):
        experiment = experiment_message(render(repository)[0])
        first = _ask(service, experiment, _katib_trials(), 2)
        server, port = serve(0, host="127.0.0.1")
        try:
            from kubeflow.katib import katib_api_pb2_grpc as api_grpc

            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                again = _ask(api_grpc.SuggestionStub(channel), experiment, _katib_trials(), 2)
        finally:
            server.stop(None)
        assert first == again

    def test_the_order_katib_lists_trials_in_does_not_matter(self, service, repository):
        experiment = experiment_message(render(repository)[0])
        trials = _katib_trials()
        assert _ask(service, experiment, trials, 1) == _ask(service, experiment, trials[::-1], 1)

    def test_an_algorithm_it_does_not_serve(self, service, repository):
        experiment = experiment_message(render(repository)[0])
        experiment.spec.algorithm.algorithm_name = "tpe"
        with pytest.raises(grpc.RpcError) as raised:
            _ask(service, experiment, [], 1)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "does not serve algorithm 'tpe'" in raised.value.details()


class TestOneSamplerTwoDoors:
    """For the same definition, seed and history, hpo tune --local and the service suggest the
    same parameters: both go through suggestion.sampling."""

    @pytest.mark.parametrize(
        "algorithm",
        ["hpo-multivariate-tpe", "hpo-tpe", "hpo-gp", "hpo-random", "hpo-cmaes", "hpo-grid"],
    )
    def test_same_history_same_parameters(self, service, repository, algorithm):
        text = DEFINITION.replace("hpo-multivariate-tpe", algorithm)
        if algorithm in ("hpo-random", "hpo-grid"):
            text = text.replace(", n_startup_trials: 2", "")
        if algorithm == "hpo-grid":  # a grid needs a step for every double
            text = text.replace("distribution: logUniform}", "step: 1.0e-4}").replace(
                "max: 0.2}", "max: 0.2, step: 0.05}"
            )
        experiment, job = render(repository, text)
        plan = build_plan(experiment, job)
        seen = _local_history() if algorithm != "hpo-grid" else []
        trials = _katib_trials() if algorithm != "hpo-grid" else []
        local = next_point(plan, seen)
        [remote] = _ask(service, experiment_message(experiment), trials, 1)
        assert local == remote

    @pytest.mark.parametrize("algorithm", ["hpo-gp", "hpo-multivariate-tpe"])
    def test_a_trial_stopped_early_is_seen_alike(self, service, repository, algorithm):
        """Katib's EarlyStopped condition and the local runner's status reach the sampler as
        the same observation (hpo-gp counts it finished, TPE as pruned)."""
        experiment, job = render(repository, DEFINITION.replace("hpo-multivariate-tpe", algorithm))
        plan = build_plan(experiment, job)
        local = next_point(plan, _local_history([STOPPED]))
        [remote] = _ask(service, experiment_message(experiment), _katib_trials([STOPPED]), 1)
        assert local == remote
        assert local != next_point(plan, _local_history())

    def test_a_batch_is_a_sequence(self, service, repository):
        """Katib asks for parallel_trial_count at once; locally trials start one at a time."""
        experiment, job = render(repository)
        plan = build_plan(experiment, job)
        seen = _local_history()
        first = next_point(plan, seen)
        second = next_point(plan, seen + history([], [first]))
        assert _ask(service, experiment_message(experiment), _katib_trials(), 2) == [first, second]


class TestValidateAlgorithmSettings:
    def _validate(self, service, experiment):
        return service.ValidateAlgorithmSettings(
            api.ValidateAlgorithmSettingsRequest(experiment=experiment)
        )

    def test_a_rendered_experiment_is_valid(self, service, repository):
        self._validate(service, experiment_message(render(repository)[0]))

    @pytest.mark.parametrize(
        ("name", "value", "message"),
        [
            ("n_startup_trials", "-1", "n_startup_trials must be >= 0, got -1"),
            ("constant_liar", "yes", "constant_liar must be one of true, false, got 'yes'"),
            ("gamma", "0.2", "gamma is not a setting of hpo-multivariate-tpe"),
            ("random_state", "x", "random_state must be a whole number, got 'x'"),
        ],
    )
    def test_refused_settings_are_named(self, service, repository, name, value, message):
        experiment = experiment_message(render(repository)[0])
        experiment.spec.algorithm.algorithm_settings.append(
            api.AlgorithmSetting(name=name, value=value)
        )
        with pytest.raises(grpc.RpcError) as raised:
            self._validate(service, experiment)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert message in raised.value.details()

    def test_one_objective_algorithm_with_several(self, service, repository):
        experiment = experiment_message(render(repository)[0])
        experiment.spec.algorithm.algorithm_name = "hpo-cmaes"
        experiment.spec.algorithm.algorithm_settings.append(
            api.AlgorithmSetting(name="objectives", value="eval_loss:minimize,step:maximize")
        )
        with pytest.raises(grpc.RpcError) as raised:
            self._validate(service, experiment)
        assert "hpo-cmaes optimises one objective" in raised.value.details()

    def test_a_warm_start_that_does_not_fit(self, service, repository):
        experiment = experiment_message(render(repository)[0])
        experiment.spec.algorithm.algorithm_settings.append(
            api.AlgorithmSetting(
                name="warm_start_trials",
                value='{"parameters":["learning_rate","weight_decay","r"],"metrics":'
                '["eval_loss"],"trials":[["0.5","0.1","8",0.4]]}',
            )
        )
        with pytest.raises(grpc.RpcError) as raised:
            self._validate(service, experiment)
        assert "learning_rate=0.5 is outside [1e-05, 0.001]" in raised.value.details()


def test_health_is_serving_for_katibs_probe(repository):
    server, port = serve(0, host="127.0.0.1")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            answer = stub.Check(health_pb2.HealthCheckRequest(service=HEALTH_SERVICE))
    finally:
        server.stop(None)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_the_images_grpc_health_probe_command(repository, capsys):
    """What the image installs as /bin/grpc_health_probe, run with the flags Katib passes."""
    from suggestion import health_probe

    server, port = serve(0, host="127.0.0.1")
    try:
        flags = [f"-addr=:{port}", f"-service={HEALTH_SERVICE}", "-rpc-timeout=2s"]
        assert health_probe.main(flags) == 0
    finally:
        server.stop(None)
    assert "status: SERVING" in capsys.readouterr().out
    assert health_probe.main([f"-addr=:{port}", "-rpc-timeout=0.5s"]) == 1  # nobody listens
