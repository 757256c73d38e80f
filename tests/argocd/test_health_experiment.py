"""The Argo CD health check for Katib Experiments, run in a sandboxed Lua 5.1 runtime."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest
import yaml

from tests.argocd.lua_health import REPO_ROOT, VALID_STATUSES, health_of
from tests.support import katib
from tests.support.sdk_models import unknown_fields

RENDERED_EXPERIMENTS = sorted((REPO_ROOT / "rendered").glob("*/*/experiment-*.yaml"))


def experiment_health(obj: dict) -> dict:
    return health_of("experiment.lua", obj)


class TestFixturesAreRealKatibObjects:
    """The objects the checks run against use only fields the Katib SDK knows, and a field it
    does not know is caught."""

    @pytest.mark.parametrize(
        "obj",
        [
            katib.experiment(None),
            katib.running_experiment(),
            katib.restarting_experiment(),
            katib.failed_experiment(),
            katib.succeeded_experiment(*katib.GOAL_REACHED),
        ],
        ids=["no-status", "running", "restarting", "failed", "succeeded"],
    )
    def test_every_field_is_in_the_katib_model(self, obj):
        assert [] == unknown_fields(obj, "V1beta1Experiment")

    def test_a_misspelt_field_is_found(self):
        obj = katib.running_experiment()
        obj["spec"]["maxTrialCont"] = obj["spec"].pop("maxTrialCount")
        obj["status"]["currentOptimalTrial"]["observation"]["metrics"][0]["lastest"] = "0.45"
        assert [
            ".spec.maxTrialCont",
            ".status.currentOptimalTrial.observation.metrics[0].lastest",
        ] == unknown_fields(obj, "V1beta1Experiment")

    def test_the_builders_refuse_a_misspelt_field(self):
        with pytest.raises(ValueError, match=r"V1beta1Experiment .*\.spec\.maxTrialCont"):
            katib.experiment(None, maxTrialCont=4)


class TestExperimentStates:
    """Each state Katib puts an Experiment in maps to the right Argo CD health and message."""

    def test_no_status_yet_is_progressing_and_says_what_it_waits_for(self):
        health = experiment_health(katib.experiment(None))
        assert "Progressing" == health["status"]
        assert "Waiting for the Katib controller to accept the experiment" == health["message"]

    def test_created_is_progressing_with_zero_trials(self):
        health = experiment_health(katib.experiment(katib.experiment_status([katib.CREATED])))
        assert {"status": "Progressing", "message": "0/4 trials succeeded"} == health

    def test_running_counts_trials_and_names_the_best_objective(self):
        health = experiment_health(katib.running_experiment())
        assert {
            "status": "Progressing",
            "message": "2/4 trials succeeded, 2 running, best train_loss=0.412",
        } == health

    def test_restarting_after_max_trial_count_was_raised_is_progressing(self):
        health = experiment_health(katib.restarting_experiment())
        assert {
            "status": "Progressing",
            "message": "3/6 trials succeeded, 1 failed, best train_loss=0.412 (restarting)",
        } == health

    def test_succeeded_at_max_trial_count_is_healthy(self):
        health = experiment_health(katib.succeeded_experiment(*katib.MAX_TRIALS_REACHED))
        assert {
            "status": "Healthy",
            "message": "3/4 trials succeeded, 1 failed, best train_loss=0.412",
        } == health

    def test_succeeded_because_the_goal_was_reached_is_healthy(self):
        obj = katib.succeeded_experiment(*katib.GOAL_REACHED)
        assert "Healthy" == experiment_health(obj)["status"]

    def test_failed_is_degraded_and_gives_katibs_reason(self):
        health = experiment_health(katib.failed_experiment())
        assert {
            "status": "Degraded",
            "message": "2/4 trials succeeded, 2 failed, best train_loss=0.412: "
            "Experiment has failed because max failed count has reached",
        } == health

    def test_a_running_condition_set_to_false_alone_is_not_success(self):
        obj = katib.experiment(katib.experiment_status([katib.CREATED, katib.NOT_RUNNING]))
        assert "Progressing" == experiment_health(obj)["status"]

    @pytest.mark.parametrize(
        "obj",
        [katib.experiment(None), katib.running_experiment(), katib.failed_experiment()],
        ids=["no-status", "running", "failed"],
    )
    def test_status_is_one_argo_cd_accepts(self, obj):
        assert experiment_health(obj)["status"] in VALID_STATUSES


class TestTrialCounts:
    """The message lists every non-zero trial count Katib reports, in a fixed order."""

    def test_all_counts_in_order(self):
        obj = katib.with_status_fields(
            katib.running_experiment(),
            trialsPending=1,
            trialsFailed=1,
            trialsKilled=1,
            trialsEarlyStopped=2,
            trialMetricsUnavailable=1,
        )
        assert (
            "2/4 trials succeeded, 2 running, 1 pending, 1 failed, 1 killed, 2 early stopped, "
            "1 without metrics, best train_loss=0.412"
        ) == experiment_health(obj)["message"]

    def test_without_max_trial_count_only_the_succeeded_count_is_shown(self):
        obj = katib.running_experiment()
        del obj["spec"]["maxTrialCount"]
        assert experiment_health(obj)["message"].startswith("2 trials succeeded, 2 running")


class TestBestObjective:
    """The best value shown is the one Katib ranks by, formatted compactly."""

    def test_missing_optimal_trial_leaves_best_out(self):
        obj = katib.with_status_fields(
            katib.running_experiment(), currentOptimalTrial=katib.optimal_trial(None)
        )
        assert "2/4 trials succeeded, 2 running" == experiment_health(obj)["message"]

    def test_no_current_optimal_trial_key_at_all(self):
        obj = katib.running_experiment()
        del obj["status"]["currentOptimalTrial"]
        assert "2/4 trials succeeded, 2 running" == experiment_health(obj)["message"]

    def test_objective_not_among_the_observed_metrics_leaves_best_out(self):
        accuracy_only = [{"name": "eval_accuracy", "min": "0.81", "max": "0.88", "latest": "0.86"}]
        obj = katib.with_status_fields(
            katib.running_experiment(), currentOptimalTrial=katib.optimal_trial(accuracy_only)
        )
        assert "best" not in experiment_health(obj)["message"]

    def test_maximised_metric_uses_its_max_strategy(self):
        accuracy = [{"name": "eval_accuracy", "min": "0.5", "max": "0.91875", "latest": "0.9"}]
        obj = katib.experiment(
            katib.experiment_status(
                [katib.CREATED, katib.RUNNING],
                trialsSucceeded=1,
                currentOptimalTrial=katib.optimal_trial(accuracy),
            ),
            objective={
                "type": "maximize",
                "objectiveMetricName": "eval_accuracy",
                "metricStrategies": [{"name": "eval_accuracy", "value": "max"}],
            },
        )
        assert experiment_health(obj)["message"].endswith("best eval_accuracy=0.9188")

    def test_latest_strategy_is_honoured(self):
        obj = katib.running_experiment()
        obj["spec"]["objective"]["metricStrategies"][0]["value"] = "latest"
        assert experiment_health(obj)["message"].endswith("best train_loss=0.415")

    def test_without_metric_strategies_a_minimised_objective_uses_min(self):
        obj = katib.running_experiment()
        del obj["spec"]["objective"]["metricStrategies"]
        assert experiment_health(obj)["message"].endswith("best train_loss=0.412")

    @pytest.mark.parametrize(
        ("reported", "shown"),
        [
            ("0.41234567", "0.4123"),
            ("1234.5678", "1235"),
            ("0.0000123456", "1.235e-05"),
            ("-2.5", "-2.5"),
            ("0", "0"),
            ("12", "12"),
            ("3.0e-2", "0.03"),
            ("unavailable", "unavailable"),
        ],
    )
    def test_string_metric_values(self, reported, shown):
        metrics = [{"name": "train_loss", "min": reported, "max": reported, "latest": reported}]
        obj = katib.with_status_fields(
            katib.running_experiment(), currentOptimalTrial=katib.optimal_trial(metrics)
        )
        assert experiment_health(obj)["message"].endswith(f"best train_loss={shown}")


class TestRenderedExperiments:
    """The check reads the Experiments `hpo render` writes, with the objective they declare."""

    @pytest.mark.parametrize("path", RENDERED_EXPERIMENTS, ids=lambda p: p.parent.name)
    def test_fresh_and_running(self, path):
        rendered = yaml.safe_load(path.read_text())
        assert "Progressing" == experiment_health(rendered)["status"]

        objective = rendered["spec"]["objective"]
        metric = objective["objectiveMetricName"]
        strategy = {s["name"]: s["value"] for s in objective.get("metricStrategies", [])}
        values = {"min": "0.25", "max": "0.75", "latest": "0.5"}
        running = {
            **rendered,
            "status": katib.experiment_status(
                [katib.CREATED, katib.RUNNING],
                trialsSucceeded=1,
                trialsRunning=1,
                currentOptimalTrial=katib.optimal_trial([{"name": metric, **values}]),
            ),
        }
        assert [] == unknown_fields(running, "V1beta1Experiment")
        health = experiment_health(running)
        by_type = {"minimize": "min", "maximize": "max"}.get(objective["type"], "latest")
        expected_value = values[strategy.get(metric, by_type)]
        assert health["message"].endswith(f"best {metric}={expected_value}")
