"""GPU-hour and trial-hour budgets: what a trial costs, and when no further trial may start.

One accounting for a cluster (the results Job, from each Trial's start and completion times) and
for `hpo tune --local` (from the trial processes' own times), so a budget tried locally ends an
experiment the same way on a cluster.

A trial costs its wall time in hours; for a `gpu_hours` budget, times the GPUs it requested on
all its nodes. Running trials count what they have cost so far.

Katib stops an experiment only by its trial counts, and its webhook refuses a `maxTrialCount` at or
below the trials an Experiment has already created: the lowest count it accepts lets one more
trial start. So the budget stops an experiment while that one trial still fits: once what was
spent, plus what the running trials cost so far, plus one more trial (as much as the costliest
trial so far) reaches the budget, the trial count becomes the trials created plus one. Running
trials finish; one more runs; no other starts. The local runner applies the same rule.

Under hpo-asha a trial trains one rung of a configuration, a share of a full run (its rung's
fraction less the rung below's). What it spent is its wall time as for any trial; only the one
more trial is estimated differently: the next could be a promotion to the top rung, however short
the trials so far, so it is expected to cost the costliest trial so far scaled to a full run
(its time over its share), times the largest share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from generator.checks.asha import plan_of, rung_shares
from generator.checks.cost import gpus_per_trial
from generator.spec import ExperimentSpec
from results.model import BudgetOutcome
from suggestion.asha import RUNG_PARAMETER

UNIT_NAMES = {"gpu_hours": "GPU-hours", "trial_hours": "trial-hours"}


@dataclass(frozen=True)
class BudgetRule:
    """A definition's budget, with what a trial hour costs in its unit."""

    unit: str  # "gpu_hours" or "trial_hours"
    limit: float
    per_trial_hour: int  # GPUs on all of a trial's nodes, or 1 for trial-hours
    # Under hpo-asha, the share of a full run a trial at each rung trains; empty otherwise.
    rung_shares: tuple[float, ...] = ()

    @classmethod
    def of(cls, spec: ExperimentSpec) -> BudgetRule | None:
        budget = spec.budget
        if budget is None:
            return None
        per_hour = gpus_per_trial(spec) if budget.unit == "gpu_hours" else 1
        plan = plan_of(spec)
        shares = () if plan is None else tuple(float(s) for s in rung_shares(plan))
        return cls(budget.unit, budget.limit, per_hour, shares)

    def share(self, rung: int | None) -> float:
        """The share of a full run a trial at `rung` trains: 1 without rungs."""
        if rung is None or not 0 <= rung < len(self.rung_shares):
            return 1.0
        return self.rung_shares[rung]


@dataclass(frozen=True)
class TrialTime:
    """When a trial started and ended, in seconds since the epoch; None: not (yet)."""

    started: float | None
    finished: float | None = None
    rung: int | None = None  # under hpo-asha, the rung the trial trains to


def rung_of(assignments: Mapping[str, str]) -> int | None:
    """The rung of a trial's parameter assignments (hpo-asha); None for any other trial."""
    try:
        return int(assignments[RUNG_PARAMETER])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class BudgetState:
    rule: BudgetRule
    spent: float  # by finished trials
    running: float  # by running trials, so far
    # What one more trial is expected to cost: the costliest so far (under hpo-asha, scaled to
    # the costliest rung).
    next_trial: float
    trials: int  # created so far

    @property
    def exhausted(self) -> bool:
        """No trial may start beyond the one the lowered trial count still lets start."""
        return self.spent + self.running + self.next_trial >= self.rule.limit

    @property
    def stop_count(self) -> int:
        """The lowest trial count Katib accepts: one more than the trials created."""
        return self.trials + 1

    def describe(self) -> str:
        unit = UNIT_NAMES[self.rule.unit]
        text = f"{self.spent + self.running:.3g} of {self.rule.limit:g} {unit}"
        return text + (f" ({self.running:.3g} running)" if self.running else "")


def account(rule: BudgetRule, trials: Iterable[TrialTime], now: float) -> BudgetState:
    spent = running = costliest = 0.0
    count = 0
    for trial in trials:
        count += 1
        if trial.started is None:
            continue  # created, not started: nothing spent yet
        end = now if trial.finished is None else trial.finished
        cost = max(0.0, end - trial.started) / 3600 * rule.per_trial_hour
        costliest = max(costliest, cost / rule.share(trial.rung))
        if trial.finished is None:
            running += cost
        else:
            spent += cost
    return BudgetState(rule, spent, running, costliest * max(rule.rung_shares, default=1.0), count)


def rfc3339_seconds(text: str | None) -> float | None:
    """Seconds since the epoch of a Kubernetes timestamp (2024-05-01T10:00:00Z)."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def katib_trial_time(trial: dict) -> TrialTime:
    """A Katib Trial's start and completion times, and its rung under hpo-asha."""
    status = trial.get("status") or {}
    assignments = {
        a.get("name"): a.get("value")
        for a in (trial.get("spec") or {}).get("parameterAssignments") or ()
    }
    return TrialTime(
        rfc3339_seconds(status.get("startTime")),
        rfc3339_seconds(status.get("completionTime")),
        rung_of(assignments),
    )


def outcome(state: BudgetState, ended_experiment: bool) -> BudgetOutcome:
    spent = round(state.spent + state.running, 4)
    return BudgetOutcome(state.rule.unit, state.rule.limit, spent, ended_experiment)


class ClusterBudget:
    """The results Job's guard: lowers a running Experiment's trial counts once it is spent."""

    def __init__(self, watcher, name: str, rule: BudgetRule, *, clock=None) -> None:
        import time

        self.watcher = watcher
        self.name = name
        self.rule = rule
        self.clock = clock or time.time
        self.patched: dict[str, int] | None = None

    def check(self, experiment: dict) -> BudgetState:
        """Account the Experiment's trials now; lower its counts when the budget is spent."""
        trials = self.watcher.trials(self.name)
        state = account(self.rule, [katib_trial_time(t) for t in trials], self.clock())
        spec = experiment.get("spec") or {}
        created = max(state.trials, int((experiment.get("status") or {}).get("trials") or 0))
        count = created + 1
        current = spec.get("maxTrialCount")
        if not state.exhausted or current is not None and current <= count:
            return state  # within budget, or the counts are already as low as Katib allows
        # The webhook wants parallel and failed counts no higher than the trial count. Neither
        # drops below the running trials, which Katib would otherwise delete.
        patch = {"maxTrialCount": count}
        for field in ("parallelTrialCount", "maxFailedTrialCount"):
            if spec.get(field) is not None and spec[field] > count:
                patch[field] = count
        self.watcher.patch_trial_counts(self.name, patch)
        self.patched = patch
        return state


def cluster_outcome(
    rule: BudgetRule, experiment: dict, trials: list[dict], defined_max: int | None
) -> BudgetOutcome:
    """The budget of a finished Experiment: spent by its trials, and whether it ended the
    experiment (its trial count stands lower than the definition's: the results Job lowered it)."""
    status = experiment.get("status") or {}
    end = rfc3339_seconds(status.get("completionTime")) or max(
        (t.finished or t.started or 0.0 for t in map(katib_trial_time, trials)), default=0.0
    )
    state = account(rule, [katib_trial_time(t) for t in trials], end)
    live_max = (experiment.get("spec") or {}).get("maxTrialCount")
    lowered = live_max is not None and (defined_max is None or live_max < defined_max)
    return outcome(state, lowered)
