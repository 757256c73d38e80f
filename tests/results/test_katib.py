"""Waiting for and reading a Katib Experiment through pykube, against a local API server."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import time

import pytest

from katib.errors import (
    ExperimentDeleted,
    ExperimentNotFound,
    ExperimentWaitTimeout,
    KubernetesError,
)
from katib.watch import KatibWatcher, kube_api
from tests.support import katib
from tests.support.katib import NAME, NAMESPACE


@pytest.fixture
def reader_for(kube, tmp_path):
    """A KatibWatcher on the local server; its back-off sleeps are recorded, not slept."""

    def make(**options) -> KatibWatcher:
        http_timeout = options.pop("http_timeout_s", 5.0)
        api = kube_api(kube.kubeconfig(tmp_path / "kubeconfig", NAMESPACE), timeout_s=http_timeout)
        reader = KatibWatcher(api, NAMESPACE, watch_timeout_s=2, **options)
        reader.slept = []
        reader.sleep = reader.slept.append
        return reader

    return make


def _running(version: str) -> dict:
    return katib.running_experiment(resource_version=version)


class TestWaitForFinish:
    """The reader returns the Experiment once Succeeded or Failed, whatever the stream does."""

    def test_already_finished_needs_no_watch(self, kube, reader_for):
        kube.state.put(katib.succeeded_experiment())
        finished = reader_for().wait_until_finished(NAME, timeout_s=10)
        assert "1500" == finished["metadata"]["resourceVersion"]
        assert [] == kube.state.watches()

    def test_watch_follows_updates_until_succeeded(self, kube, reader_for):
        kube.state.put(_running("100"))
        kube.state.watch_scripts.append(
            [
                ("event", "MODIFIED", _running("101")),
                ("event", "MODIFIED", katib.succeeded_experiment(resource_version="102")),
            ]
        )
        finished = reader_for().wait_until_finished(NAME, timeout_s=10)
        assert "102" == finished["metadata"]["resourceVersion"]
        [watch] = kube.state.watches()
        assert "fieldSelector=metadata.name%3Dllama-3-2-1b-imdb" in watch
        assert "resourceVersion=100" in watch and "timeoutSeconds=2" in watch

    def test_dropped_connection_is_reconnected(self, kube, reader_for):
        kube.state.put(_running("100"))
        kube.state.watch_scripts.extend(
            [
                [("event", "MODIFIED", _running("101")), ("drop",)],
                [("event", "MODIFIED", katib.succeeded_experiment(resource_version="103"))],
            ]
        )
        reader = reader_for()
        finished = reader.wait_until_finished(NAME, timeout_s=10)
        assert "103" == finished["metadata"]["resourceVersion"]
        assert 2 == len(kube.state.watches())
        assert "resourceVersion=101" in kube.state.watches()[1]  # re-read after the drop
        assert [2.0] == reader.slept  # one back-off before reconnecting

    def test_watch_ended_by_the_server_is_renewed_without_backoff(self, kube, reader_for):
        kube.state.put(_running("100"))
        kube.state.watch_scripts.extend(
            [
                [("stall", 0.6), ("end",)],  # the server's timeoutSeconds (2) cut short by a peer
                [("event", "MODIFIED", katib.succeeded_experiment(resource_version="104"))],
            ]
        )
        reader = reader_for()
        assert (
            "104" == reader.wait_until_finished(NAME, timeout_s=10)["metadata"]["resourceVersion"]
        )
        assert (2, []) == (len(kube.state.watches()), reader.slept)

    def test_expired_resource_version_error_event_leads_to_a_fresh_read(self, kube, reader_for):
        kube.state.put(_running("100"))
        gone = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "code": 410,
            "reason": "Expired",
            "message": "too old resource version: 100 (2000)",
        }
        kube.state.watch_scripts.extend(
            [
                [("raw", {"type": "ERROR", "object": gone})],
                [("event", "MODIFIED", katib.succeeded_experiment(resource_version="2001"))],
            ]
        )
        reader = reader_for()
        finished = reader.wait_until_finished(NAME, timeout_s=10)
        assert "2001" == finished["metadata"]["resourceVersion"]
        assert [] == reader.slept  # an expired version is read again at once

    def test_stalled_stream_times_out_and_reconnects(self, kube, reader_for):
        kube.state.put(_running("100"))
        kube.state.watch_scripts.extend(
            [
                [("stall", 10.0)],
                [("event", "MODIFIED", katib.succeeded_experiment(resource_version="105"))],
            ]
        )
        reader = reader_for(http_timeout_s=0.5)
        started = time.monotonic()
        finished = reader.wait_until_finished(NAME, timeout_s=10)
        assert "105" == finished["metadata"]["resourceVersion"]
        assert time.monotonic() - started < 8  # the client gave up long before the stall ended

    def test_failed_experiment_is_finished_too(self, kube, reader_for):
        kube.state.put(_running("100"))
        kube.state.watch_scripts.append(
            [("event", "MODIFIED", katib.failed_experiment(resource_version="106"))]
        )
        finished = reader_for().wait_until_finished(NAME, timeout_s=10)
        assert "Failed" in [c["type"] for c in finished["status"]["conditions"]]


def _on_fake_time(reader: KatibWatcher) -> KatibWatcher:
    """The reader's clock advances only by what it sleeps, which is recorded."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        reader.slept.append(seconds)
        now[0] += seconds

    reader.clock = lambda: now[0]
    reader.sleep = sleep
    return reader


