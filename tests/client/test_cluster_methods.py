"""Katib 0.19's read methods, through the network: the local Kubernetes API server, a real gRPC
DB manager on loopback, pods and their logs. What changes a cluster refuses with the Git way."""

from __future__ import annotations

from concurrent import futures

import grpc
import pytest
from kubeflow.katib import V1beta1Experiment, V1beta1Trial, katib_api_pb2, katib_api_pb2_grpc

from client import ClientError, KatibClient
from tests.support import katib
from tests.support.kube_api import KubeServer

NAME = katib.NAME  # llama-3-2-1b-imdb in namespace kubeflow


@pytest.fixture
def kube():
    with KubeServer() as server:
        server.state.put(katib.running_experiment())
        for trial in katib.default_trials():
            server.state.put(trial)
        yield server


@pytest.fixture
def client(kube, repo_copy, tmp_path):
    return KatibClient(root=repo_copy, config_file=kube.kubeconfig(tmp_path / "kubeconfig"))


class TestExperiments:
    def test_get_experiment_is_katibs_type(self, client):
        experiment = client.get_experiment(NAME)
        assert isinstance(experiment, V1beta1Experiment)
        assert experiment.spec.objective.objective_metric_name == "train_loss"
        assert experiment.status.trials == 4

    def test_a_missing_experiment_says_how_it_comes_to_exist(self, client):
        with pytest.raises(ClientError, match="Argo CD creates it once experiments/other/ is"):
            client.get_experiment("other")

    def test_list_experiments(self, client, kube):
        kube.state.put(katib.experiment_with_conditions("another", 1, ("Created", "True")))
        assert [e.metadata.name for e in client.list_experiments()] == ["another", NAME]
        assert client.list_experiments(namespace="elsewhere") == []

    def test_conditions_and_the_is_methods(self, client, kube):
        assert [c.type for c in client.get_experiment_conditions(NAME)] == ["Created", "Running"]
        assert client.is_experiment_created(NAME) and client.is_experiment_running(NAME)
        assert not client.is_experiment_succeeded(NAME)
        kube.state.put(katib.experiment_in("Failed"))
        assert client.is_experiment_failed(NAME) and not client.is_experiment_running(NAME)
        kube.state.put(katib.experiment_in("Restarting"))
        assert client.is_experiment_restarting(NAME)

    def test_an_experiment_object_given_is_not_read_again(self, client, kube):
        experiment = client.get_experiment(NAME)
        before = len(kube.state.requests)
        assert client.is_experiment_running(NAME, experiment=experiment)
        assert len(kube.state.requests) == before

    def test_the_definitions_namespace_is_where_it_is_looked_for(self, client, kube, repo_copy):
        seed = repo_copy / "experiments" / NAME / "experiment.yaml"
        text = seed.read_text(encoding="utf-8").replace(f"name: {NAME}\n", "name: other-exp\n")
        folder = repo_copy / "experiments" / "other-exp"
        folder.mkdir()
        (folder / "experiment.yaml").write_text(
            text.replace("namespace: kubeflow\n", "namespace: team-a\n"), encoding="utf-8"
        )
        with pytest.raises(ClientError, match="Experiment team-a/other-exp does not exist"):
            client.get_experiment("other-exp")


class TestTrials:
    def test_list_and_get_trials(self, client, kube):
        trials = client.list_trials(NAME)
        assert all(isinstance(t, V1beta1Trial) for t in trials)
        assert [t.metadata.name for t in trials] == sorted(t.metadata.name for t in trials)
        assert len(trials) == 4
        assert client.get_trial(katib.BEST_TRIAL).spec.parameter_assignments[0].value == "3.2e-05"
        kube.state.put(
            katib.trial(
                "zz001", learning_rate="1e-5", r="8", use_rslora="false", experiment="another"
            )
        )
        assert len(client.list_trials()) == 5  # every Trial of the namespace

    def test_success_trial_details_as_katib_lists_them(self, client):
        details = client.get_success_trial_details(NAME)
        assert [d["name"] for d in details] == [
            f"{NAME}-b9q4m",
            f"{NAME}-c3d8w",
            f"{NAME}-x7k2p",
        ]
        best = details[-1]
        assert [(a.name, a.value) for a in best["parameter_assignments"]][:2] == [
            ("learning_rate", "3.2e-05"),
            ("r", "16"),
        ]
        assert best["metrics"][0].min == "0.412"

    def test_suggestion(self, client, kube):
        suggestion = {
            "apiVersion": "kubeflow.org/v1beta1",
            "kind": "Suggestion",
            "metadata": {"name": NAME, "namespace": "kubeflow"},
            "spec": {"algorithm": {"algorithmName": "random"}, "requests": 4},
            "status": {"suggestionCount": 4},
        }
        kube.state.put(suggestion)
        assert client.get_suggestion(NAME).status.suggestion_count == 4
        assert [s.metadata.name for s in client.list_suggestions()] == [NAME]


