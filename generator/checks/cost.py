"""What an experiment can cost: its worst case, and the GPU-hours its budget allows.

A reviewer approving a definition wants the most it can spend. The worst case is every trial
running to its deadline on every GPU it requested; a `budget` caps what is actually spent
(enforced by the results Job on a cluster and by `hpo tune --local`, see results.budget).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.loading.repo_config import Cluster
from generator.spec import ExperimentSpec


@dataclass(frozen=True)
class WorstCase:
    trials: int  # max_trial_count (Katib's default parallel count when unset)
    gpus_per_trial: int  # GPUs per node times nodes
    hours_per_trial: float  # the trial deadline; 0 for local experiments, which have none
    gpu_hours: float


def trial_deadline_seconds(spec: ExperimentSpec, cluster: Cluster | None) -> int | None:
    """The definition's deadline, else the cluster's default: the bound the worst case assumes."""
    if spec.trial_active_deadline_seconds is not None:
        return spec.trial_active_deadline_seconds
    if cluster is None:
        return None
    return round(cluster.default_trial_deadline_hours * 3600)


def gpus_per_trial(spec: ExperimentSpec) -> int:
    resources = spec.resources_per_trial
    return resources.gpus * resources.num_workers


def worst_case(spec: ExperimentSpec, cluster: Cluster | None) -> WorstCase:
    """Every trial running to its deadline on every GPU it requested."""
    gpus = gpus_per_trial(spec)
    trials = spec.max_trial_count or spec.effective_parallel_trial_count
    hours = (trial_deadline_seconds(spec, cluster) or 0) / 3600
    return WorstCase(trials, gpus, hours, trials * gpus * hours)


def budget_gpu_hours(spec: ExperimentSpec) -> float | None:
    """The most GPU-hours the budget lets the experiment spend; None without a budget.

    A trial-hours budget allows that many hours of trials, each holding its GPUs.
    """
    if spec.budget is None:
        return None
    if spec.budget.unit == "gpu_hours":
        return spec.budget.limit
    return spec.budget.limit * gpus_per_trial(spec)


def budget_text(spec: ExperimentSpec) -> str:
    """The budget as a reviewer reads it: `40 GPU-hours`, `12 trial-hours (24 GPU-hours)`."""
    if spec.budget is None:
        return "no budget"
    limit = spec.budget.limit
    if spec.budget.unit == "gpu_hours":
        return f"{limit:g} GPU-hours"
    gpu_hours = budget_gpu_hours(spec)
    return f"{limit:g} trial-hours" + (f" ({gpu_hours:g} GPU-hours)" if gpu_hours else "")
