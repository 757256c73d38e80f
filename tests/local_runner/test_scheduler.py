"""The experiment loop against real child processes: which trials count, interrupts, bad starts."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
from pathlib import Path

import optuna
import pytest

from local_runner.devices import Slot
from local_runner.plan import Command, LocalPlan, Parameter
from local_runner.progress import PlainProgress
from local_runner.scheduler import MAX_START_FAILURES, Scheduler
from local_runner.workspace import Workspace

# Prints a good loss at once, then waits; exits with EXIT_CODE, or 0 when asked to stop.
TRIAL = """\
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("loss=0.01", flush=True)
time.sleep(float(os.environ.get("WAIT", "0")))
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""


def make_plan(argv: tuple[str, ...], env: dict[str, str], **limits) -> LocalPlan:
    settings = {"goal": None, "max_trial_count": 1, "max_failed_trial_count": None} | limits
    return LocalPlan(
        name="exp",
        objective_metric="loss",
        objective_type="minimize",
        metric_strategies={"loss": "min"},
        algorithm="random",
        algorithm_settings={},
        early_stopping=None,
        parameters=(Parameter("lr", "double", min=0.1, max=0.2),),
        trial_parameters={},
        trial=Command("trial", argv, tuple({"name": k, "value": v} for k, v in env.items())),
        downloads=(),
        parallel_trial_count=1,
        metric_names=("loss",),
        **settings,
    )


def run_scheduler(tmp_path: Path, plan: LocalPlan, progress=None) -> tuple[Scheduler, object]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    workspace = Workspace(tmp_path, tmp_path / ".hpo", plan.name)
    study = optuna.create_study(direction=plan.objective_type)
    scheduler = Scheduler(
        plan,
        workspace,
        study,
        [Slot(0, (), 1)],
        progress or PlainProgress("loss", io.StringIO()),
    )
    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(30)  # a loop that never ends fails the test instead of hanging it
    try:
        return scheduler, scheduler.run()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def give_up(signum, frame):
    raise TimeoutError("the scheduler was still running after 30 s")


def trial_script(tmp_path: Path) -> tuple[str, ...]:
    script = tmp_path / "trial.py"
    script.write_text(TRIAL, encoding="utf-8")
    return ("python", str(script))


class TestOnlyObservedTrialsCount:
    """A Failed trial that printed a good loss is neither the best trial nor the goal."""

    def test_failed_trial_does_not_reach_the_goal(self, tmp_path):
        plan = make_plan(trial_script(tmp_path), {"EXIT_CODE": "1"}, goal=0.5)
        scheduler, outcome = run_scheduler(tmp_path, plan)
        assert ("Failed", {"loss": 0.01}) == (
            scheduler.finished[0].status,
            scheduler.finished[0].metrics,
        )
        assert None is scheduler.best()
        assert outcome.reason.startswith("ExperimentMaxTrialsReached")

    def test_succeeded_trial_reaches_the_goal(self, tmp_path):
        plan = make_plan(trial_script(tmp_path), {}, goal=0.5)
        scheduler, outcome = run_scheduler(tmp_path, plan)
        assert "exp-000" == scheduler.best().name
        assert outcome.reason.startswith("ExperimentGoalReached")


class InterruptOnceReported(PlainProgress):
    """Sends this process SIGINT once a running trial has reported the objective."""

    def update(self, running, finished, best) -> None:
        if any(r.metrics.series("loss") for r in running) and not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)


class TestInterruptKeepsFinishedTrials:
    """A trial that ends with exit 0 and its objective after Ctrl-C is Succeeded, not requeued."""

    def test_trial_that_finished_cleanly_is_kept(self, tmp_path):
        plan = make_plan(trial_script(tmp_path), {"WAIT": "20"})
        progress = InterruptOnceReported("loss", io.StringIO())
        progress.sent = False
        scheduler, outcome = run_scheduler(tmp_path, plan, progress)
        assert (True, None) == (progress.sent, outcome.status)
        assert [("Succeeded", False)] == [(t.status, t.interrupted) for t in scheduler.finished]


class TestTrialsThatCannotStart:
    """A command that never starts ends the run with one reason instead of looping for ever."""

    @pytest.mark.parametrize("limits", [{"max_trial_count": None}, {"max_trial_count": 100}])
    def test_run_fails_after_a_few_start_failures(self, tmp_path, limits):
        plan = make_plan((str(tmp_path / "no-such-program"),), {}, **limits)
        scheduler, outcome = run_scheduler(tmp_path, plan)
        assert "Failed" == outcome.status
        assert outcome.reason.startswith(f"TrialStartFailed: {MAX_START_FAILURES} trials in a row")
        assert MAX_START_FAILURES == len(scheduler.finished)

    def test_failure_limit_ends_the_run_first(self, tmp_path):
        plan = make_plan(
            (str(tmp_path / "no-such-program"),), {}, max_trial_count=None, max_failed_trial_count=0
        )
        _, outcome = run_scheduler(tmp_path, plan)
        assert outcome.reason.startswith("ExperimentMaxFailedTrialsReached: 1 trials failed")


class TestTrialEnvironment:
    """A trial sees neutral host variables and what its container asks for, no other secret."""

    SHOW_ENV = 'import os; print(f\'token={len(os.environ.get("HF_TOKEN", ""))}\', flush=True)'

    def run_trial(self, tmp_path, monkeypatch, env):
        monkeypatch.setenv("HF_TOKEN", "hf_parentsecret")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-aws-secret")
        plan = make_plan(("python", "-c", self.SHOW_ENV), {})
        plan = dataclasses.replace(
            plan, metric_names=("loss", "token"), trial=Command("t", plan.trial.argv, env)
        )
        scheduler, _ = run_scheduler(tmp_path, plan)
        return scheduler.finished[0].metrics

    def test_parent_token_stays_out(self, tmp_path, monkeypatch):
        assert {"token": 0.0} == self.run_trial(tmp_path, monkeypatch, ())

    def test_token_the_container_asks_for_is_passed(self, tmp_path, monkeypatch):
        ref = {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}}}
        assert {"token": 15.0} == self.run_trial(tmp_path, monkeypatch, (ref,))
