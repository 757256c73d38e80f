"""The outcome of one experiment as plain data, whoever ran it (Katib or the local runner).

Pure: no I/O, no Kubernetes. `build_result` applies the rules both paths share (trial order,
best trial, counts) so that results.yaml comes out the same way from either.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

# An objective is the sampler's and the results' alike: one model, in its lowest home.
from suggestion.history import Objective

Scalar = bool | int | float | str

# The order statuses are listed in `counts`; also the set of statuses a trial can have.
TRIAL_STATUSES = ("Succeeded", "Failed", "EarlyStopped", "Killed", "MetricsUnavailable", "Running")
EXPERIMENT_STATUSES = ("Succeeded", "Failed")
# Katib records observations only for these; a Failed or Killed trial's early loss is not a result.
BEST_TRIAL_STATUSES = ("Succeeded", "EarlyStopped")


@dataclass(frozen=True)
class MetricObservation:
    """Every report of one metric by one trial, summed up as Katib's observation keeps it."""

    latest: float
    min: float
    max: float


@dataclass(frozen=True)
class TrialResult:
    name: str
    status: str
    parameters: Mapping[str, Scalar]
    metrics: Mapping[str, float]  # each metric's value by its strategy
    # RFC 3339 completion time; orders the chart, deliberately not written to results.yaml so
    # that the file depends only on what the trials found.
    completed_at: str | None = None
    # latest, min and max of each metric: results.yaml keeps them for the best trial, which
    # KatibClient.get_optimal_hyperparameters returns as Katib's V1beta1OptimalTrial.
    observation: Mapping[str, MetricObservation] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in TRIAL_STATUSES:
            raise ValueError(f"trial {self.name}: unknown status {self.status!r}")


@dataclass(frozen=True)
class Fetched:
    """What the download resolved an input to, read from its completion marker."""

    resolved: str | None = None  # Hub commit, `etags:sha256:…` (S3), `sha256:…` (local files)
    fetched_at: str | None = None  # RFC 3339, UTC
    unread: str | None = None  # why the marker could not be read; None when it was


@dataclass(frozen=True)
class Provenance:
    model_uri: str | None = None
    model_revision: str | None = None  # as the definition states it
    dataset_uri: str | None = None
    dataset_revision: str | None = None
    dataset_split: str | None = None
    trainer_image: str | None = None
    storage_init_image: str | None = None
    experiment_uid: str | None = None  # the Katib Experiment's uid; None when run locally
    model_fetched: Fetched = field(default_factory=Fetched)  # what the download fetched
    dataset_fetched: Fetched = field(default_factory=Fetched)


@dataclass(frozen=True)
class BudgetOutcome:
    """A definition's budget, what the trials spent of it, and whether it ended the run."""

    unit: str  # "gpu_hours" or "trial_hours"
    limit: float
    spent: float
    ended_experiment: bool  # the budget, not the trial counts or the goal, ended it


@dataclass(frozen=True)
class WarmStartRecord:
    """What a warm-started search was seeded with: the earlier experiments, how many trials."""

    sources: tuple[str, ...]
    trials: int


@dataclass(frozen=True)
class ExperimentResult:
    experiment: str
    status: str
    reason: str | None
    objective: Objective
    trials: tuple[TrialResult, ...]  # best first, see `build_result`
    best_trial: TrialResult | None
    counts: Mapping[str, int]
    provenance: Provenance = field(default_factory=Provenance)
    budget: BudgetOutcome | None = None  # only when the definition sets one
    # Several objectives: all of them (`objective` is the first) and the trials none beats.
    objectives: tuple[Objective, ...] = ()
    pareto_front: tuple[TrialResult, ...] = ()
    warm_start: WarmStartRecord | None = None

    @property
    def failed(self) -> bool:
        return self.status == "Failed"


def objective_value(trial: Scored, objective: Objective) -> float | None:
    """The trial's objective metric, or None when it never reported a finite one."""
    value = trial.metrics.get(objective.metric)
    if value is None or not math.isfinite(value):
        return None
    return value


class Scored(Protocol):
    """Anything with a trial's name, Katib status and metrics, finished or not."""

    name: str
    status: str
    metrics: Mapping[str, float]


def _rank_key(trial: Scored, objective: Objective) -> tuple[int, float, str]:
    value = objective_value(trial, objective)
    if value is None:
        return (1, 0.0, trial.name)
    return (0, value if objective.type == "minimize" else -value, trial.name)


def _may_be_best(trial: Scored, objective: Objective) -> bool:
    return trial.status in BEST_TRIAL_STATUSES and objective_value(trial, objective) is not None


ScoredTrial = TypeVar("ScoredTrial", bound=Scored)


def best_trial(trials: Iterable[ScoredTrial], objective: Objective) -> ScoredTrial | None:
    """The trial Katib would name optimal: Succeeded or EarlyStopped with a finite objective,
    the best value, ties broken by name. Shared by results files and the local run's progress."""
    candidates = [t for t in trials if _may_be_best(t, objective)]
    return min(candidates, key=lambda t: _rank_key(t, objective), default=None)


