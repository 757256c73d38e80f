"""Watch a Katib Experiment on the cluster until it reaches a condition (pykube-ng).

One GET tells where it stands and gives the resourceVersion to watch from; the watch then
streams every change, so nothing polls. Each watch asks the server to end the stream at the
deadline (timeoutSeconds), and a stream that ends early is resumed from the last version seen.
A version the server no longer keeps (410 Gone, as an ERROR event or as the watch's answer)
means events were missed: the Experiment is read again and watched from its current version.
"""

from __future__ import annotations

import time

from generator.client_params import ClientError

GONE = 410


class _Expired(Exception):
    """The watch's resourceVersion is older than the server keeps."""


def _experiment_class():
    import pykube

    class Experiment(pykube.objects.NamespacedAPIObject):
        version = "kubeflow.org/v1beta1"
        endpoint = "experiments"
        kind = "Experiment"

    return Experiment


def _api(config_file: str | None, context: str | None, apiserver_timeout: float):
    import pykube

    try:
        if config_file:
            config = pykube.KubeConfig.from_file(config_file)
        else:
            config = pykube.KubeConfig.from_env()
        if context:
            config.set_current_context(context)
    except (pykube.exceptions.PyKubeError, OSError, KeyError) as e:
        raise ClientError(f"cannot load the Kubernetes configuration: {e}") from None
    return pykube.HTTPClient(config, timeout=apiserver_timeout)


def condition_status(experiment: dict, condition: str) -> bool:
    for entry in (experiment.get("status") or {}).get("conditions") or []:
        if entry.get("type") == condition:
            return str(entry.get("status")) == "True"
    return False


def _reached(experiment: dict, name: str, expected: str) -> bool:
    if condition_status(experiment, expected):
        return True
    if expected != "Failed" and condition_status(experiment, "Failed"):
        reason = next(
            (
                c.get("message") or c.get("reason")
                for c in experiment["status"]["conditions"]
                if c.get("type") == "Failed"
            ),
            "no reason given",
        )
        raise ClientError(f"experiment {name} failed: {reason}")
    return False


def wait_for_condition(
    name: str,
    namespace: str,
    expected: str,
    *,
    timeout: float,
    apiserver_timeout: float,
    config_file: str | None = None,
    context: str | None = None,
) -> dict:
    import pykube
    import requests

    api = _api(config_file, context, apiserver_timeout)
    experiments = _experiment_class().objects(api, namespace=namespace)
    deadline = time.monotonic() + timeout
    current = _read(experiments, name, namespace)
    version = current["metadata"].get("resourceVersion")
    while not _reached(current, name, expected):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ClientError(
                f"experiment {name} did not reach {expected} within {timeout:g} seconds"
            )
        watch = experiments.filter(field_selector={"metadata.name": name}).watch(
            since=version, params={"timeoutSeconds": str(max(1, int(remaining)))}
        )
        try:
            for event in watch:
                if event.type == "ERROR":
                    _raise_error_event(event.object.obj, name)
                version = event.object.obj["metadata"].get("resourceVersion", version)
                if event.type == "DELETED":
                    raise ClientError(f"experiment {name} was deleted while waiting")
                current = event.object.obj
                if _reached(current, name, expected):
                    break
        except (_Expired, pykube.exceptions.HTTPError, requests.RequestException) as e:
            if not isinstance(e, _Expired) and getattr(e, "code", None) != GONE:
                raise ClientError(f"watching experiment {name} failed: {e}") from None
            current = _read(experiments, name, namespace)  # the events in between are gone
            version = current["metadata"].get("resourceVersion")
    return current


def _read(experiments, name: str, namespace: str) -> dict:
    import pykube
    import requests

    try:
        return experiments.get_by_name(name).obj
    except pykube.exceptions.ObjectDoesNotExist:
        raise ClientError(
            f"experiment {name} is not in namespace {namespace} (yet): Argo CD creates it once "
            f"its definition is merged and synced"
        ) from None
    except (pykube.exceptions.HTTPError, requests.RequestException) as e:
        raise ClientError(f"cannot read experiment {name} from the cluster: {e}") from None


def _raise_error_event(status: dict, name: str) -> None:
    """An ERROR event carries a Status: 410 means read again, anything else is a failure."""
    if status.get("code") == GONE:
        raise _Expired
    message = status.get("message") or status.get("reason") or "no message"
    raise ClientError(f"watching experiment {name} failed: {message}")
