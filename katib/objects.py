"""Katib's Experiment and Trial objects as the API returns them (plain dicts): their conditions,
status, settings, metric strategies, observations and images.

Pure functions over the `kubeflow.org/v1beta1` wire format, so they are tested without a
cluster. Metric values arrive as strings; Katib writes "unavailable" when a collector found none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"

# A trial's conditions accumulate; the first of these that is True decides its status.
_TRIAL_STATUS_PRECEDENCE = (
    "Succeeded",
    "EarlyStopped",
    "MetricsUnavailable",
    "Killed",
    "Failed",
    "Running",
)


def _true_conditions(obj: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return {c.get("type"): c for c in conditions if c.get("status") == "True"}


def true_condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The object's condition of this type when its status is True, else None."""
    return _true_conditions(obj).get(kind)


# An Experiment's conditions accumulate too (Created, then Running, ...); the first of these that
# is True says where it stands.
_EXPERIMENT_CONDITION_PRECEDENCE = ("Succeeded", "Failed", "Restarting", "Running", "Created")


def experiment_condition(experiment: Mapping[str, Any]) -> str | None:
    """Where the Experiment stands by its conditions; None before Katib's controller wrote any."""
    true = _true_conditions(experiment)
    return next((c for c in _EXPERIMENT_CONDITION_PRECEDENCE if c in true), None)


def experiment_outcome(experiment: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """("Succeeded", None) or ("Failed", reason) once finished; None while it still runs."""
    true = _true_conditions(experiment)
    if "Succeeded" in true:
        return "Succeeded", None
    if "Failed" in true:
        condition = true["Failed"]
        parts = [p for p in (condition.get("reason"), condition.get("message")) if p]
        return "Failed", ": ".join(parts) or "the Experiment failed without a reason"
    return None


def trial_status(trial: Mapping[str, Any]) -> str:
    true = _true_conditions(trial)
    for status in _TRIAL_STATUS_PRECEDENCE:
        if status in true:
            return status
    return "Running"  # Created (or no conditions yet): not finished


def algorithm_settings(experiment: Mapping[str, Any]) -> dict[str, str]:
    """The Experiment's algorithm settings, name -> Katib's string."""
    algorithm = (experiment.get("spec") or {}).get("algorithm") or {}
    return {s["name"]: str(s.get("value", "")) for s in algorithm.get("algorithmSettings") or []}


def metric_strategies(experiment: Mapping[str, Any]) -> dict[str, str]:
    """metric name -> "min" | "max" | "latest" for every metric the Experiment names.

    Rendered Experiments write every strategy out; for one that does not, the objective counts
    its best report and any other metric its latest (as the generator renders them).
    """
    objective = (experiment.get("spec") or {}).get("objective") or {}
    strategies = {s["name"]: s["value"] for s in objective.get("metricStrategies") or []}
    name = objective.get("objectiveMetricName")
    if name:
        strategies.setdefault(name, "min" if objective.get("type") == "minimize" else "max")
    for other in objective.get("additionalMetricNames") or []:
        strategies.setdefault(other, "latest")
    return strategies


def to_float(raw: Any) -> float | None:
    try:
        return float(raw)
    except (TypeError, ValueError):  # "unavailable" and friends
        return None


def observed_metrics(
    observation: Mapping[str, Any] | None, strategies: Mapping[str, str]
) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for metric in (observation or {}).get("metrics") or []:
        value = to_float(metric.get(strategies.get(metric["name"], "latest")))
        if value is not None:
            metrics[metric["name"]] = value
    return metrics


def assignments(items: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    return {a["name"]: str(a["value"]) for a in items or []}


def _containers(node: Any) -> list[Mapping[str, Any]]:
    """Every container in a trial template, whatever the job kind (Job, PyTorchJob, ...)."""
    if isinstance(node, Mapping):
        found = [c for c in node.get("containers") or [] if isinstance(c, Mapping)]
        for key, child in node.items():
            if key != "containers":
                found.extend(_containers(child))
        return found
    if isinstance(node, list):
        return [c for child in node for c in _containers(child)]
    return []


def trainer_image(experiment: Mapping[str, Any]) -> str | None:
    template = (experiment.get("spec") or {}).get("trialTemplate") or {}
    trial = template.get("trialSpec") or {}
    if trial.get("kind") == "TrainJob":  # Trainer v2: the trainer names the runtime's image
        return ((trial.get("spec") or {}).get("trainer") or {}).get("image")
    containers = _containers(trial)
    primary = template.get("primaryContainerName")
    for container in containers:
        if container.get("name") == primary:
            return container.get("image")
    return containers[0].get("image") if containers else None
