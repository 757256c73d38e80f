"""The experiment loop: keep the slots busy, apply the stopping rule, end the way Katib would.

Katib's rules, as its experiment controller applies them:
- completed trials are the Succeeded, Failed, Killed, EarlyStopped and MetricsUnavailable ones;
- the experiment succeeds when the objective reaches `goal`, or when `max_trial_count` trials
  have completed (no more are started than that), or when a grid has no point left;
- it fails when more than `max_failed_trial_count` trials have failed;
- a `budget` lowers the trial count once it is spent, exactly as the results Job lowers
  Katib's (results.budget): the trials created plus one.
Only Succeeded and EarlyStopped trials have observations in Katib, so only they can be the best
trial or reach the goal. Trials that Ctrl-C (or SIGTERM, SIGHUP) interrupts are not counted: they
are queued again with the same parameters, so `--resume` runs them first.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from datetime import datetime

from local_runner import study as keys
from local_runner.devices import Slot
from local_runner.medianstop import current_rule
from local_runner.plan import LocalPlan
from local_runner.process import GRACE_SECONDS
from local_runner.records import FinishedTrial, finished_from_study, rfc3339
from local_runner.suggest import history, next_point
from local_runner.trials import RunningTrial, start_trial, trial_name
from local_runner.workspace import Workspace
from results.budget import BudgetRule, BudgetState, TrialTime, account, rung_of
from results.model import Objective, best_trial
from suggestion.space import distribution, internal

COMPLETED = ("Succeeded", "Failed", "Killed", "EarlyStopped", "MetricsUnavailable")
POLL_SECONDS = 0.2
# Signals that end a run the way Ctrl-C does: a closed terminal, `kill`, a stopped container.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Trials that fail to start this many times in a row end the run: every start would fail too.
MAX_START_FAILURES = 3


@dataclass
class Outcome:
    status: str | None  # Succeeded | Failed; None when interrupted
    reason: str
    finished: list[FinishedTrial] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        plan: LocalPlan,
        workspace: Workspace,
        study,
        slots: list[Slot],
        progress,
        budget: BudgetRule | None = None,
    ):
        self.plan = plan
        self.limit = plan.max_trial_count  # lowered when the budget is spent
        self.budget = budget
        self.budget_ended = False
        self.workspace = workspace
        self.study = study
        self.free = list(slots)
        self.progress = progress
        self.running: list[RunningTrial] = []
        self.distributions = {p.name: distribution(p) for p in plan.parameters}
        self.minimize = plan.objective_type == "minimize"
        self.objective = Objective(plan.objective_metric, plan.objective_type, plan.goal)
        self.interrupts = 0
        self.finished: list[FinishedTrial] = []
        self.start_failures = 0  # trials in a row whose command could not be started
        self.start_error = ""

    # --- counting ------------------------------------------------------------------------

    def counted(self) -> list[FinishedTrial]:
        return [t for t in self.finished if not t.interrupted]

    def best(self) -> FinishedTrial | None:
        return best_trial(self.counted(), self.objective)

    def budget_state(self, now: float) -> BudgetState | None:
        """The budget as the results Job would account it on a cluster, this instant."""
        if self.budget is None:
            return None
        # Interrupted trials spent their time too, as killed Trials do on a cluster.
        times = [TrialTime(0.0, t.seconds, rung_of(t.assignments)) for t in self.finished]
        times += [
            TrialTime(now - r.process.seconds, None, rung_of(r.assignments)) for r in self.running
        ]
        return account(self.budget, times, now)

    def _apply_budget(self) -> None:
        state = self.budget_state(time.time())
        if state is None:
            return
        self.progress.budget = state.describe()
        if state.exhausted and (self.limit is None or self.limit > state.stop_count):
            self.limit = state.stop_count
            self.budget_ended = True
            self.progress.message(
                f"budget spent ({state.describe()}): no trial starts after the next one, "
                f"as on a cluster (max_trial_count {self.limit})"
            )

    def verdict(self) -> tuple[str, str] | None:
        plan, counted = self.plan, self.counted()
        best = self.best()
        if plan.goal is not None and best is not None:
            value = best.metrics[plan.objective_metric]
            if (value <= plan.goal) if self.minimize else (value >= plan.goal):
                return "Succeeded", f"ExperimentGoalReached: {best.name} reached {value:g}"
        failed = sum(t.status == "Failed" for t in counted)
        if plan.max_failed_trial_count is not None and failed > plan.max_failed_trial_count:
            return "Failed", (
                f"ExperimentMaxFailedTrialsReached: {failed} trials failed, more than "
                f"max_failed_trial_count {plan.max_failed_trial_count}"
            )
        completed = sum(t.status in COMPLETED for t in counted)
        if self.limit is not None and completed >= self.limit:
            why = " (the budget lowered the limit)" if self.budget_ended else ""
            return "Succeeded", f"ExperimentMaxTrialsReached: {completed} trials completed{why}"
        return None

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> Outcome:
        self.finished = finished_from_study(self.study)
        self._requeue_stale()
        previous = {signum: signal.signal(signum, self._on_interrupt) for signum in STOP_SIGNALS}
        try:
            return self._loop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for running in self.running:  # only after an unexpected error: never orphan trials
                running.process.stop()

    def _on_interrupt(self, signum, frame) -> None:
        self.interrupts += 1
        self._stop_for_interrupt()

    def _stop_for_interrupt(self) -> None:
        # A second Ctrl-C does not wait for the grace period.
        grace = GRACE_SECONDS if self.interrupts == 1 else 0.0
        for running in self.running:
            running.process.request_stop(grace=grace)

    def _loop(self) -> Outcome:
        exhausted = False
        while True:
            self._reap()
            if self.interrupts:
                if self.running:
                    self._stop_for_interrupt()  # also trials started as the signal came
                    time.sleep(POLL_SECONDS)
                    continue
                return Outcome(None, "interrupted", self.finished)
            self._apply_rules()
            self._apply_budget()
            verdict = self.verdict()
            if verdict is not None:
                self._stop_all("Killed")
                self._drain()
                return Outcome(*verdict, self.finished)
            if not exhausted:
                exhausted = self._launch()
            if self.start_failures >= MAX_START_FAILURES and not self.running:
                return Outcome(
                    "Failed",
                    f"TrialStartFailed: {self.start_failures} trials in a row could not start: "
                    f"{self.start_error}",
                    self.finished,
                )
            if exhausted and not self.running:
                return Outcome("Succeeded", "SuggestionEndReached: the grid is done", self.finished)
            self.progress.update(self.running, self.finished, self.best())
            time.sleep(POLL_SECONDS)

    def _drain(self) -> None:
        while self.running:
            time.sleep(POLL_SECONDS)
            self._reap()

    def _stop_all(self, status: str) -> None:
        for running in self.running:
            running.stopped_as = running.stopped_as or status
            running.process.request_stop()

    def _apply_rules(self) -> None:
        metric = self.plan.objective_metric
        deadline = self.plan.deadline_seconds
        for running in self.running:
            if running.stopped_as:
                continue
            if deadline is not None and running.process.seconds > deadline:
                running.stopped_as = "Failed"
                running.notes.append(f"active deadline of {deadline}s exceeded")
                running.process.request_stop()
                continue
            series = running.metrics.series(metric)
            if running.rule is not None:
                for count in range(running.checked + 1, len(series) + 1):
                    if running.rule.should_stop(series[:count]):
                        running.stopped_as = "EarlyStopped"
                        running.notes.append(
                            f"{metric}={series[count - 1]:g} at report {count} is worse than "
                            f"the median {running.rule.median:g}"
                        )
                        running.process.request_stop(grace=2.0)
                        break
            running.checked = len(series)

    # --- starting and finishing trials ---------------------------------------------------

    def _launch(self) -> bool:
        """Start trials while slots are free; True when the grid has no point left."""
        while self.free:
            limit = self.limit
            completed = sum(t.status in COMPLETED for t in self.counted())
            if limit is not None and completed + len(self.running) >= limit:
                return False
            trial = self._next_trial()
            if trial is None:
                return True
            assignments = {p.name: p.text(trial.params[p.name]) for p in self.plan.parameters}
            trial.set_user_attr(keys.NAME, trial_name(self.plan.name, trial.number))
            trial.set_user_attr(keys.ASSIGNMENTS, assignments)
            rule = current_rule(
                self.plan.early_stopping,
                (t.series for t in self.counted() if t.status == "Succeeded"),
                self.minimize,
            )
            slot = self.free.pop(0)
            try:
                running = start_trial(self.plan, self.workspace, trial, assignments, slot, rule)
            except OSError as e:
                self.free.append(slot)
                name = trial_name(self.plan.name, trial.number)
                self._record(trial, name, assignments, "Failed", {}, [], 0.0, note=str(e))
                self.start_failures += 1
                self.start_error = str(e)
                if self.start_failures >= MAX_START_FAILURES or self.verdict() is not None:
                    return False
                continue
            self.start_failures = 0
            self.running.append(running)
            self.progress.started(running)
        return False

    def _next_trial(self):
        """A trial queued again after an interrupt, else the shared sampler's next point as a
        new trial; None when the search has no point left (a finished grid)."""
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False)
        if not any(t.state == TrialState.WAITING for t in trials):
            seen = history(trials, (r.assignments for r in self.running))
            point = next_point(self.plan, seen)
            if point is None:
                return None
            self.study.enqueue_trial(
                {p.name: internal(p, point[p.name]) for p in self.plan.parameters},
                user_attrs={keys.ASSIGNMENTS: point},
            )
        return self.study.ask(fixed_distributions=self.distributions)

    def _requeue_stale(self) -> None:
        """Trials left running by a run that was killed: count them as interrupted, queue again."""
        from optuna.trial import TrialState

        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            name = t.user_attrs.get(keys.NAME, trial_name(self.plan.name, t.number))
            # The trial belongs to no live Trial object; its attributes are set through the
            # storage before tell() finishes it (finished trials are read-only).
            self.study._storage.set_trial_user_attr(t._trial_id, keys.STATUS, "Killed")
            self.study._storage.set_trial_user_attr(t._trial_id, keys.INTERRUPTED, True)
            self.study.tell(t.number, state=TrialState.FAIL)
            self._requeue(t.params, t.user_attrs.get(keys.ASSIGNMENTS, {}), name)
            self.progress.message(f"{name} was interrupted by a previous run; queued again")

    def _requeue(self, params: dict, assignments: dict[str, str], name: str) -> None:
        if params or assignments:
            self.study.enqueue_trial(
                params or assignments,
                user_attrs={keys.ASSIGNMENTS: assignments, keys.RERUN_OF: name},
            )

    def _reap(self) -> None:
        for running in list(self.running):
            code = running.process.poll()
            if code is None:
                continue
            self.running.remove(running)
            self.free.append(running.slot)
            self.free.sort(key=lambda s: s.index)
            observed = running.metrics.observed()
            series = running.metrics.series(self.plan.objective_metric)
            reported = self.plan.objective_metric in observed
            if running.stopped_as:
                status = running.stopped_as
            elif code == 0 and reported:
                status = "Succeeded"  # it finished before the interrupt reached it
            elif self.interrupts:
                status = "interrupted"
            elif code == 0:
                status = "MetricsUnavailable"
            else:
                status = "Failed"
                running.notes.append(f"exit code {code}: " + " | ".join(running.process.tail(1)))
            self._record(
                running.trial,
                running.name,
                running.assignments,
                status,
                observed,
                series,
                running.process.seconds,
                note="; ".join(running.notes),
                extremes=running.metrics.extremes(),
            )

    def _record(
        self, trial, name, assignments, status, observed, series, seconds, note="", extremes=None
    ):
        from optuna.trial import TrialState

        interrupted = status == "interrupted"
        katib_status = "Killed" if interrupted else status
        for step, value in enumerate(series):
            trial.report(value, step)
        trial.set_user_attr(keys.STATUS, katib_status)
        trial.set_user_attr(keys.METRICS, observed)
        trial.set_user_attr(keys.EXTREMES, extremes or {})
        trial.set_user_attr(keys.SECONDS, round(seconds, 3))
        if interrupted:
            trial.set_user_attr(keys.INTERRUPTED, True)
        if status == "Succeeded":
            self.study.tell(trial, observed[self.plan.objective_metric])
        elif status == "EarlyStopped":
            self.study.tell(trial, state=TrialState.PRUNED)
        else:
            self.study.tell(trial, state=TrialState.FAIL)
        if interrupted:
            self._requeue(trial.params, assignments, name)
        record = FinishedTrial(
            trial.number,
            name,
            katib_status,
            assignments,
            observed,
            series,
            seconds,
            interrupted,
            rfc3339(datetime.now()),
            extremes or {},
        )
        self.finished.append(record)
        self.progress.finished(record, note, self.best())