class _DBManager(katib_api_pb2_grpc.DBManagerServicer):
    def GetObservationLog(self, request, context):  # noqa: N802 - the gRPC method name
        if request.trial_name != katib.BEST_TRIAL:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no logs of {request.trial_name}")
        return katib_api_pb2.GetObservationLogReply(
            observation_log=katib_api_pb2.ObservationLog(
                metric_logs=[
                    katib_api_pb2.MetricLog(
                        time_stamp=f"2025-05-01T11:0{i}:00Z",
                        metric=katib_api_pb2.Metric(name="train_loss", value=value),
                    )
                    for i, value in enumerate(("0.69", "0.52", "0.412"))
                ]
            )
        )


@pytest.fixture
def db_manager():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    katib_api_pb2_grpc.add_DBManagerServicer_to_server(_DBManager(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(None)


class TestTrialMetrics:
    def test_every_report_from_the_db_manager(self, client, db_manager):
        logs = client.get_trial_metrics(katib.BEST_TRIAL, db_manager_address=db_manager)
        assert [(m.metric.name, m.metric.value) for m in logs] == [
            ("train_loss", "0.69"),
            ("train_loss", "0.52"),
            ("train_loss", "0.412"),
        ]

    def test_an_unknown_trial_is_named(self, client, db_manager):
        with pytest.raises(ClientError, match="NOT_FOUND: no logs of nope"):
            client.get_trial_metrics("nope", db_manager_address=db_manager)


def _pod(name: str, trial: str, **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "kubeflow",
            "labels": {"katib.kubeflow.org/trial": trial, **labels},
        },
    }


class TestJobLogs:
    def test_the_training_containers_lines(self, client, kube):
        kube.state.put(_pod(f"{katib.BEST_TRIAL}-0", katib.BEST_TRIAL))
        log = "{'train_loss': 0.69}\n{'train_loss': 0.412}\n"
        kube.state.logs[("kubeflow", f"{katib.BEST_TRIAL}-0", "trainer")] = log
        assert list(client.get_job_logs(NAME, katib.BEST_TRIAL)) == log.splitlines()
        assert list(client.get_job_logs(NAME, katib.BEST_TRIAL, follow=True)) == log.splitlines()

    def test_the_primary_pod_of_a_distributed_trial(self, client, kube):
        trial = katib.trial("p0001", learning_rate="1e-5", r="8", use_rslora="false")
        trial["spec"]["primaryPodLabels"] = {"training.kubeflow.org/replica-type": "master"}
        kube.state.put(trial)
        name = trial["metadata"]["name"]
        kube.state.put(
            _pod(f"{name}-worker-0", name, **{"training.kubeflow.org/replica-type": "worker"})
        )
        kube.state.put(
            _pod(f"{name}-master-0", name, **{"training.kubeflow.org/replica-type": "master"})
        )
        kube.state.logs[("kubeflow", f"{name}-master-0", "trainer")] = "from the master\n"
        assert list(client.get_job_logs(NAME, name)) == ["from the master"]

    def test_no_pod_yet_is_said(self, client):
        with pytest.raises(ClientError, match="no pod of Trial kubeflow/.*x7k2p .yet."):
            list(client.get_job_logs(NAME, katib.BEST_TRIAL))

    def test_names_are_required_as_katib_requires_them(self, client):
        with pytest.raises(ValueError, match="Trial name is required"):
            client.get_job_logs(NAME, "")


class TestChangesGoThroughGit:
    def test_create_experiment_refuses_with_the_git_way(self, client):
        with pytest.raises(ClientError, match="tune\\(\\) writes experiments/<name>/experiment"):
            client.create_experiment(katib.running_experiment())

    def test_delete_experiment_refuses_with_the_git_way(self, client, kube):
        with pytest.raises(ClientError, match=f"run hpo archive experiments/{NAME} and merge"):
            client.delete_experiment(NAME)
        assert not kube.state.patches
        assert (("kubeflow", NAME)) in kube.state.experiments
