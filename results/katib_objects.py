"""Katib's finished Experiment and its Trials (plain dicts, as the API returns them) as the
results model, values typed by the definition's search space. `katib.objects` reads the objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

# The readers of Katib's objects lived here first; their names are still found here.
from katib.objects import (  # noqa: F401
    EXPERIMENT_LABEL,
    algorithm_settings,
    assignments,
    experiment_outcome,
    metric_strategies,
    observed_metrics,
    to_float,
    trainer_image,
    trial_status,
    true_condition,
)
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
from results.params import placement, typed_parameters
from suggestion.asha import Plan


def objective_of(experiment: Mapping[str, Any]) -> Objective:
    spec = (experiment.get("spec") or {}).get("objective") or {}
    goal = spec.get("goal")
    return Objective(
        metric=spec.get("objectiveMetricName", ""),
        type=spec.get("type", "minimize"),
        goal=None if goal is None else float(goal),
    )


def observation_extremes(observation: Mapping[str, Any] | None) -> dict[str, MetricObservation]:
    """latest, min and max of each metric Katib observed (a metric missing any is left out)."""
    found = {}
    for metric in (observation or {}).get("metrics") or []:
        values = [to_float(metric.get(key)) for key in ("latest", "min", "max")]
        if None not in values:
            found[metric["name"]] = MetricObservation(*values)
    return found


def trial_result(
    trial: Mapping[str, Any],
    strategies: Mapping[str, str],
    space: SearchSpace,
    asha: Plan | None = None,
) -> TrialResult:
    status = trial.get("status") or {}
    name = trial["metadata"]["name"]
    given = assignments((trial.get("spec") or {}).get("parameterAssignments"))
    return TrialResult(
        name=name,
        status=trial_status(trial),
        parameters=typed_parameters(given, space),
        metrics=observed_metrics(status.get("observation"), strategies),
        completed_at=status.get("completionTime"),
        observation=observation_extremes(status.get("observation")),
        placement=placement(given, asha is not None, name),
    )


def result_from_katib(
    experiment: Mapping[str, Any],
    trials: Sequence[Mapping[str, Any]],
    *,
    space: SearchSpace,
    provenance: Provenance | None = None,
    budget: BudgetOutcome | None = None,
    objectives: tuple[Objective, ...] = (),
    warm_start: WarmStartRecord | None = None,
    asha: Plan | None = None,
) -> ExperimentResult:
    """The model of a finished Experiment, its values typed by the definition's search `space`
    (and its trials placed in the rungs of `asha`, under hpo-asha); `provenance` gains the uid
    and the trainer image."""
    outcome = experiment_outcome(experiment)
    if outcome is None:
        raise ValueError(f"Experiment {experiment['metadata']['name']} has not finished")
    strategies = metric_strategies(experiment)
    results = [trial_result(t, strategies, space, asha) for t in trials]
    optimal = (experiment.get("status") or {}).get("currentOptimalTrial") or {}
    fallback = None
    if optimal.get("bestTrialName"):
        # Katib names the best value of any rung; build_result takes it only from the top one.
        given = assignments(optimal.get("parameterAssignments"))
        fallback = TrialResult(
            name=optimal["bestTrialName"],
            status="Succeeded",
            parameters=typed_parameters(given, space),
            metrics=observed_metrics(optimal.get("observation"), strategies),
            observation=observation_extremes(optimal.get("observation")),
            placement=placement(given, asha is not None, optimal["bestTrialName"]),
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
        asha=asha,
        space=space,
    )
