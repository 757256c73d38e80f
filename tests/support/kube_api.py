"""The one Kubernetes API server of the tests: Katib's kinds, pods and their logs on loopback.

Speaks the wire format pykube uses: GET of one object, lists with labelSelector/fieldSelector,
and `?watch=true` streams of newline-delimited JSON events in chunked encoding. Each watch
connection plays the next scripted list of steps, which may cut the connection mid-chunk,
stall, or change an object without an event, the way proxies and API servers do; a script of
GONE answers the watch itself with HTTP 410. Objects can also arrive later (`KubeState.later`),
the way Argo CD creates an Experiment after a merge and Katib then updates it: an unscripted
watch streams them as they arrive. Pods list by label and serve `pods/NAME/log` per container.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackServer

PREFIX = "/apis/kubeflow.org/v1beta1/namespaces/"
CORE_PREFIX = "/api/v1/namespaces/"
KATIB_STORES = {"Experiment": "experiments", "Trial": "trials", "Suggestion": "suggestions"}
GONE = "gone"  # a watch script: the watch request itself is answered 410 Gone


def expired(version: int) -> dict[str, Any]:
    """The Status an API server sends for a resourceVersion it no longer keeps."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: {version} ({version + 100})",
        "reason": "Expired",
        "code": 410,
    }


