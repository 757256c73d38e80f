"""One search replayed on a task's learning curves: simulated time, parallel workers, no training.

Each time a worker is free, the arm asks the real `suggestion.sampling.next_assignments` for
the next trial, with every trial so far as Katib would send them (finished ones with their
metric, running ones without), and "runs" it from the table:
- no early stopping: the full run; Katib records the lowest objective reported (strategy min);
- medianstop: the project's rule (local_runner.medianstop), given to the trial when it starts
  from the trials that succeeded before; stopped at the first evaluation it judges worse than
  the median, with the lowest objective reported so far;
- hpo-asha: the steps from the rung below's stop step to its own (`stop_step`), resuming, and
  the objective at its stop step (strategy latest). A resumed run is taken to follow the full
  run's curve, as the trainer's schedule spans the full run.
A configuration whose recorded run diverged fails where its curve ends, with no metric. A trial
costs its start-up, its own steps and its evaluations (`Curve.seconds`). Trial-seconds at a
moment are the seconds every trial has run until then.

A run is scored against the table's best full run: the trial-seconds until a trial that trained
its configuration in full (a top-rung trial under hpo-asha) has a final objective within
`within` of it, and the regret (final objective of the best configuration trained in full,
minus the best) once `budget` trial-seconds are spent. A run ends when it has both, or at
`limit` trial-seconds.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from benchmarks.local_search import MEDIANSTOP
from benchmarks.replay.table import Curve, TableError, Task
from local_runner.medianstop import current_rule
from local_runner.plan import EarlyStopping
from suggestion.asha import CONFIG_PARAMETER, RUNG_PARAMETER
from suggestion.history import COMPLETE, FAILED, PRUNED, RUNNING, Objective, Observation
from suggestion.sampling import next_assignments
from suggestion.space import Parameter

try:
    from trainer.rungs import stop_step
except ModuleNotFoundError:  # a checkout from before the trainer published its rung rule

    def stop_step(total_steps: int, rung: int, rungs: int, reduction_factor: int) -> int:
        return -(-total_steps // reduction_factor ** (rungs - 1 - rung))


METRIC = "eval_loss"
OBJECTIVES = [Objective(METRIC, "minimize")]
STOPPING = EarlyStopping(**MEDIANSTOP["algorithm_settings"])
ASHA = {"reduction_factor": "3", "rungs": "3"}


@dataclass(frozen=True)
class Arm:
    """A search: an algorithm, how it stops trials (none, medianstop or asha), its sampler."""

    algorithm: str  # random | hpo-tpe | hpo-gp: the sampler of new configurations
    stopping: str = "none"

    @property
    def label(self) -> str:
        if self.stopping == "asha":
            return f"hpo-asha (sampler {self.algorithm.removeprefix('hpo-')})"
        return self.algorithm + (" + medianstop" if self.stopping == "medianstop" else "")

    def settings(self, seed: int) -> dict[str, str]:
        settings = {"random_state": str(seed)}
        if self.stopping == "asha":
            settings |= {**ASHA, "sampler": self.algorithm.removeprefix("hpo-")}
        return settings


@dataclass
class Trial:
    assignments: dict[str, str]
    steps: tuple[int, int]  # from, to: a rung trial resumes where the rung below stopped
    start: float
    end: float
    state: str  # COMPLETE, PRUNED or FAILED once it ends
    metrics: dict[str, float]
    final: float | None  # the configuration's full-run objective, when this trial finished it


@dataclass(frozen=True)
class Outcome:
    seconds_to_target: float | None  # trial-seconds; None: never within the target
    trials_to_target: int | None  # trials finished by then
    regret: float | None  # at the budget; None: no configuration trained in full by then
    trials: int  # trials started in all
    trial_seconds: float  # when the run ended


@dataclass
class Run:
    task: Task
    arm: Arm
    settings: dict[str, str]
    space: list[Parameter]
    trials: list[Trial] = field(default_factory=list)

    def spent(self, now: float) -> float:
        return sum(min(now, t.end) - t.start for t in self.trials if t.start < now)

    def history(self, now: float) -> list[Observation]:
        return [
            Observation(t.assignments, t.state, t.metrics)
            if t.end <= now
            else Observation(t.assignments, RUNNING)
            for t in self.trials
        ]

    def start(self, now: float) -> Trial:
        algorithm = "hpo-asha" if self.arm.stopping == "asha" else self.arm.algorithm
        history = self.history(now)
        [point] = next_assignments(self.space, algorithm, self.settings, OBJECTIVES, history)
        curve = self.task.curve(point)
        if self.arm.stopping == "asha":
            trial = _rung_trial(curve, point, now)
        else:
            rule = None
            if self.arm.stopping == "medianstop":
                succeeded = [self.task.curve(t.assignments).objectives for t in self.finished(now)]
                rule = current_rule(STOPPING, [list(s) for s in succeeded], minimize=True)
            trial = _full_or_stopped(curve, point, now, rule)
        self.trials.append(trial)
        return trial

    def finished(self, now: float) -> list[Trial]:
        return [t for t in self.trials if t.end <= now and t.state == COMPLETE]


def space_of(task: Task, arm: Arm, max_trials: int = 100_000) -> list[Parameter]:
    """The grid as Katib parameters, and under hpo-asha the two the generator adds."""
    if arm.stopping != "asha":
        return list(task.parameters)
    rungs = [str(k) for k in range(int(ASHA["rungs"]))]
    return [
        *task.parameters,
        Parameter(RUNG_PARAMETER, "categorical", values=tuple(rungs)),
        Parameter(CONFIG_PARAMETER, "int", "0", str(max_trials - 1)),
    ]


def check_rungs(task: Task) -> None:
    """Every rung's stop step must be an evaluation of every curve: it is what promotes."""
    rungs, eta = int(ASHA["rungs"]), int(ASHA["reduction_factor"])
    for curve in task.curves.values():
        for rung in range(rungs):
            step = stop_step(curve.total_steps, rung, rungs, eta)
            if step not in curve.steps:
                raise TableError(
                    f"task {task.name} configuration {curve.config}: no evaluation at step "
                    f"{step}, where rung {rung} of {rungs} stops"
                )


