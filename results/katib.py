"""Wait for a Katib Experiment to finish and read it with its Trials, through pykube-ng.

Watches break in practice: the API server ends them after timeoutSeconds, proxies drop idle
connections, and a resourceVersion can expire (410). Each of those leads back to a fresh read
followed by a new watch, until the Experiment finishes or the deadline passes. An Experiment
that does not exist yet is waited for too: Argo CD may create this Job before the Experiment in
the same sync. Anything that keeps failing (dropped connections, error events other than 410,
streams that end at once) is retried after a growing pause, never in a tight loop.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from results.errors import ExperimentNotFound, ExperimentWaitTimeout, KubernetesError
from results.katib_objects import EXPERIMENT_LABEL, experiment_outcome

log = logging.getLogger(__name__)

KATIB_API_VERSION = "kubeflow.org/v1beta1"


@functools.cache
def katib_kinds() -> tuple[type, type]:
    """pykube classes for Experiment and Trial (built on first use: pykube is imported late)."""
    from pykube.objects import NamespacedAPIObject

    class Experiment(NamespacedAPIObject):
        version = KATIB_API_VERSION
        endpoint = "experiments"
        kind = "Experiment"

    class Trial(NamespacedAPIObject):
        version = KATIB_API_VERSION
        endpoint = "trials"
        kind = "Trial"

    return Experiment, Trial


def kube_api(kubeconfig: str | None = None, *, timeout_s: float = 330.0) -> Any:
    """An HTTPClient from KUBECONFIG (or `kubeconfig`), else the pod's service account."""
    import pykube

    path = kubeconfig or os.environ.get("KUBECONFIG")
    try:
        if path:
            config = pykube.KubeConfig.from_file(path)
        else:
            try:
                config = pykube.KubeConfig.from_service_account()
            except (FileNotFoundError, KeyError):
                config = pykube.KubeConfig.from_file(str(Path("~/.kube/config").expanduser()))
    except (pykube.exceptions.PyKubeError, OSError, ValueError) as e:
        message = f"no usable Kubernetes configuration (in-cluster or KUBECONFIG): {e}"
        raise KubernetesError(message) from e
    # The read timeout must outlast a watch's timeoutSeconds, or every quiet watch would fail.
    return pykube.HTTPClient(config, timeout=timeout_s)


def _status_code(error: BaseException) -> int | None:
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _is_transient(error: BaseException) -> bool:
    import requests

    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(error, requests.exceptions.ChunkedEncodingError | json.JSONDecodeError):
        return True  # a stream cut in the middle of a chunk or a line
    code = _status_code(error)
    return code is not None and (code >= 500 or code in (410, 429))


class _Unproductive(Exception):
    """A watch that brought nothing and should not be repeated at once."""


