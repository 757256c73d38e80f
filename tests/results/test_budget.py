"""Budgets on a cluster: what trials cost, and the results Job lowering the trial counts."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from katib.watch import FIELD_MANAGER, KatibWatcher, kube_api
from results import cli
from results.budget import (
    BudgetRule,
    ClusterBudget,
    TrialTime,
    account,
    cluster_outcome,
    katib_trial_time,
    rung_of,
)
from tests.results.conftest import definition_record, set_results_job_env
from tests.support import katib

HOUR = 3600.0
GPU_RULE = BudgetRule("gpu_hours", 10.0, 2)  # 2 GPUs per trial, 10 GPU-hours
# The seed's definition with room for ten trials, and a budget of 10 GPU-hours.
BUDGETED = katib.DEFINITION.replace("max_trial_count: 4", "max_trial_count: 10") + (
    "budget: {gpu_hours: 10}\n"
)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _trial(suffix: str, started: datetime | None, finished: datetime | None) -> dict:
    trial = katib.trial(suffix, learning_rate="3.2e-05", r="16", use_rslora="true")
    trial["status"]["startTime"] = started and _stamp(started)
    trial["status"]["completionTime"] = finished and _stamp(finished)
    if finished is None:
        trial["status"]["conditions"] = trial["status"]["conditions"][:1]
        trial["status"]["observation"] = None
    return trial


def _running_experiment(trials: int, **spec) -> dict:
    experiment = katib.running_experiment(resource_version="100")
    experiment["spec"].update(maxTrialCount=10, parallelTrialCount=2, maxFailedTrialCount=3)
    experiment["spec"].update(spec)
    experiment["status"]["trials"] = trials
    return experiment


class TestAccounting:
    """A trial costs its hours times its GPUs; the budget keeps room for one more trial."""

    def test_finished_running_and_waiting_trials(self):
        trials = [TrialTime(0.0, 2 * HOUR), TrialTime(HOUR, None), TrialTime(None, None)]
        state = account(GPU_RULE, trials, now=2.5 * HOUR)
        assert (4.0, 3.0, 4.0, 3) == (state.spent, state.running, state.next_trial, state.trials)
        assert (True, 4) == (state.exhausted, state.stop_count)  # 4 + 3 + 4 >= 10

    def test_room_for_one_more_trial_is_not_exhausted(self):
        state = account(GPU_RULE, [TrialTime(0.0, HOUR), TrialTime(0.0, HOUR)], now=HOUR)
        assert (4.0, False) == (state.spent, state.exhausted)  # 4 + 0 + 2 < 10

    def test_trial_hours_count_wall_time_alone(self):
        rule = BudgetRule("trial_hours", 3.0, 1)
        state = account(rule, [TrialTime(0.0, HOUR), TrialTime(0.0, None)], now=HOUR)
        assert (1.0, 1.0, "2 of 3 trial-hours (1 running)") == (
            state.spent,
            state.running,
            state.describe(),
        )

    def test_katib_times(self):
        trial = _trial("a", datetime(2025, 5, 1, 10, tzinfo=UTC), None)
        assert TrialTime(datetime(2025, 5, 1, 10, tzinfo=UTC).timestamp(), None) == (
            katib_trial_time(trial)
        )

    def test_the_rule_comes_from_the_definition(self):
        spec = definition_record(katib.DEFINITION + "budget: {trial_hours: 6}\n").spec
        assert BudgetRule("trial_hours", 6.0, 1) == BudgetRule.of(spec)
        assert None is BudgetRule.of(definition_record().spec)


class TestRungs:
    """Under hpo-asha a trial's wall time counts as it is; one more trial is expected to be as
    long as the costliest rung, whatever rungs ran so far."""

    # Rungs at 1/9, 1/3 and all of a full run: trials train 1/9, 2/9 and 6/9 of it.
    RULE = BudgetRule("gpu_hours", 10.0, 2, (1 / 9, 2 / 9, 6 / 9))

    def test_one_more_trial_may_be_a_promotion_to_the_top(self):
        """Half an hour at rung 0 is 4.5 h of a full run; the top rung trains 6/9 of it:
        3 hours on 2 GPUs."""
        state = account(self.RULE, [TrialTime(0.0, HOUR / 2, rung=0)], now=HOUR)
        assert (1.0, 6.0) == (state.spent, pytest.approx(state.next_trial))
        assert not state.exhausted  # 1 + 6 < 10

    def test_the_costliest_trial_scaled_to_a_full_run_decides(self):
        trials = [TrialTime(0.0, HOUR / 2, rung=0), TrialTime(0.0, 1.5 * HOUR, rung=1)]
        state = account(self.RULE, trials, now=2 * HOUR)
        # Rung 1: 1.5 h for 2/9 of a run is 6.75 h per run (rung 0's, 4.5 h); 4.5 h at the top.
        assert (4.0, 9.0, True) == (
            pytest.approx(state.spent),
            pytest.approx(state.next_trial),
            state.exhausted,
        )

    def test_the_rung_comes_from_the_trial_or_its_assignments(self):
        trial = _trial("a", datetime(2025, 5, 1, 10, tzinfo=UTC), None)
        trial["spec"]["parameterAssignments"].append({"name": "hpo_rung", "value": "2"})
        assert 2 == katib_trial_time(trial).rung
        assert 1 == rung_of({"hpo_rung": "1", "hpo_config": "4"})
        assert None is rung_of({"learning_rate": "0.1"})

    def test_the_rule_comes_from_the_definition(self):
        text = BUDGETED.replace("algorithm_name: random", "algorithm_name: hpo-asha").replace(
            "max_trial_count: 10", "max_trial_count: 13"
        )
        rule = BudgetRule.of(definition_record(text).spec)
        assert (1 / 9, 2 / 9, 6 / 9) == pytest.approx(rule.rung_shares)
        assert () == BudgetRule.of(definition_record(BUDGETED).spec).rung_shares


class TestOutcome:
    """A finished Experiment's budget: spent by its trials, ended by the lowered count."""

    def test_spent_by_the_recorded_trials(self):
        """Four trials of 2 GPUs from 10:00 to 11:40, 11:10, 12:20 and 12:05: 7.25 h each x 2."""
        experiment = katib.succeeded_experiment()
        outcome = cluster_outcome(GPU_RULE, experiment, katib.default_trials(), 4)
        assert (14.5, False) == (outcome.spent, outcome.ended_experiment)

    def test_a_count_lower_than_the_definitions_means_the_budget_ended_it(self):
        experiment = katib.succeeded_experiment()
        experiment["spec"]["maxTrialCount"] = 3
        outcome = cluster_outcome(GPU_RULE, experiment, katib.default_trials(), 4)
        assert outcome.ended_experiment


