"""The outcome of one experiment as plain data, whoever ran it (Katib or the local runner).

Pure: no I/O, no Kubernetes. `build_result` applies the rules both paths share (trial order,
best trial, counts) so that results.yaml comes out the same way from either; `results_file`
turns a result into the file's one model (`generator.spec.results_file`).

Under hpo-asha a trial trains one configuration up to one rung, and a lower rung's value was
reached with fewer steps than a full run: it is not comparable with a full run's, so only
top-rung trials may be best, and the trials are listed highest rung first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from generator.spec import ObjectiveSpec
from generator.spec import results_file as file
from generator.spec.results_file import BEST_TRIAL_STATUSES, EXPERIMENT_STATUSES, TRIAL_STATUSES

# An objective is the sampler's and the results' alike: one model, in its lowest home.
from results.rungs import rung_totals
from suggestion.asha import Plan
from suggestion.history import Objective
from suggestion.space import Parameter
from trainer.catalog import TRAINED_STEPS

Scalar = bool | int | float | str


@dataclass(frozen=True)
class MetricObservation:
    """Every report of one metric by one trial, summed up as Katib's observation keeps it."""

    latest: float
    min: float
    max: float


@dataclass(frozen=True)
class Placement:
    """Where a trial of hpo-asha stands: the configuration it trains and the rung it trains to."""

    config: int
    rung: int


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
    placement: Placement | None = None  # under hpo-asha only

    def __post_init__(self) -> None:
        if self.status not in TRIAL_STATUSES:
            raise ValueError(f"trial {self.name}: unknown status {self.status!r}")

    @property
    def rung(self) -> int | None:
        return None if self.placement is None else self.placement.rung

    @property
    def config(self) -> int | None:
        return None if self.placement is None else self.placement.config

    @property
    def trained_steps(self) -> int | None:
        """The optimizer steps the trial ran itself, as the trainer reported them (the metric
        stays among `metrics` too); None when it reported none, or no whole number."""
        value = self.metrics.get(TRAINED_STEPS)
        if value is None or not math.isfinite(value) or value < 0 or value != int(value):
            return None
        return int(value)


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
    asha: Plan | None = None  # the rungs, under hpo-asha
    # The definition's search parameters, by name: the chart draws each on its own scale.
    space: Mapping[str, Parameter] = field(default_factory=dict)

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
    """Anything with a trial's name, Katib status and metrics, finished or not (and, to rank
    hpo-asha's trials, its `rung`)."""

    name: str
    status: str
    metrics: Mapping[str, float]


def _rank_key(trial: Scored, objective: Objective) -> tuple[int, int, float, str]:
    # The highest rung first (every trial is at rung 0 to other algorithms), then by value.
    rung = -(getattr(trial, "rung", None) or 0)
    value = objective_value(trial, objective)
    if value is None:
        return (rung, 1, 0.0, trial.name)
    return (rung, 0, value if objective.type == "minimize" else -value, trial.name)


def _may_be_best(trial: Scored, objective: Objective, top_rung: int | None = None) -> bool:
    if top_rung is not None and getattr(trial, "rung", None) != top_rung:
        return False
    return trial.status in BEST_TRIAL_STATUSES and objective_value(trial, objective) is not None


ScoredTrial = TypeVar("ScoredTrial", bound=Scored)


def best_trial(
    trials: Iterable[ScoredTrial], objective: Objective, top_rung: int | None = None
) -> ScoredTrial | None:
    """The trial Katib would name optimal: Succeeded or EarlyStopped with a finite objective,
    the best value, ties broken by name; under hpo-asha (`top_rung` given), among the trials of
    the top rung only. Shared by results files and the local run's progress."""
    candidates = [t for t in trials if _may_be_best(t, objective, top_rung)]
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
    asha: Plan | None = None,
    space: Mapping[str, Parameter] | None = None,
) -> ExperimentResult:
    """Sort the trials (by objective, best first, then name), pick the best, count statuses;
    with several `objectives` (the first is `objective`), find the Pareto front. Under hpo-asha
    (`asha`, whose trials are placed), the highest rung comes first and the best trial is one
    of the top rung.

    `fallback_best` is used only when no listed trial reported the objective, e.g. when Katib
    still names an optimal trial whose Trial object is gone.
    """
    if status not in EXPERIMENT_STATUSES:
        raise ValueError(f"experiment status must be Succeeded or Failed, not {status!r}")
    ordered = tuple(sorted(trials, key=lambda t: _rank_key(t, objective)))
    names = [t.name for t in ordered]
    if len(set(names)) != len(names):
        raise ValueError(f"{experiment}: trial names are not unique")
    unplaced = [t.name for t in ordered if (t.placement is None) != (asha is None)]
    if unplaced:
        which = "lack" if asha is not None else "have"
        raise ValueError(f"{experiment}: trials {', '.join(unplaced)} {which} a rung")
    top = None if asha is None else asha.rungs - 1
    best = best_trial(ordered, objective, top)
    if best is None and fallback_best is not None and _may_be_best(fallback_best, objective, top):
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
        asha=asha,
        space=dict(space or {}),
    )


