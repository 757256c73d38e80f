"""Watch a Katib Experiment until a condition holds, and list its Trials, through pykube-ng.

The one Experiment watcher of the project: the results Job waits here for its Experiment to
finish, and the notebook client waits here for the condition a person asked for.

One GET tells where the Experiment stands and gives the resourceVersion to watch from; the watch
then streams every change, so nothing polls. Watches break in practice, and each way is handled:
- the server ends a watch after `timeoutSeconds` (asked shorter than the client's read timeout),
  or a quiet proxy makes the read time out: watch again from the last version seen;
- a version the server no longer keeps (410 Gone, as an ERROR event or as the watch's answer)
  means events were missed: read the Experiment again and watch from its current version;
- a dropped connection, a 5xx or 429, another ERROR event, or a stream that ends as soon as it
  starts: watch again after a pause that grows, never in a tight loop;
- 401/403 is final, and says which permission is missing.
An Experiment that does not exist yet is waited for too when the caller allows it: Argo CD may
create the results Job before the Experiment, and a person may wait before the merge.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from results.errors import (
    ExperimentNotFound,
    ExperimentWaitTimeout,
    KubernetesAuthError,
    KubernetesError,
)
from results.katib_objects import EXPERIMENT_LABEL, experiment_outcome

log = logging.getLogger(__name__)

KATIB_API_VERSION = "kubeflow.org/v1beta1"
GONE = 410
PERMISSION_HINT = (
    "the ServiceAccount or kubeconfig user needs get/list/watch on experiments and trials, and "
    "patch on experiments to enforce a budget"
)
# Who the results Job's changes to an Experiment are recorded as (metadata.managedFields).
FIELD_MANAGER = "hpo-results"


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


def kube_api(
    kubeconfig: str | None = None, *, context: str | None = None, timeout_s: float = 330.0
) -> Any:
    """An HTTPClient from `kubeconfig` or KUBECONFIG, else the pod's ServiceAccount, else
    ~/.kube/config. `timeout_s` is the read timeout, which every watch must end before."""
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
        if context:
            config.set_current_context(context)
    except (pykube.exceptions.PyKubeError, OSError, ValueError, KeyError) as e:
        message = f"no usable Kubernetes configuration (in-cluster or KUBECONFIG): {e}"
        raise KubernetesError(message) from e
    return pykube.HTTPClient(config, timeout=timeout_s)


def _status_code(error: BaseException) -> int | None:
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _read_timed_out(error: BaseException) -> bool:
    """requests reports a read timeout inside a stream as a ConnectionError wrapping urllib3's."""
    import requests
    from urllib3.exceptions import ReadTimeoutError

    if isinstance(error, requests.Timeout):
        return True
    return isinstance(error, requests.ConnectionError) and any(
        isinstance(arg, ReadTimeoutError) for arg in error.args
    )


def _is_transient(error: BaseException) -> bool:
    import requests

    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(error, requests.exceptions.ChunkedEncodingError | json.JSONDecodeError):
        return True  # a stream cut in the middle of a chunk or a line
    code = _status_code(error)
    return code is not None and (code >= 500 or code == 429)


class _ReadAgain(Exception):
    """The watch's resourceVersion is older than the server keeps: events were missed."""


class _Unproductive(Exception):
    """A watch that brought nothing and should not be repeated at once."""


@dataclass
class _Progress:
    current: dict[str, Any] | None = None
    version: str | None = None
    failures: int = 0  # consecutive unproductive attempts: the pause grows with them
    missing: bool = False