@pytest.fixture
def watcher(kube, tmp_path):
    api = kube_api(kube.kubeconfig(tmp_path / "kubeconfig", katib.NAMESPACE), timeout_s=5)
    return KatibWatcher(api, katib.NAMESPACE, watch_timeout_s=2)


def _cluster(kube, trials: list[dict], **spec) -> dict:
    experiment = _running_experiment(len(trials), **spec)
    kube.state.put(experiment)
    for trial in trials:
        kube.state.put(trial)
    return experiment


NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
SPENT = [  # 4 GPU-hours spent, 3 running, the costliest trial 4: the budget of 10 is reached
    _trial("a", NOW - timedelta(hours=3), NOW - timedelta(hours=1)),
    _trial("b", NOW - timedelta(hours=1), None),
    _trial("c", NOW - timedelta(minutes=30), None),
]


class TestClusterBudget:
    """The guard patches the counts once, as low as Katib's webhook accepts, as hpo-results."""

    def test_within_budget_nothing_is_patched(self, kube, watcher):
        experiment = _cluster(kube, SPENT[:1])
        guard = ClusterBudget(watcher, katib.NAME, GPU_RULE, clock=lambda: NOW.timestamp())
        assert not guard.check(experiment).exhausted
        assert [] == kube.state.patches

    def test_spent_budget_lowers_the_trial_count_once(self, kube, watcher):
        experiment = _cluster(kube, SPENT)
        guard = ClusterBudget(watcher, katib.NAME, GPU_RULE, clock=lambda: NOW.timestamp())
        assert guard.check(experiment).exhausted
        path = f"/apis/kubeflow.org/v1beta1/namespaces/{katib.NAMESPACE}/experiments/{katib.NAME}"
        # The webhook's lowest: one more than the 3 trials created. Katib accepted it.
        assert [
            (f"{path}?fieldManager={FIELD_MANAGER}", "application/merge-patch+json",
             {"spec": {"maxTrialCount": 4}})
        ] == kube.state.patches  # fmt: skip
        stored = kube.state.experiments[(katib.NAMESPACE, katib.NAME)]
        assert (4, 2, 3) == (
            stored["spec"]["maxTrialCount"],
            stored["spec"]["parallelTrialCount"],
            stored["spec"]["maxFailedTrialCount"],
        )
        guard.check(stored)  # a second look, or a restarted Job, patches nothing more
        assert 1 == len(kube.state.patches)

    def test_parallel_and_failed_counts_follow_down_but_never_below_the_running(
        self, kube, watcher
    ):
        experiment = _cluster(kube, SPENT, parallelTrialCount=8, maxFailedTrialCount=9)
        ClusterBudget(watcher, katib.NAME, GPU_RULE, clock=lambda: NOW.timestamp()).check(
            experiment
        )
        [(_, _, body)] = kube.state.patches
        counts = {"maxTrialCount": 4, "parallelTrialCount": 4, "maxFailedTrialCount": 4}
        assert {"spec": counts} == body
        assert counts["parallelTrialCount"] >= 2  # two trials run: Katib deletes none

    def test_the_trial_count_the_issue_wanted_is_refused_by_katib(self, kube, watcher):
        """Lowering to the trials created (3) is what Katib's webhook refuses."""
        _cluster(kube, SPENT)
        from results.errors import KubernetesError

        with pytest.raises(KubernetesError, match="must be greater than status.trials count"):
            watcher.patch_trial_counts(katib.NAME, {"maxTrialCount": 3})


