"""Katib objects on a cluster through pykube-ng: the one Kubernetes client of the project.

`KatibObjects` reads Experiments and Trials (and the pods and logs of a trial) and patches the
trial counts a budget lowers; `katib.watch.KatibWatcher` adds waiting for a condition. Errors
are named: 401/403 say which permission is missing, a missing object is ExperimentNotFound.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from katib.errors import ExperimentNotFound, KubernetesAuthError, KubernetesError
from katib.objects import EXPERIMENT_LABEL

TRIAL_LABEL = "katib.kubeflow.org/trial"
KATIB_API_VERSION = "kubeflow.org/v1beta1"
GONE = 410
PERMISSION_HINT = (
    "the ServiceAccount or kubeconfig user needs get/list/watch on experiments and trials, and "
    "patch on its experiment to enforce a budget and release it once finished"
)
# Who the results Job's changes to an Experiment are recorded as (metadata.managedFields).
FIELD_MANAGER = "hpo-results"
# The annotation whose Prune=false,Delete=false keeps Argo CD from deleting an Experiment.
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"


KATIB_KINDS = {"experiments": "Experiment", "trials": "Trial", "suggestions": "Suggestion"}


@functools.cache
def katib_kind(endpoint: str) -> type:
    """The pykube class of a Katib kind by its plural (built on first use: pykube is imported
    late, so a container without it can still import this module)."""
    from pykube.objects import NamespacedAPIObject

    return type(
        KATIB_KINDS[endpoint],
        (NamespacedAPIObject,),
        {"version": KATIB_API_VERSION, "endpoint": endpoint, "kind": KATIB_KINDS[endpoint]},
    )


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
            if context not in config.contexts:
                known = ", ".join(sorted(config.contexts)) or "none"
                raise KubernetesError(
                    f"the kubeconfig has no context '{context}' (it has: {known})"
                )
            config.set_current_context(context)
    except (pykube.exceptions.PyKubeError, OSError, ValueError, KeyError) as e:
        message = f"no usable Kubernetes configuration (in-cluster or KUBECONFIG): {e}"
        raise KubernetesError(message) from e
    return pykube.HTTPClient(config, timeout=timeout_s)


def status_code(error: BaseException) -> int | None:
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def read_timed_out(error: BaseException) -> bool:
    """requests reports a read timeout inside a stream as a ConnectionError wrapping urllib3's."""
    import requests
    from urllib3.exceptions import ReadTimeoutError

    if isinstance(error, requests.Timeout):
        return True
    return isinstance(error, requests.ConnectionError) and any(
        isinstance(arg, ReadTimeoutError) for arg in error.args
    )


def is_transient(error: BaseException) -> bool:
    import requests

    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(error, requests.exceptions.ChunkedEncodingError | json.JSONDecodeError):
        return True  # a stream cut in the middle of a chunk or a line
    code = status_code(error)
    return code is not None and (code >= 500 or code == 429)


