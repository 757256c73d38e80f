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

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from katib.client import (
    FIELD_MANAGER,
    GONE,
    PERMISSION_HINT,
    KatibObjects,
    is_transient,
    katib_kind,
    kube_api,
    read_timed_out,
    status_code,
)
from katib.errors import (
    ExperimentDeleted,
    ExperimentNotFound,
    ExperimentWaitTimeout,
    KubernetesAuthError,
    KubernetesError,
)
from katib.objects import experiment_outcome

__all__ = ["FIELD_MANAGER", "KatibObjects", "KatibWatcher", "kube_api"]

log = logging.getLogger(__name__)


class _ReadAgain(Exception):
    """The watch's resourceVersion is older than the server keeps: events were missed."""


class _Unproductive(Exception):
    """A watch that brought nothing and should not be repeated at once."""


class _GaveUp(Exception):
    """The caller's `until` raised: its error ends the wait as it is, whatever it is."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


@dataclass
class _Progress:
    current: dict[str, Any] | None = None
    version: str | None = None
    failures: int = 0  # consecutive unproductive attempts: the pause grows with them
    missing: bool = False


class KatibWatcher(KatibObjects):
    """Waits for one namespace's Experiments to reach a condition, reading as KatibObjects."""

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

        ExperimentWaitTimeout when the deadline passes first ("did not <goal> within ..."),
        ExperimentDeleted when it is deleted while watched, and ExperimentNotFound when it does
        not exist: at once, or, with `wait_for_creation`, when it never appeared; `on_missing`
        runs before each wait for it.
        """
        try:
            return self._wait(name, until, timeout_s, goal, wait_for_creation, on_missing)
        except _GaveUp as gave_up:
            raise gave_up.error from None

    def _wait(self, name, until, timeout_s, goal, wait_for_creation, on_missing):
        def reached(experiment: dict[str, Any]) -> bool:
            try:
                return until(experiment)
            except Exception as e:
                raise _GaveUp(e) from e

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
            if reached(state.current):
                return state.current
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise ExperimentWaitTimeout(
                    f"{self._where(name)} did not {goal} within {timeout_s:g}s"
                )
            seconds = max(1, int(min(self.watch_timeout_s, remaining)))
            try:
                if self._watch_once(name, state, seconds, reached):
                    return state.current
                state.failures = 0
            except _ReadAgain:
                log.info("watch of %s expired; reading it again", name)
                state.current = None
            except _Unproductive as e:
                self._back_off(state, deadline, f"watch of {name}: {e}; retrying")
            except (KubernetesError, _GaveUp):
                raise
            except Exception as e:
                if status_code(e) == GONE:
                    state.current = None
                elif read_timed_out(e):
                    pass  # a quiet stream outlasted the read timeout: watch again at once
                elif is_transient(e):
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
            if isinstance(e, KubernetesAuthError) or not is_transient(e.__cause__ or e):
                raise
            self._back_off(state, deadline, f"reading {name} failed ({e}); again")
            return None
        state.missing = False
        return experiment

    def _watch_once(self, name: str, state: _Progress, seconds: int, until) -> bool:
        """Follow one watch stream; True once `until` holds, False when the stream ended."""
        query = (
            katib_kind("experiments")
            .objects(self.api, namespace=self.namespace)
            .filter(field_selector={"metadata.name": name})
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
                raise ExperimentDeleted(f"{self._where(name)} was deleted")
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