class TestBackoff:
    """Waiting never turns into a tight loop of requests, and a late Experiment is waited for."""

    def test_experiment_created_after_the_job_is_waited_for(self, kube, reader_for):
        reader = _on_fake_time(reader_for())
        recorded = reader.sleep

        def sleep(seconds: float) -> None:
            recorded(seconds)
            if len(reader.slept) == 2:  # Argo CD creates the Experiment meanwhile
                kube.state.put(katib.succeeded_experiment(resource_version="1600"))

        reader.sleep = sleep
        finished = reader.wait_until_finished(NAME, timeout_s=100)
        assert "1600" == finished["metadata"]["resourceVersion"]
        assert [2.0, 4.0] == reader.slept

    def test_streams_that_end_at_once_back_off(self, kube, reader_for):
        kube.state.put(_running("100"))
        kube.state.watch_scripts.extend(
            [
                [("end",)],
                [("end",)],
                [("event", "MODIFIED", katib.succeeded_experiment(resource_version="108"))],
            ]
        )
        reader = reader_for()
        assert "108" == reader.wait_until_finished(NAME, 10)["metadata"]["resourceVersion"]
        assert [2.0, 4.0] == reader.slept

    def test_error_events_other_than_gone_back_off(self, kube, reader_for):
        kube.state.put(_running("100"))
        overloaded = {"kind": "Status", "code": 500, "message": "etcdserver: request timed out"}
        kube.state.watch_scripts.extend(
            [
                [("raw", {"type": "ERROR", "object": overloaded})],
                [("raw", {"type": "ERROR", "object": overloaded})],
                [("raw", {"type": "ERROR", "object": overloaded})],
                [("event", "MODIFIED", katib.succeeded_experiment(resource_version="109"))],
            ]
        )
        reader = reader_for()
        assert "109" == reader.wait_until_finished(NAME, 10)["metadata"]["resourceVersion"]
        assert [2.0, 4.0, 8.0] == reader.slept

    def test_backoff_is_capped(self, kube, reader_for):
        reader = _on_fake_time(reader_for(max_retry_s=5.0))
        with pytest.raises(ExperimentNotFound):
            reader.wait_until_finished(NAME, timeout_s=20)
        assert [2.0, 4.0, 5.0, 5.0, 4.0] == reader.slept


class TestWaitFailures:
    """Every way of not getting an answer ends in a named error."""

    def test_deadline_passes_while_running(self, kube, reader_for):
        kube.state.put(_running("100"))
        reader = reader_for()
        started = time.monotonic()
        with pytest.raises(ExperimentWaitTimeout, match="did not finish within 0.6s"):
            reader.wait_until_finished(NAME, timeout_s=0.6)
        assert time.monotonic() - started < 3

    def test_missing_experiment_until_the_deadline(self, kube, reader_for):
        reader = _on_fake_time(reader_for())
        with pytest.raises(
            ExperimentNotFound, match="kubeflow/llama-3-2-1b-imdb does not exist .waited 100s"
        ):
            reader.wait_until_finished(NAME, timeout_s=100)
        assert [2.0, 4.0, 8.0, 16.0, 32.0, 38.0] == reader.slept  # backs off, stops at the deadline

    def test_experiment_deleted_while_watching(self, kube, reader_for):
        kube.state.put(_running("100"))
        kube.state.watch_scripts.append([("event", "DELETED", _running("107"))])
        with pytest.raises(ExperimentDeleted, match="was deleted") as raised:
            reader_for().wait_until_finished(NAME, timeout_s=5)
        # Still an absent Experiment to the results Job: the same exit code.
        assert isinstance(raised.value, ExperimentNotFound)

    def test_forbidden_names_the_missing_permission(self, kube, reader_for):
        kube.state.forbidden = True
        with pytest.raises(KubernetesError, match="HTTP 403 forbidden .*get/list/watch"):
            reader_for().wait_until_finished(NAME, timeout_s=5)

    def test_missing_kubeconfig(self, tmp_path):
        with pytest.raises(KubernetesError, match="no usable Kubernetes configuration"):
            kube_api(str(tmp_path / "absent"))


class TestTrials:
    """Trials are found by Katib's experiment label, never by name prefix."""

    def test_lists_only_this_experiments_trials_sorted_by_name(self, kube, reader_for):
        for trial in katib.default_trials():
            kube.state.put(trial)
        kube.state.put(
            katib.trial(
                "zzz", learning_rate="1e-05", r="8", use_rslora="true", experiment=f"{NAME}-v2"
            )
        )
        trials = reader_for().trials(NAME)
        expected = sorted(t["metadata"]["name"] for t in katib.default_trials())
        assert expected == [t["metadata"]["name"] for t in trials]
        [listing] = [r for r in kube.state.requests if "/trials" in r]
        assert "labelSelector=katib.kubeflow.org%2Fexperiment%3Dllama-3-2-1b-imdb" in listing