class TestResultsJobEnforcesTheBudget:
    """`hpo results` lowers the counts while it waits, then records the budget it ended."""

    @pytest.fixture
    def settings(self, origin, github, tmp_path, monkeypatch):
        record = tmp_path / "definition.json"
        record.write_text(definition_record(BUDGETED).to_json())
        set_results_job_env(monkeypatch, record, origin, github)

    def test_budget_spent_while_waiting(
        self, kube, settings, origin, github, tmp_path, monkeypatch
    ):
        monkeypatch.setenv("KUBECONFIG", kube.kubeconfig(tmp_path / "kc", katib.NAMESPACE))
        now = datetime.now(UTC)
        running = [  # real time: the Job accounts them now
            _trial("a", now - timedelta(hours=3), now - timedelta(hours=1)),
            _trial("b", now - timedelta(hours=1), None),
            _trial("c", now - timedelta(minutes=30), None),
        ]
        _cluster(kube, running)
        # Katib then runs the one more trial the lowered count allows, and finishes.
        done = [
            _trial("a", now - timedelta(hours=3), now - timedelta(hours=1)),
            _trial("b", now - timedelta(hours=1), now),
            _trial("c", now - timedelta(minutes=30), now),
            _trial("d", now, now + timedelta(hours=1)),
        ]
        finished = katib.succeeded_experiment(resource_version="101")
        finished["spec"].update(maxTrialCount=4, parallelTrialCount=2, maxFailedTrialCount=3)
        finished["status"]["completionTime"] = _stamp(now + timedelta(hours=1))
        script = [("missed", t) for t in done] + [("event", "MODIFIED", finished)]
        kube.state.watch_scripts.append(script)

        assert 0 == cli.main(["results", katib.NAME, "--watch-seconds", "2"])

        released = {"metadata": {"annotations": {"argocd.argoproj.io/sync-options": ""}}}
        assert [{"spec": {"maxTrialCount": 4}}, released] == [
            body for _, _, body in kube.state.patches
        ]
        text = origin.show(f"hpo-results/{katib.NAME}", f"experiments/{katib.NAME}/results.yaml")
        budget = yaml.safe_load(text)["budget"]
        # 2 + 1 + 0.5 + 1 hours of 2-GPU trials
        assert {"unit": "gpu_hours", "limit": 10.0, "spent": 9.0, "ended_experiment": True} == (
            budget
        )
        report = origin.show(f"hpo-results/{katib.NAME}", f"experiments/{katib.NAME}/report.md")
        line = "9 of 10 GPU-hours spent; the budget ended the experiment"
        assert f"| Budget | {line} |" in report.decode()
        [pr] = github.state.prs.values()
        assert f"Budget: {line}." in pr["body"]