def _placed(trial: TrialResult) -> dict[str, int | None]:
    """The trial's place in the rungs, as results.yaml writes it (only under hpo-asha)."""
    if trial.placement is None:
        return {}
    return {"config": trial.config, "rung": trial.rung, "trained_steps": trial.trained_steps}


def _trial(trial: TrialResult) -> file.Trial:
    return file.Trial(
        name=trial.name,
        status=trial.status,
        **_placed(trial),
        parameters={k: trial.parameters[k] for k in sorted(trial.parameters)},
        metrics={k: trial.metrics[k] for k in sorted(trial.metrics)},
    )


def _best(trial: TrialResult) -> file.BestTrial:
    """The best trial, with every metric's reports when Katib kept them."""
    observation = {
        name: file.Extremes(latest=o.latest, min=o.min, max=o.max)
        for name, o in sorted(trial.observation.items())
    }
    return file.BestTrial(
        name=trial.name,
        **_placed(trial),
        parameters={k: trial.parameters[k] for k in sorted(trial.parameters)},
        metrics={k: trial.metrics[k] for k in sorted(trial.metrics)},
        observation=observation or None,
    )


def _provenance(p: Provenance, definition_sha256: str) -> file.Provenance:
    model, dataset = p.model_fetched, p.dataset_fetched
    return file.Provenance(
        definition_sha256=definition_sha256,
        model=file.ModelSource(
            uri=p.model_uri,
            revision=p.model_revision,
            resolved=model.resolved,
            fetched_at=model.fetched_at,
            unread=model.unread or None,
        ),
        dataset=file.DatasetSource(
            uri=p.dataset_uri,
            revision=p.dataset_revision,
            split=p.dataset_split,
            resolved=dataset.resolved,
            fetched_at=dataset.fetched_at,
            unread=dataset.unread or None,
        ),
        images=file.Images(trainer=p.trainer_image, storage_init=p.storage_init_image),
        experiment_uid=p.experiment_uid,
    )


def results_file(result: ExperimentResult, definition_sha256: str) -> file.ResultsFile:
    """The result as results.yaml's model; `definition_sha256` names the definition that ran."""
    several = result.objectives
    budget, warm = result.budget, result.warm_start
    return file.ResultsFile(
        experiment=result.experiment,
        status=result.status,
        reason=result.reason,
        objective=file.ObjectiveRecord(
            metric=result.objective.metric, type=result.objective.type, goal=result.objective.goal
        ),
        best_trial=None if result.best_trial is None else _best(result.best_trial),
        objectives=[ObjectiveSpec(metric=o.metric, type=o.type) for o in several] or None,
        pareto_front=[
            file.ParetoPoint(name=t.name, metrics={o.metric: t.metrics[o.metric] for o in several})
            for t in result.pareto_front
        ]
        if several
        else None,
        trials=[_trial(t) for t in result.trials],
        counts=dict(result.counts),
        provenance=_provenance(result.provenance, definition_sha256),
        budget=None
        if budget is None
        else file.BudgetRecord(
            unit=budget.unit,
            limit=budget.limit,
            spent=budget.spent,
            ended_experiment=budget.ended_experiment,
        ),
        warm_start=None
        if warm is None
        else file.WarmStartRecord(from_=list(warm.sources), trials=warm.trials),
        rungs=None if result.asha is None else _rungs(result),
    )


def _rungs(result: ExperimentResult) -> file.RungsRecord:
    plan = result.asha
    assert plan is not None
    totals = rung_totals(result.trials, plan)
    return file.RungsRecord(
        count=plan.rungs,
        reduction_factor=plan.reduction_factor,
        configurations=totals.configurations,
        trained_steps=totals.trained_steps,
        full_run_steps=totals.full_run_steps,
    )