class KatibObjects:
    """Reads and patches one namespace's Katib objects; every pause goes through `sleep`."""

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
        code = status_code(error)
        if code in (401, 403):
            return KubernetesAuthError(f"{what}: HTTP {code} forbidden ({PERMISSION_HINT})")
        return KubernetesError(f"{what}: {type(error).__name__}: {error}")

    def experiment(self, name: str) -> dict[str, Any]:
        """The Experiment as the API server returns it; ExperimentNotFound when there is none."""
        return self.named("experiments", name)

    def trials(self, name: str | None, attempts: int = 5) -> list[dict[str, Any]]:
        """Every Trial of the Experiment `name` (by Katib's experiment label), or of the whole
        namespace for None, sorted by name."""
        query = katib_kind("trials").objects(self.api, namespace=self.namespace)
        if name is not None:
            query = query.filter(selector={EXPERIMENT_LABEL: name})
        whose = f"{self.namespace}/{name}" if name is not None else f"namespace {self.namespace}"
        for attempt in range(attempts):
            try:
                found = [t.obj for t in query.iterator()]
                return sorted(found, key=lambda t: t["metadata"]["name"])
            except Exception as e:
                if not is_transient(e) or attempt + 1 == attempts:
                    raise self._fail(f"listing Trials of {whose}", e) from e
                self.sleep(min(self.max_retry_s, self.retry_s * 2**attempt))
        raise AssertionError("unreachable")

    def patch_trial_counts(self, name: str, counts: dict[str, int]) -> dict[str, Any]:
        """Set some of the Experiment's trial counts (the only spec fields Katib lets change) as
        FIELD_MANAGER, whose fields Argo CD leaves alone (argocd/applicationset.yaml)."""
        return self._patch_experiment(name, {"spec": counts})

    def release_experiment(self, name: str) -> dict[str, Any]:
        """Lift the finished Experiment's Prune=false,Delete=false: its record is going to Git,
        so archiving the experiment may delete it (docs/lifecycle.md). Set as FIELD_MANAGER, so
        Argo CD's later syncs leave the emptied option as it is instead of restoring it."""
        return self._patch_experiment(name, {"metadata": {"annotations": {SYNC_OPTIONS: ""}}})

    def _patch_experiment(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        obj = katib_kind("experiments")(
            self.api, {"metadata": {"name": name, "namespace": self.namespace}}
        )
        try:
            answer = self.api.patch(
                **obj.api_kwargs(
                    params={"fieldManager": FIELD_MANAGER},
                    headers={"Content-Type": "application/merge-patch+json"},
                    data=json.dumps(patch, sort_keys=True),
                )
            )
            self.api.raise_for_status(answer)
        except Exception as e:
            raise self._fail(f"patching {self._where(name)}", e) from e
        return answer.json()

    def listed(self, endpoint: str) -> list[dict[str, Any]]:
        """Every object of a Katib kind ("experiments", "suggestions") in the namespace, by name."""
        try:
            found = [
                o.obj for o in katib_kind(endpoint).objects(self.api, namespace=self.namespace)
            ]
        except Exception as e:
            raise self._fail(f"listing {endpoint} of {self.namespace}", e) from e
        return sorted(found, key=lambda o: o["metadata"]["name"])

    def named(self, endpoint: str, name: str) -> dict[str, Any]:
        """One object of a Katib kind by its name; ExperimentNotFound when there is none."""
        from pykube.exceptions import ObjectDoesNotExist

        kind = KATIB_KINDS[endpoint]
        try:
            return (
                katib_kind(endpoint)
                .objects(self.api, namespace=self.namespace)
                .get_by_name(name)
                .obj
            )
        except ObjectDoesNotExist as e:
            raise ExperimentNotFound(f"{kind} {self.namespace}/{name} does not exist") from e
        except Exception as e:
            raise self._fail(f"reading {kind} {self.namespace}/{name}", e) from e

    def trial_logs(self, trial: dict[str, Any], follow: bool = False) -> Iterator[str]:
        """The log lines of a trial's primary pod and container, as Katib's SDK reads them."""
        import pykube

        spec = trial.get("spec") or {}
        labels = {TRIAL_LABEL: trial["metadata"]["name"], **(spec.get("primaryPodLabels") or {})}
        try:
            pods = list(
                pykube.Pod.objects(self.api, namespace=self.namespace).filter(selector=labels)
            )
            if not pods:
                raise ExperimentNotFound(
                    f"no pod of Trial {self.namespace}/{trial['metadata']['name']} (yet): it "
                    "starts once Katib creates its job, and is gone once the job is cleaned up"
                )
            pod = sorted(pods, key=lambda p: p.name)[0]
            query = {
                "container": spec.get("primaryContainerName") or "",
                "follow": follow and "true",
            }
            answer = self.api.get(
                version="v1",
                namespace=self.namespace,
                url=f"pods/{pod.name}/log?" + urlencode({k: v for k, v in query.items() if v}),
                stream=follow,
            )
            self.api.raise_for_status(answer)
            yield from answer.iter_lines(decode_unicode=True)
        except KubernetesError:
            raise
        except Exception as e:
            raise self._fail(f"reading the logs of Trial {trial['metadata']['name']}", e) from e
