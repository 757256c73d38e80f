"""Read Katib's Experiment and Trial objects (plain dicts, as the API returns them) into the model.

Pure functions over the `kubeflow.org/v1beta1` wire format, so they are tested without a
cluster. Metric values arrive as strings; Katib writes "unavailable" when a collector found none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from results.definition import SearchSpace
from results.model import (
    BudgetOutcome,
    ExperimentResult,
    MetricObservation,
    Objective,
    Provenance,
    TrialResult,
    WarmStartRecord,
    build_result,
)
from results.params import typed_parameters

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


def objective_of(experiment: Mapping[str, Any]) -> Objective:
    spec = (experiment.get("spec") or {}).get("objective") or {}
    goal = spec.get("goal")
    return Objective(
        metric=spec.get("objectiveMetricName", ""),
        type=spec.get("type", "minimize"),
        goal=None if goal is None else float(goal),
    )


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


def _to_float(raw: Any) -> float | None:
    try:
        return float(raw)
    except (TypeError, ValueError):  # "unavailable" and friends
        return None


def observed_metrics(
    observation: Mapping[str, Any] | None, strategies: Mapping[str, str]
) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for metric in (observation or {}).get("metrics") or []:
        value = _to_float(metric.get(strategies.get(metric["name"], "latest")))
        if value is not None:
            metrics[metric["name"]] = value
    return metrics


def observation_extremes(observation: Mapping[str, Any] | None) -> dict[str, MetricObservation]:
    """latest, min and max of each metric Katib observed (a metric missing any is left out)."""
    found = {}
    for metric in (observation or {}).get("metrics") or []:
        values = [_to_float(metric.get(key)) for key in ("latest", "min", "max")]
        if None not in values:
            found[metric["name"]] = MetricObservation(*values)
    return found


def _assignments(items: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    return {a["name"]: str(a["value"]) for a in items or []}


def trial_result(
    trial: Mapping[str, Any], strategies: Mapping[str, str], space: SearchSpace
) -> TrialResult:
    status = trial.get("status") or {}
    return TrialResult(
        name=trial["metadata"]["name"],
        status=trial_status(trial),
        parameters=typed_parameters(
            _assignments((trial.get("spec") or {}).get("parameterAssignments")), space
        ),
        metrics=observed_metrics(status.get("observation"), strategies),
        completed_at=status.get("completionTime"),
        observation=observation_extremes(status.get("observation")),
    )


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


def result_from_katib(
    experiment: Mapping[str, Any],
    trials: Sequence[Mapping[str, Any]],
    *,
    space: SearchSpace,
    provenance: Provenance | None = None,
    budget: BudgetOutcome | None = None,
    objectives: tuple[Objective, ...] = (),
    warm_start: WarmStartRecord | None = None,
) -> ExperimentResult:
    """The model of a finished Experiment, its values typed by the definition's search `space`;
    `provenance` gains the uid and the trainer image."""
    outcome = experiment_outcome(experiment)
    if outcome is None:
        raise ValueError(f"Experiment {experiment['metadata']['name']} has not finished")
    strategies = metric_strategies(experiment)
    results = [trial_result(t, strategies, space) for t in trials]
    optimal = (experiment.get("status") or {}).get("currentOptimalTrial") or {}
    fallback = None
    if optimal.get("bestTrialName"):
        fallback = TrialResult(
            name=optimal["bestTrialName"],
            status="Succeeded",
            parameters=typed_parameters(_assignments(optimal.get("parameterAssignments")), space),
            metrics=observed_metrics(optimal.get("observation"), strategies),
            observation=observation_extremes(optimal.get("observation")),
        )
    base = provenance or Provenance()
    filled = replace(
        base,
        experiment_uid=experiment["metadata"].get("uid"),
        trainer_image=base.trainer_image or trainer_image(experiment),
    )
    return build_result(
        experiment=experiment["metadata"]["name"],
        status=outcome[0],
        reason=outcome[1],
        objective=objective_of(experiment),
        trials=results,
        provenance=filled,
        fallback_best=fallback,
        budget=budget,
        objectives=objectives,
        warm_start=warm_start,
    )
