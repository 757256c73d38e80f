"""wait_for_experiment_condition() watches the Experiment through the Kubernetes API (pykube).

Once the Experiment exists, changes arrive by a watch, which is resumed however it breaks;
before, the wait goes through the GitOps stages (tests/client/test_stages.py).
"""

from __future__ import annotations

import pytest

from client import ClientError, KatibClient
from client.waiting import Stages, wait_for_condition
from katib.errors import ExperimentDeleted, ExperimentNotFound, ExperimentWaitTimeout
from tests.support import katib
from tests.support.katib import experiment_with_conditions as experiment
from tests.support.kube_api import GONE, KubeServer, expired

NAME = "llama-3-2-1b-imdb"


@pytest.fixture
def kube(tmp_path):
    with KubeServer() as server:
        yield server


@pytest.fixture
def client(kube, repo_copy, tmp_path):
    config = kube.kubeconfig(tmp_path / "kubeconfig")
    return KatibClient(root=repo_copy, config_file=str(config))


class TestWaiting:
    """The watch follows events until the condition, resuming from the last version seen."""

    def test_returns_when_succeeded_arrives_on_the_watch(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Created", "True")))
        kube.state.watch_scripts.append(
            [("event", "MODIFIED", experiment(NAME, 2, ("Running", "True")))]
        )  # the first stream ends early: the client watches again from version 2
        kube.state.watch_scripts.append(
            [
                (
                    "event",
                    "MODIFIED",
                    experiment(NAME, 3, ("Running", "False"), ("Succeeded", "True")),
                )
            ]
        )
        done = client.wait_for_experiment_condition(NAME, timeout=30)
        assert done.metadata.resource_version == "3"
        watches = [r for r in kube.state.requests if "watch=true" in r]
        assert len(watches) == 2
        assert "resourceVersion=1" in watches[0] and "resourceVersion=2" in watches[1]
        assert "fieldSelector=metadata.name%3D" + NAME in watches[0]

    def test_already_succeeded_needs_no_watch(self, kube, client):
        kube.state.put(experiment(NAME, 7, ("Succeeded", "True")))
        assert client.wait_for_experiment_condition(NAME).metadata.resource_version == "7"
        assert not [r for r in kube.state.requests if "watch=true" in r]


class TestBrokenStreams:
    """Quiet streams and dropped connections are resumed, never reported as failures."""

    def test_server_ends_each_watch_before_the_read_timeout(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        kube.state.watch_scripts.append(
            [("event", "MODIFIED", experiment(NAME, 2, ("Succeeded", "True")))]
        )
        client.wait_for_experiment_condition(NAME, timeout=600, apiserver_timeout=8)
        [watch] = [r for r in kube.state.requests if "watch=true" in r]
        assert "timeoutSeconds=6" in watch  # not 600: the client would time out first

    def test_stream_quiet_longer_than_the_read_timeout_is_resumed(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        kube.state.watch_scripts.append(
            [("event", "MODIFIED", experiment(NAME, 2, ("Running", "True")))]
        )
        kube.state.watch_scripts[-1].append(("stall", 1.5))
        kube.state.watch_scripts.append(
            [("event", "MODIFIED", experiment(NAME, 3, ("Succeeded", "True")))]
        )
        done = client.wait_for_experiment_condition(NAME, timeout=30, apiserver_timeout=0.5)
        assert "3" == done.metadata.resource_version
        watches = [r for r in kube.state.requests if "watch=true" in r]
        assert 2 == len(watches)
        assert "resourceVersion=2" in watches[1]  # resumed from the last version seen

    def test_dropped_connection_is_resumed(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        kube.state.watch_scripts.append(
            [("event", "MODIFIED", experiment(NAME, 2, ("Running", "True"))), ("drop",)]
        )
        kube.state.watch_scripts.append(
            [("event", "MODIFIED", experiment(NAME, 3, ("Succeeded", "True")))]
        )
        done = client.wait_for_experiment_condition(NAME, timeout=30)
        assert "3" == done.metadata.resource_version
        watches = [r for r in kube.state.requests if "watch=true" in r]
        assert 2 == len(watches)
        assert "resourceVersion=2" in watches[1]


class TestExpiredVersion:
    """A 410 Gone means events were missed: the Experiment is read again and watched anew."""

    def test_error_event_reads_again_and_sees_what_was_missed(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        kube.state.watch_scripts.append(
            [
                ("missed", experiment(NAME, 5, ("Running", "True"))),
                ("raw", {"type": "ERROR", "object": expired(1)}),
            ]
        )
        kube.state.watch_scripts.append(
            [
                (
                    "event",
                    "MODIFIED",
                    experiment(NAME, 6, ("Running", "False"), ("Succeeded", "True")),
                )
            ]
        )
        done = client.wait_for_experiment_condition(NAME, timeout=30)
        assert "6" == done.metadata.resource_version
        reads = ["watch" in r for r in kube.state.requests]
        assert [False, True, False, True] == reads
        assert "resourceVersion=5" in kube.state.requests[3]

    def test_read_again_may_find_it_finished(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        kube.state.watch_scripts.append(
            [
                ("missed", experiment(NAME, 9, ("Succeeded", "True"))),
                ("raw", {"type": "ERROR", "object": expired(1)}),
            ]
        )
        done = client.wait_for_experiment_condition(NAME, timeout=30)
        assert "9" == done.metadata.resource_version
        assert 3 == len(kube.state.requests)

    def test_http_410_answer_to_the_watch_reads_again(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        kube.state.watch_scripts.append(GONE)
        kube.state.watch_scripts.append(
            [("event", "MODIFIED", experiment(NAME, 2, ("Succeeded", "True")))]
        )
        done = client.wait_for_experiment_condition(NAME, timeout=30)
        assert "2" == done.metadata.resource_version
        assert [False, True, False, True] == ["watch" in r for r in kube.state.requests]

    def test_other_error_events_still_fail(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        forbidden = expired(1) | {"code": 403, "reason": "Forbidden", "message": "no watch"}
        kube.state.watch_scripts.append([("raw", {"type": "ERROR", "object": forbidden})])
        with pytest.raises(ClientError, match=f"watching Experiment kubeflow/{NAME}: no watch"):
            client.wait_for_experiment_condition(NAME, timeout=30)


class TestFailures:
    """Failure, absence and timeouts are one clear error each."""

    def test_failed_experiment_raises_runtime_error_as_katib_does(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        failed = experiment(NAME, 2, ("Failed", "True"), message="max failed trials reached")
        kube.state.watch_scripts.append([("event", "MODIFIED", failed)])
        with pytest.raises(RuntimeError, match=f"kubeflow/{NAME} is Failed") as raised:
            client.wait_for_experiment_condition(NAME, timeout=30)
        assert "max failed trials reached" in str(raised.value)

    def test_waiting_for_failed_returns_it(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Failed", "True")))
        result = client.wait_for_experiment_condition(NAME, expected_condition="Failed")
        assert result.metadata.resource_version == "1"
        assert result.status.conditions[0].type == "Failed"

    def test_returns_katibs_experiment_type(self, kube, client):
        from kubeflow.katib import V1beta1Experiment

        kube.state.put(katib.succeeded_experiment())
        done = client.wait_for_experiment_condition(katib.NAME)
        assert isinstance(done, V1beta1Experiment)
        assert done.status.current_optimal_trial.best_trial_name == katib.BEST_TRIAL

    def test_timeout_names_the_stage_reached(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        with pytest.raises(
            TimeoutError, match=f"kubeflow/{NAME} to reach Succeeded within 1s"
        ) as e:
            client.wait_for_experiment_condition(NAME, timeout=1)
        assert str(e.value).endswith("waiting for Katib running the Experiment")

    def test_deleted_while_waiting(self, kube, client):
        kube.state.put(experiment(NAME, 1, ("Running", "True")))
        gone = experiment(NAME, 2, ("Running", "True"))
        kube.state.watch_scripts.append([("raw", {"type": "DELETED", "object": gone})])
        with pytest.raises(RuntimeError, match="was deleted while waiting"):
            client.wait_for_experiment_condition(NAME, timeout=30)


class _Raising:
    """Cluster reads whose watcher ends the wait with `error`, whatever its words."""

    def __init__(self, error: Exception):
        self.error = error

    def objects(self, namespace, apiserver_timeout, **options):
        return self

    def wait(self, name, until, timeout_s, **options):
        raise self.error


class TestErrorsChosenByType:
    """TimeoutError or RuntimeError follows the watcher's error type, never its message."""

    def _wait(self, repo_copy, error: Exception):
        stages = Stages(repo_copy, NAME, "kubeflow", None, say=lambda _: None)
        return wait_for_condition(
            _Raising(error), stages, "Succeeded", timeout=5, polling_interval=1, apiserver_timeout=4
        )

    def test_deleted_is_a_runtime_error_whatever_it_says(self, repo_copy):
        error = ExperimentDeleted("did not finish within 5s")
        with pytest.raises(RuntimeError, match="was deleted while waiting") as raised:
            self._wait(repo_copy, error)
        assert raised.value.__cause__ is error

    @pytest.mark.parametrize("kind", [ExperimentNotFound, ExperimentWaitTimeout])
    def test_absent_or_late_is_a_timeout_even_when_it_says_deleted(self, repo_copy, kind):
        error = kind(f"Experiment kubeflow/{NAME} was deleted")
        with pytest.raises(TimeoutError, match="to reach Succeeded within 5s") as raised:
            self._wait(repo_copy, error)
        assert raised.value.__cause__ is error