class KatibReader:
    def __init__(
        self,
        api: Any,
        namespace: str,
        *,
        watch_timeout_s: int = 300,
        retry_s: float = 2.0,
        max_retry_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.watch_timeout_s = watch_timeout_s
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self.clock = clock
        self.sleep = sleep

    def _fail(self, what: str, error: BaseException) -> KubernetesError:
        code = _status_code(error)
        if code in (401, 403):
            hint = " (the results ServiceAccount needs get/list/watch on experiments and trials)"
            return KubernetesError(f"{what}: HTTP {code} forbidden{hint}")
        return KubernetesError(f"{what}: {type(error).__name__}: {error}")

    def experiment(self, name: str) -> dict[str, Any]:
        from pykube.exceptions import ObjectDoesNotExist

        experiment_kind, _ = katib_kinds()
        try:
            found = experiment_kind.objects(self.api, namespace=self.namespace).get_by_name(name)
        except ObjectDoesNotExist as e:
            raise ExperimentNotFound(f"Experiment {self.namespace}/{name} does not exist") from e
        return found.obj

    def _watch_once(self, name: str, version: str | None, seconds: int) -> dict[str, Any] | None:
        """Follow one watch stream; the finished Experiment, or None when the stream ended."""
        experiment_kind, _ = katib_kinds()
        query = experiment_kind.objects(self.api, namespace=self.namespace).filter(
            field_selector={"metadata.name": name}
        )
        started = self.clock()
        events = 0
        for event in query.watch(since=version, params={"timeoutSeconds": str(seconds)}):
            if event.type == "ERROR":
                status = event.object.obj if isinstance(event.object.obj, dict) else {}
                if status.get("code") == 410:  # our resourceVersion is too old: read again
                    log.info("watch of %s expired; reading it again", name)
                    return None
                raise _Unproductive(f"error event: {status.get('message') or status}")
            if event.type == "DELETED":
                raise ExperimentNotFound(f"Experiment {self.namespace}/{name} was deleted")
            if experiment_outcome(event.object.obj):
                return event.object.obj
            events += 1
        if not events and self.clock() - started < min(1.0, seconds / 4):
            raise _Unproductive("the watch ended as soon as it started")
        return None

    def _pause(self, failures: int, deadline: float) -> None:
        wait = min(self.max_retry_s, self.retry_s * 2 ** min(failures - 1, 6))
        self.sleep(max(0.0, min(wait, deadline - self.clock())))

    def wait_until_finished(self, name: str, timeout_s: float) -> dict[str, Any]:
        """The Experiment once it has Succeeded or Failed; ExperimentWaitTimeout otherwise
        (ExperimentNotFound when it never appeared)."""
        deadline = self.clock() + timeout_s
        failures = 0
        missing = False
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                if missing:
                    raise ExperimentNotFound(
                        f"Experiment {self.namespace}/{name} does not exist "
                        f"(waited {timeout_s:g}s for Argo CD to create it)"
                    )
                raise ExperimentWaitTimeout(
                    f"Experiment {self.namespace}/{name} did not finish within {timeout_s:g}s"
                )
            try:
                try:
                    experiment = self.experiment(name)
                except ExperimentNotFound:
                    missing = True
                    failures += 1
                    log.info("Experiment %s/%s does not exist yet", self.namespace, name)
                    self._pause(failures, deadline)
                    continue
                missing = False
                if experiment_outcome(experiment):
                    return experiment
                status = experiment.get("status") or {}
                log.info(
                    "waiting for Experiment %s/%s: %s trials, %s succeeded",
                    self.namespace,
                    name,
                    status.get("trials", 0),
                    status.get("trialsSucceeded", 0),
                )
                version = experiment["metadata"].get("resourceVersion")
                seconds = max(1, int(min(self.watch_timeout_s, remaining)))
                finished = self._watch_once(name, version, seconds)
                if finished is not None:
                    return finished
                failures = 0
            except KubernetesError:
                raise
            except _Unproductive as e:
                failures += 1
                log.info("watch of %s: %s; retrying", name, e)
                self._pause(failures, deadline)
            except Exception as e:
                if not _is_transient(e):
                    raise self._fail(f"watching Experiment {self.namespace}/{name}", e) from e
                failures += 1
                log.info("watch of %s interrupted (%s); reconnecting", name, type(e).__name__)
                self._pause(failures, deadline)

    def trials(self, name: str, attempts: int = 5) -> list[dict[str, Any]]:
        """Every Trial of the Experiment, by Katib's experiment label, sorted by name."""
        _, trial_kind = katib_kinds()
        query = trial_kind.objects(self.api, namespace=self.namespace).filter(
            selector={EXPERIMENT_LABEL: name}
        )
        for attempt in range(attempts):
            try:
                found = [t.obj for t in query.iterator()]
                return sorted(found, key=lambda t: t["metadata"]["name"])
            except Exception as e:
                if not _is_transient(e) or attempt + 1 == attempts:
                    raise self._fail(f"listing Trials of {self.namespace}/{name}", e) from e
                self.sleep(min(self.max_retry_s, self.retry_s * 2**attempt))
        raise AssertionError("unreachable")
