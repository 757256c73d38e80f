"""What an experiment can cost: its worst case, and the GPU-hours its budget allows.

A reviewer approving a definition wants the most it can spend. The worst case is every trial
running to its deadline on every GPU it requested; a `budget` caps what is actually spent
(enforced by the results Job on a cluster and by `hpo tune --local`, see results.budget).

Under hpo-asha a trial trains one configuration at one rung, a share of a full run: the deadline
bounds a full run, and the worst case is the costliest mix of rungs that max_trial_count trials
can form (generator.checks.asha.worst_trial_mix), counted in full runs. A trial that hangs until
its deadline at a low rung would cost more than its share; the budget bounds that case.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.checks.asha import plan_of, worst_case_full_runs
from generator.loading.repo_config import Cluster
from generator.spec import ExperimentSpec


@dataclass(frozen=True)
class WorstCase:
    trials: int  # max_trial_count (Katib's default parallel count when unset)
    gpus_per_trial: int  # GPUs per node times nodes
    hours_per_trial: float  # the trial deadline; 0 for local experiments, which have none
    gpu_hours: float
    # What the trials cost at most in full runs: `trials`, except under hpo-asha, whose trials
    # train one rung each (then hours_per_trial is a full run's deadline).
    full_runs: float | None = None

    @property
    def shape(self) -> str:
        """The product, as hpo check prints it."""
        if self.full_runs is None:
            count = f"{self.trials} trials"
        else:
            count = (
                f"{self.trials} trials (hpo-asha: a trial is one configuration at one rung; at "
                f"most {self.full_runs:.3g} full runs of training)"
            )
        return (
            f"{count} x {self.gpus_per_trial} GPU(s) x {self.hours_per_trial:g} h = "
            f"{self.gpu_hours:g} GPU-hours"
        )


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
    """Every trial running to its deadline (its rung's share of it, under hpo-asha) on every
    GPU it requested."""
    gpus = gpus_per_trial(spec)
    trials = spec.max_trial_count or spec.effective_parallel_trial_count
    hours = (trial_deadline_seconds(spec, cluster) or 0) / 3600
    plan = plan_of(spec)
    if plan is None or trials <= 0:
        return WorstCase(trials, gpus, hours, trials * gpus * hours)
    full_runs = float(worst_case_full_runs(trials, plan))
    return WorstCase(trials, gpus, hours, round(full_runs * gpus * hours, 6), full_runs)


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