def pareto_front(trials: Iterable[ScoredTrial], objectives: tuple[Objective, ...]):
    """The trials no other trial beats on every objective at once (Succeeded or EarlyStopped,
    every objective finite), by the first objective, then name."""
    scored = [
        (t, [_signed(t, o) for o in objectives])
        for t in trials
        if t.status in BEST_TRIAL_STATUSES
        and all(objective_value(t, o) is not None for o in objectives)
    ]

    def beaten(values: list[float]) -> bool:
        return any(
            all(o <= v for o, v in zip(other, values, strict=True)) and other != values
            for _, other in scored
        )

    front = [t for t, values in scored if not beaten(values)]
    return tuple(sorted(front, key=lambda t: (_signed(t, objectives[0]), t.name)))


def _signed(trial: Scored, objective: Objective) -> float:
    """The objective's value, negated when it is maximised: smaller is always better."""
    value = objective_value(trial, objective)
    return value if objective.type == "minimize" else -value


def build_result(
    *,
    experiment: str,
    status: str,
    reason: str | None,
    objective: Objective,
    trials: Iterable[TrialResult],
    provenance: Provenance | None = None,
    fallback_best: TrialResult | None = None,
    budget: BudgetOutcome | None = None,
    objectives: tuple[Objective, ...] = (),
    warm_start: WarmStartRecord | None = None,
) -> ExperimentResult:
    """Sort the trials (by objective, best first, then name), pick the best, count statuses;
    with several `objectives` (the first is `objective`), find the Pareto front.

    `fallback_best` is used only when no listed trial reported the objective, e.g. when Katib
    still names an optimal trial whose Trial object is gone.
    """
    if status not in EXPERIMENT_STATUSES:
        raise ValueError(f"experiment status must be Succeeded or Failed, not {status!r}")
    ordered = tuple(sorted(trials, key=lambda t: _rank_key(t, objective)))
    names = [t.name for t in ordered]
    if len(set(names)) != len(names):
        raise ValueError(f"{experiment}: trial names are not unique")
    best = best_trial(ordered, objective)
    if best is None and fallback_best is not None and _may_be_best(fallback_best, objective):
        best = fallback_best
    counts = {s: n for s in TRIAL_STATUSES if (n := sum(t.status == s for t in ordered))}
    return ExperimentResult(
        experiment=experiment,
        status=status,
        reason=reason,
        objective=objective,
        trials=ordered,
        best_trial=best,
        counts=counts,
        provenance=provenance or Provenance(),
        budget=budget,
        objectives=objectives if len(objectives) > 1 else (),
        pareto_front=pareto_front(ordered, objectives) if len(objectives) > 1 else (),
        warm_start=warm_start,
    )


def _trial_document(trial: TrialResult, with_status: bool) -> dict[str, Any]:
    document: dict[str, Any] = {"name": trial.name}
    if with_status:
        document["status"] = trial.status
    document["parameters"] = {k: trial.parameters[k] for k in sorted(trial.parameters)}
    document["metrics"] = {k: trial.metrics[k] for k in sorted(trial.metrics)}
    if not with_status and trial.observation:  # the best trial: every metric's reports
        document["observation"] = {
            name: {"latest": o.latest, "min": o.min, "max": o.max}
            for name, o in sorted(trial.observation.items())
        }
    return document


def _fetched_document(fetched: Fetched) -> dict[str, Any]:
    """`resolved` and `fetched_at` always; `unread` only when the marker could not be read."""
    document = {"resolved": fetched.resolved, "fetched_at": fetched.fetched_at}
    return document | ({"unread": fetched.unread} if fetched.unread else {})


def to_document(result: ExperimentResult, definition_sha256: str) -> dict[str, Any]:
    """results.yaml as a mapping, keys in the documented order."""
    p = result.provenance
    best = result.best_trial
    document = {
        "experiment": result.experiment,
        "status": result.status,
        "reason": result.reason,
        "objective": {
            "metric": result.objective.metric,
            "type": result.objective.type,
            "goal": result.objective.goal,
        },
        "best_trial": None if best is None else _trial_document(best, with_status=False),
    }
    if result.objectives:
        document["objectives"] = [{"metric": o.metric, "type": o.type} for o in result.objectives]
        document["pareto_front"] = [
            {"name": t.name, "metrics": {o.metric: t.metrics[o.metric] for o in result.objectives}}
            for t in result.pareto_front
        ]
    document |= {
        "trials": [_trial_document(t, with_status=True) for t in result.trials],
        "counts": dict(result.counts),
        "provenance": {
            "definition_sha256": definition_sha256,
            "model": {"uri": p.model_uri, "revision": p.model_revision}
            | _fetched_document(p.model_fetched),
            "dataset": {
                "uri": p.dataset_uri,
                "revision": p.dataset_revision,
                "split": p.dataset_split,
            }
            | _fetched_document(p.dataset_fetched),
            "images": {"trainer": p.trainer_image, "storage_init": p.storage_init_image},
            "experiment_uid": p.experiment_uid,
        },
    }
    if result.budget is not None:
        document["budget"] = {
            "unit": result.budget.unit,
            "limit": result.budget.limit,
            "spent": result.budget.spent,
            "ended_experiment": result.budget.ended_experiment,
        }
    if result.warm_start is not None:
        document["warm_start"] = {
            "from": list(result.warm_start.sources),
            "trials": result.warm_start.trials,
        }
    return document
