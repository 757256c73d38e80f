"""Watch a Katib Experiment on the cluster until it reaches a condition (pykube-ng).

One GET tells where it stands and gives the resourceVersion to watch from; the watch then
streams every change, so nothing polls. Each watch asks the server to end the stream
(timeoutSeconds) before the client's own read timeout would, and a stream that ends early is
resumed from the last version seen. A quiet stream that still outlasts the read timeout, or a
connection a proxy drops, is resumed the same way (a dropped one after a short, growing pause).
A version the server no longer keeps (410 Gone, as an ERROR event or as the watch's answer)
means events were missed: the Experiment is read again and watched from its current version.
"""

from __future__ import annotations

import time

from generator.client_params import ClientError

GONE = 410
# The server ends each watch after this share of the read timeout, so a quiet stream closes
# cleanly before requests would call it a read timeout.
WATCH_SHARE_OF_READ_TIMEOUT = 0.75
RECONNECT_PAUSE_S = 0.5
MAX_RECONNECT_PAUSE_S = 30.0


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
    drops = 0
    while not _reached(current, name, expected):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ClientError(
                f"experiment {name} did not reach {expected} within {timeout:g} seconds"
            )
        seconds = max(1, int(min(remaining, apiserver_timeout * WATCH_SHARE_OF_READ_TIMEOUT)))
        watch = experiments.filter(field_selector={"metadata.name": name}).watch(
            since=version, params={"timeoutSeconds": str(seconds)}
        )
        try:
            for event in watch:
                if event.type == "ERROR":
                    _raise_error_event(event.object.obj, name)
                version = event.object.obj["metadata"].get("resourceVersion", version)
                drops = 0
                if event.type == "DELETED":
                    raise ClientError(f"experiment {name} was deleted while waiting")
                current = event.object.obj
                if _reached(current, name, expected):
                    break
        except (_Expired, pykube.exceptions.HTTPError, requests.RequestException) as e:
            if _read_timed_out(e):
                continue  # a quiet stream: watch again from the last version seen
            if _dropped(e):
                drops += 1
                pause = min(MAX_RECONNECT_PAUSE_S, RECONNECT_PAUSE_S * 2 ** min(drops - 1, 8))
                time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
                continue
            if not isinstance(e, _Expired) and getattr(e, "code", None) != GONE:
                raise ClientError(f"watching experiment {name} failed: {e}") from None
            current = _read(experiments, name, namespace)  # the events in between are gone
            version = current["metadata"].get("resourceVersion")
    return current


def _read_timed_out(error: BaseException) -> bool:
    """requests reports a read timeout inside a stream as a ConnectionError wrapping urllib3's."""
    import requests
    from urllib3.exceptions import ReadTimeoutError

    if isinstance(error, requests.Timeout):
        return True
    return isinstance(error, requests.ConnectionError) and any(
        isinstance(arg, ReadTimeoutError) for arg in error.args
    )


def _dropped(error: BaseException) -> bool:
    import requests

    return isinstance(error, requests.ConnectionError | requests.exceptions.ChunkedEncodingError)


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