def _rung_trial(curve: Curve, point: dict[str, str], now: float) -> Trial:
    rungs, eta = int(ASHA["rungs"]), int(ASHA["reduction_factor"])
    rung = int(point[RUNG_PARAMETER])
    begin = stop_step(curve.total_steps, rung - 1, rungs, eta) if rung else 0
    stop = stop_step(curve.total_steps, rung, rungs, eta)
    failed = curve.failure(begin, stop)
    if failed is not None:
        return _failed(curve, point, now, begin, failed)
    end = now + curve.seconds(begin, stop)
    final = curve.final if rung == rungs - 1 else None
    return Trial(point, (begin, stop), now, end, COMPLETE, {METRIC: curve.at(stop)}, final)


def _full_or_stopped(curve: Curve, point: dict[str, str], now: float, rule) -> Trial:
    series = list(curve.objectives)
    for count, step in enumerate(curve.steps, start=1):
        if math.isnan(series[count - 1]):
            return _failed(curve, point, now, 0, step)
        if rule is not None and count < len(series) and rule.should_stop(series[:count]):
            end = now + curve.seconds(0, step)
            return Trial(point, (0, step), now, end, PRUNED, {METRIC: min(series[:count])}, None)
    end = now + curve.seconds(0, curve.total_steps)
    steps = (0, curve.total_steps)
    return Trial(point, steps, now, end, COMPLETE, {METRIC: min(series)}, curve.final)


def _failed(curve: Curve, point: dict[str, str], now: float, begin: int, step: int) -> Trial:
    """A run that diverged: it fails at the first evaluation it never reached, no metric."""
    return Trial(point, (begin, step), now, now + curve.seconds(begin, step), FAILED, {}, None)


def replay(task: Task, arm: Arm, seed: int, **limits) -> Outcome:
    """One run's outcome (simulate's keywords)."""
    return simulate(task, arm, seed, **limits)[1]


def simulate(
    task: Task,
    arm: Arm,
    seed: int,
    workers: int = 2,
    budget: float = 10.0,
    limit: float = 48.0,
    within: float = 0.01,
) -> tuple[Run, Outcome]:
    """One run of `arm` on `task` and how it scored; `budget` and `limit` in full runs' worth
    of trial-seconds."""
    if arm.stopping == "asha":
        check_rungs(task)
    run = Run(task, arm, arm.settings(seed), space_of(task, arm))
    budget_s, limit_s = budget * task.full_seconds, limit * task.full_seconds
    target = task.best + within * abs(task.best)
    ends: list[tuple[float, int]] = []  # (end, index): the order trials finish in
    now, finished, reached, best_by_budget = 0.0, 0, None, None
    for _ in range(workers):
        heapq.heappush(ends, (run.start(now).end, len(run.trials) - 1))
    while ends:
        now, index = heapq.heappop(ends)
        finished += 1
        spent = run.spent(now)
        final = run.trials[index].final
        if final is not None and spent <= budget_s:
            best_by_budget = final if best_by_budget is None else min(best_by_budget, final)
        if final is not None and final <= target and reached is None:
            reached = (spent, finished)
        if spent >= limit_s or (reached is not None and spent >= budget_s):
            break
        heapq.heappush(ends, (run.start(now).end, len(run.trials) - 1))
    regret = None if best_by_budget is None else best_by_budget - task.best
    seconds, count = reached if reached else (None, None)
    return run, Outcome(seconds, count, regret, len(run.trials), run.spent(now))