class KatibWatcher:
    """Reads and watches one namespace's Katib objects; every pause goes through `sleep`."""

    def __init__(
        self,
        api: Any,
        namespace: str,
        *,
        watch_timeout_s: float = 300,
        retry_s: float = 2.0,
        max_retry_s: float = 60.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        import time

        self.api = api
        self.namespace = namespace
        self.watch_timeout_s = watch_timeout_s
        self.retry_s = retry_s
        self.max_retry_s = max_retry_s
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep

    def _where(self, name: str) -> str:
        return f"Experiment {self.namespace}/{name}"

    def _fail(self, what: str, error: BaseException) -> KubernetesError:
        code = _status_code(error)
        if code in (401, 403):
            return KubernetesAuthError(f"{what}: HTTP {code} forbidden ({PERMISSION_HINT})")
        return KubernetesError(f"{what}: {type(error).__name__}: {error}")

    def experiment(self, name: str) -> dict[str, Any]:
        """The Experiment as the API server returns it; ExperimentNotFound when there is none."""
        from pykube.exceptions import ObjectDoesNotExist

        experiment_kind, _ = katib_kinds()
        try:
            found = experiment_kind.objects(self.api, namespace=self.namespace).get_by_name(name)
        except ObjectDoesNotExist as e:
            raise ExperimentNotFound(f"{self._where(name)} does not exist") from e
        except Exception as e:
            raise self._fail(f"reading {self._where(name)}", e) from e
        return found.obj

    def wait(
        self,
        name: str,
        until: Callable[[dict[str, Any]], bool],
        timeout_s: float,
        *,
        goal: str = "finish",
        wait_for_creation: bool = True,
        on_missing: Callable[[], None] = lambda: None,
    ) -> dict[str, Any]:
        """The Experiment once `until(experiment)` is true (`until` may raise to give up).

        ExperimentWaitTimeout when the deadline passes first ("did not <goal> within ..."), and
        ExperimentNotFound when the Experiment does not exist: at once, or, with
        `wait_for_creation`, when it never appeared; `on_missing` runs before each wait for it.
        """
        deadline = self.clock() + timeout_s
        state = _Progress()
        while True:
            if state.current is None:
                state.current = self._read_or_wait(
                    name, state, deadline, timeout_s, wait_for_creation, on_missing
                )
                if state.current is None:
                    continue
                state.version = state.current["metadata"].get("resourceVersion")
                self._log_progress(name, state.current)
            if until(state.current):
                return state.current
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise ExperimentWaitTimeout(
                    f"{self._where(name)} did not {goal} within {timeout_s:g}s"
                )
            seconds = max(1, int(min(self.watch_timeout_s, remaining)))
            try:
                if self._watch_once(name, state, seconds, until):
                    return state.current
                state.failures = 0
            except _ReadAgain:
                log.info("watch of %s expired; reading it again", name)
                state.current = None
            except _Unproductive as e:
                self._back_off(state, deadline, f"watch of {name}: {e}; retrying")
            except KubernetesError:
                raise
            except Exception as e:
                if _status_code(e) == GONE:
                    state.current = None
                elif _read_timed_out(e):
                    pass  # a quiet stream outlasted the read timeout: watch again at once
                elif _is_transient(e):
                    self._back_off(state, deadline, f"watch of {name} interrupted ({e}); again")
                else:
                    raise self._fail(f"watching {self._where(name)}", e) from e

    def wait_until_finished(self, name: str, timeout_s: float) -> dict[str, Any]:
        """The Experiment once it has Succeeded or Failed, waiting for Argo CD to create it."""
        return self.wait(
            name, lambda experiment: experiment_outcome(experiment) is not None, timeout_s
        )

    def _read_or_wait(
        self, name, state, deadline, timeout_s, wait_for_creation, on_missing
    ) -> dict | None:
        """The Experiment, or None after a pause while it does not exist yet."""
        try:
            experiment = self.experiment(name)
        except ExperimentNotFound:
            if not wait_for_creation or self.clock() >= deadline:
                waited = f" (waited {timeout_s:g}s for Argo CD to create it)"
                waited = waited if state.missing else ""
                raise ExperimentNotFound(f"{self._where(name)} does not exist{waited}") from None
            state.missing = True
            on_missing()
            self._back_off(state, deadline, f"{self._where(name)} does not exist yet")
            return None
        except KubernetesError as e:
            if isinstance(e, KubernetesAuthError) or not _is_transient(e.__cause__ or e):
                raise
            self._back_off(state, deadline, f"reading {name} failed ({e}); again")
            return None
        state.missing = False
        return experiment

    def _watch_once(self, name: str, state: _Progress, seconds: int, until) -> bool:
        """Follow one watch stream; True once `until` holds, False when the stream ended."""
        experiment_kind, _ = katib_kinds()
        query = experiment_kind.objects(self.api, namespace=self.namespace).filter(
            field_selector={"metadata.name": name}
        )
        started = self.clock()
        events = 0
        stream = query.watch(since=state.version, params={"timeoutSeconds": str(seconds)})
        for event in stream:
            obj = event.object.obj if isinstance(event.object.obj, dict) else {}
            if event.type == "ERROR":
                if obj.get("code") == GONE:
                    raise _ReadAgain
                if obj.get("code") in (401, 403):
                    message = obj.get("message") or obj.get("reason") or "forbidden"
                    raise KubernetesAuthError(
                        f"watching {self._where(name)}: {message} ({PERMISSION_HINT})"
                    )
                raise _Unproductive(f"error event: {obj.get('message') or obj}")
            if event.type == "DELETED":
                raise ExperimentNotFound(f"{self._where(name)} was deleted")
            events += 1
            state.current = obj
            state.version = obj["metadata"].get("resourceVersion", state.version)
            if until(obj):
                return True
        if not events and self.clock() - started < min(1.0, seconds / 4):
            raise _Unproductive("the watch ended as soon as it started")
        return False

    def _back_off(self, state: _Progress, deadline: float, why: str) -> None:
        state.failures += 1
        log.info("%s", why)
        pause = min(self.max_retry_s, self.retry_s * 2 ** min(state.failures - 1, 6))
        self.sleep(max(0.0, min(pause, deadline - self.clock())))

    def _log_progress(self, name: str, experiment: dict[str, Any]) -> None:
        status = experiment.get("status") or {}
        log.info(
            "%s: %s trials, %s succeeded",
            self._where(name),
            status.get("trials", 0),
            status.get("trialsSucceeded", 0),
        )

    def patch_trial_counts(self, name: str, counts: dict[str, int]) -> dict[str, Any]:
        """Set some of the Experiment's trial counts (the only spec fields Katib lets change) as
        FIELD_MANAGER, whose fields Argo CD leaves alone (argocd/applicationset.yaml)."""
        experiment_kind, _ = katib_kinds()
        obj = experiment_kind(self.api, {"metadata": {"name": name, "namespace": self.namespace}})
        try:
            answer = self.api.patch(
                **obj.api_kwargs(
                    params={"fieldManager": FIELD_MANAGER},
                    headers={"Content-Type": "application/merge-patch+json"},
                    data=json.dumps({"spec": counts}, sort_keys=True),
                )
            )
            self.api.raise_for_status(answer)
        except Exception as e:
            raise self._fail(f"patching {self._where(name)}", e) from e
        return answer.json()

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