@dataclass
class KubeState:
    experiments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    trials: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    suggestions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    pods: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # (namespace, pod, container) -> the container's log text.
    logs: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # (monotonic time, object): put when that time has come, streamed to an unscripted watch.
    arrivals: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    # One entry per watch connection, a list of steps: ("event", TYPE, obj) stores and sends
    # obj; ("missed", obj) stores it without an event; ("raw", event) sends an event as is;
    # ("drop",), ("stall", seconds), ("end",). GONE instead of a list answers 410.
    watch_scripts: deque[list[tuple] | str] = field(default_factory=deque)
    requests: list[str] = field(default_factory=list)
    # Every PATCH as received: (path with query, Content-Type, parsed body).
    patches: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    forbidden: bool = False
    forbid_patches: bool = False  # reads allowed, writes refused: a Role without patch
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, obj: dict[str, Any]) -> None:
        store = getattr(self, KATIB_STORES.get(obj["kind"], "pods"))
        store[(obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj

    def later(self, seconds: float, obj: dict[str, Any]) -> None:
        """Put `obj` once `seconds` have passed (arrivals are kept in time order)."""
        with self.lock:
            self.arrivals.append((time.monotonic() + seconds, obj))
            self.arrivals.sort(key=lambda arrival: arrival[0])

    def arrive(self) -> list[dict[str, Any]]:
        """Put every object whose time has come; return them."""
        now, due = time.monotonic(), []
        with self.lock:
            while self.arrivals and self.arrivals[0][0] <= now:
                due.append(self.arrivals.pop(0)[1])
                self.put(due[-1])
        return due

    def watches(self) -> list[str]:
        return [r for r in self.requests if "watch=true" in r]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, as the API server applies application/merge-patch+json."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def katib_count_rules(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """What Katib's validating webhook says of a change to an Experiment's trial counts."""
    spec, trials = new.get("spec") or {}, (old.get("status") or {}).get("trials", 0)
    most = spec.get("maxTrialCount")
    if most is not None and spec != old.get("spec") and most <= trials:
        return (
            f"spec.maxTrialCount: Invalid value: {most}: must be greater than status.trials count"
        )
    for name in ("parallelTrialCount", "maxFailedTrialCount"):
        if most is not None and spec.get(name) is not None and spec[name] > most:
            rule = "should be less than or equal to spec.maxTrialCount"
            return f"spec.{name}: Invalid value: {spec[name]}: {rule}"
    return None


def _matches(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: KubeState

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, code: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _status(self, code: int, reason: str, message: str) -> None:
        self._json(
            code,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": message,
                "reason": reason,
                "code": code,
            },
        )

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.state.lock:
            self.state.requests.append(self.path)
        self.state.arrive()
        if self.state.forbidden:
            return self._status(403, "Forbidden", "experiments.kubeflow.org is forbidden")
        if url.path.startswith(CORE_PREFIX):
            return self._core(url.path[len(CORE_PREFIX) :].split("/"), query)
        if not url.path.startswith(PREFIX):
            return self._status(404, "NotFound", f"no route for {url.path}")
        namespace, plural, *rest = url.path[len(PREFIX) :].split("/")
        store = getattr(self.state, plural) if plural in KATIB_STORES.values() else None
        if store is None:
            return self._status(404, "NotFound", f"the server could not find {plural}")
        if rest:
            obj = store.get((namespace, rest[0]))
            if obj is None:
                return self._status(404, "NotFound", f'{plural}.kubeflow.org "{rest[0]}" not found')
            return self._json(200, obj)
        if query.get("watch") == "true":
            return self._watch(query)
        items = [
            o
            for (ns, name), o in sorted(store.items())
            if ns == namespace
            and _matches(query.get("labelSelector", ""), o["metadata"].get("labels") or {})
            and query.get("fieldSelector", f"metadata.name={name}") == f"metadata.name={name}"
        ]
        kind = {v: k for k, v in KATIB_STORES.items()}[plural] + "List"
        self._json(
            200,
            {
                "apiVersion": "kubeflow.org/v1beta1",
                "kind": kind,
                "metadata": {"resourceVersion": "2000"},
                "items": items,
            },
        )

    def _core(self, parts: list[str], query: dict[str, str]) -> None:
        """Pods by label, and a pod's log: of one container, all at once or followed."""
        namespace, plural, *rest = parts
        if plural != "pods":
            return self._status(404, "NotFound", f"the server could not find {plural}")
        if not rest:
            selector = query.get("labelSelector", "")
            items = [
                pod
                for (ns, _), pod in sorted(self.state.pods.items())
                if ns == namespace and _matches(selector, pod["metadata"].get("labels") or {})
            ]
            return self._json(
                200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}
            )
        name = rest[0]
        if (namespace, name) not in self.state.pods:
            return self._status(404, "NotFound", f'pods "{name}" not found')
        if rest[1:] != ["log"]:
            return self._json(200, self.state.pods[(namespace, name)])
        container = query.get("container", "")
        text = self.state.logs.get((namespace, name, container))
        if text is None:
            message = f"container {container} is not valid for pod {name}"
            return self._status(400, "BadRequest", message)
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if query.get("follow") != "true":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in body.splitlines(keepends=True):  # a followed log arrives line by line
            self._chunk(line)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_PATCH(self) -> None:  # noqa: N802 - the http.server hook name
        url = urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with self.state.lock:
            self.state.requests.append(self.path)
            self.state.patches.append((self.path, self.headers.get("Content-Type", ""), body))
        if self.state.forbidden or self.state.forbid_patches:
            return self._status(403, "Forbidden", "experiments.kubeflow.org is forbidden")
        namespace, plural, name = url.path[len(PREFIX) :].split("/")
        if plural != "experiments" or (namespace, name) not in self.state.experiments:
            return self._status(404, "NotFound", f'{plural}.kubeflow.org "{name}" not found')
        with self.state.lock:
            old = self.state.experiments[(namespace, name)]
            new = merge_patch(old, body)
            denied = katib_count_rules(old, new)
            if denied is None:
                self.state.experiments[(namespace, name)] = new
        if denied is not None:
            webhook = 'admission webhook "validator.experiment.katib.kubeflow.org"'
            return self._status(400, "BadRequest", f"{webhook} denied the request: {denied}")
        self._json(200, new)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _watch(self, query: dict[str, str]) -> None:
        with self.state.lock:
            script = self.state.watch_scripts.popleft() if self.state.watch_scripts else None
        if script == GONE:
            return self._json(410, expired(0) | {"reason": "Gone"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if script is None:
            script = self._arrivals(query)
        for step in script:
            if step[0] == "event":
                _, kind, obj = step
                with self.state.lock:
                    self.state.put(obj)
                self._chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
            elif step[0] == "missed":
                with self.state.lock:
                    self.state.put(step[1])
            elif step[0] == "raw":
                self._chunk(json.dumps(step[1]).encode() + b"\n")
            elif step[0] == "stall":
                time.sleep(step[1])
            elif step[0] == "drop":
                # Promise a chunk, send half a line, hang up: a proxy cutting the stream.
                self.wfile.write(b'400\r\n{"type": "MODIF')
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            elif step[0] == "end":
                break
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _arrivals(self, query: dict[str, str]) -> list[tuple]:
        """An unscripted watch: the objects still to arrive before timeoutSeconds, as events
        when they match the watch's fieldSelector; with none to come, a short quiet stream."""
        seconds = float(query.get("timeoutSeconds", "1"))
        with self.state.lock:
            pending = bool(self.state.arrivals)
        if not pending:
            time.sleep(min(seconds, 0.2))
            return [("end",)]
        wanted = query.get("fieldSelector", "")
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            with self.state.lock:
                if not self.state.arrivals:
                    break
                due = self.state.arrivals[0][0]
            time.sleep(max(0.0, min(due, ends) - time.monotonic()))
            for obj in self.state.arrive():
                if wanted in ("", f"metadata.name={obj['metadata']['name']}"):
                    self._chunk(json.dumps({"type": "MODIFIED", "object": obj}).encode() + b"\n")
        return [("end",)]


class KubeServer(LoopbackServer):
    def __init__(self) -> None:
        self.state = KubeState()
        super().__init__(type("Handler", (_Handler,), {"state": self.state}))
        self.url = self.root

    def kubeconfig(self, path: Any, namespace: str = "kubeflow") -> str:
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": "test",
                    "clusters": [{"name": "test", "cluster": {"server": self.url}}],
                    "users": [{"name": "test", "user": {"token": "test-token"}}],
                    "contexts": [
                        {
                            "name": "test",
                            "context": {"cluster": "test", "user": "test", "namespace": namespace},
                        }
                    ],
                }
            )
        )
        return str(path)
