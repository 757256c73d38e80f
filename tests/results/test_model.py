"""The result model: ordering, best trial, counts, and reading Katib's objects into it."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest

from katib.objects import (
    experiment_outcome,
    metric_strategies,
    observed_metrics,
    trainer_image,
    trial_status,
)
from results.katib_objects import result_from_katib
from results.model import Objective, Provenance, TrialResult, build_result
from tests.results.conftest import SPACE
from tests.support import katib


def _trial(name: str, loss: float | None, status: str = "Succeeded") -> TrialResult:
    metrics = {} if loss is None else {"train_loss": loss}
    return TrialResult(name=name, status=status, parameters={"r": 8}, metrics=metrics)


class TestBuildResult:
    """Both runners share one rule for order, best trial and counts."""

    def test_minimised_objective_sorts_lowest_first_then_by_name(self):
        result = build_result(
            experiment="e",
            status="Succeeded",
            reason=None,
            objective=Objective("train_loss", "minimize"),
            trials=[_trial("c", 0.5), _trial("b", 0.4), _trial("a", 0.5), _trial("d", None)],
        )
        assert ["b", "a", "c", "d"] == [t.name for t in result.trials]
        assert "b" == result.best_trial.name

    def test_maximised_objective_sorts_highest_first(self):
        result = build_result(
            experiment="e",
            status="Succeeded",
            reason=None,
            objective=Objective("train_loss", "maximize"),
            trials=[_trial("a", 0.1), _trial("b", 0.9)],
        )
        assert ["b", "a"] == [t.name for t in result.trials]

    def test_counts_follow_the_fixed_status_order_and_skip_zeroes(self):
        result = build_result(
            experiment="e",
            status="Failed",
            reason="too many failures",
            objective=Objective("train_loss", "minimize"),
            trials=[_trial("a", None, "Failed"), _trial("b", 0.3), _trial("c", None, "Killed")],
        )
        assert [("Succeeded", 1), ("Failed", 1), ("Killed", 1)] == list(result.counts.items())

    @pytest.mark.parametrize("status", ["Failed", "Killed", "MetricsUnavailable", "Running"])
    def test_only_succeeded_or_early_stopped_trials_may_be_best(self, status):
        result = build_result(
            experiment="e",
            status="Succeeded",
            reason=None,
            objective=Objective("train_loss", "minimize"),
            trials=[_trial("a", 0.01, status), _trial("b", 0.4, "EarlyStopped"), _trial("c", 0.3)],
        )
        assert "c" == result.best_trial.name  # a's early loss is lower, but it never finished
        assert ["a", "c", "b"] == [t.name for t in result.trials]

    def test_early_stopped_trial_may_be_best(self):
        result = build_result(
            experiment="e",
            status="Succeeded",
            reason=None,
            objective=Objective("train_loss", "minimize"),
            trials=[_trial("a", 0.2, "EarlyStopped"), _trial("b", 0.3)],
        )
        assert "a" == result.best_trial.name

    def test_only_failed_trials_mean_no_best_trial(self):
        result = build_result(
            experiment="e",
            status="Failed",
            reason="r",
            objective=Objective("train_loss", "minimize"),
            trials=[_trial("a", 0.1, "Failed")],
        )
        assert result.best_trial is None

    def test_no_trial_with_the_objective_means_no_best_trial(self):
        result = build_result(
            experiment="e",
            status="Failed",
            reason="r",
            objective=Objective("train_loss", "minimize"),
            trials=[_trial("a", None, "Failed")],
        )
        assert result.best_trial is None

    def test_an_unknown_trial_status_is_refused(self):
        with pytest.raises(ValueError, match="unknown status 'Pending'"):
            _trial("a", 0.1, "Pending")


class TestKatibConditions:
    """Status comes from the conditions that are True, the way Katib's own helpers read them."""

    def test_running_experiment_has_no_outcome(self):
        assert experiment_outcome(katib.running_experiment()) is None

    def test_failed_experiment_carries_reason_and_message(self):
        expected = (
            "Failed",
            "ExperimentMaxFailedTrialsReached: Experiment has failed because max failed count "
            "has reached",
        )
        assert expected == experiment_outcome(katib.failed_experiment())

    @pytest.mark.parametrize(
        "status", ["Succeeded", "Failed", "Killed", "EarlyStopped", "MetricsUnavailable"]
    )
    def test_trial_status_is_its_true_terminal_condition(self, status):
        trial = katib.trial("a", learning_rate="1e-05", r="8", use_rslora="true", status=status)
        assert status == trial_status(trial)

    def test_trial_with_only_created_is_running(self):
        trial = katib.trial("a", learning_rate="1e-05", r="8", use_rslora="true")
        trial["status"]["conditions"] = trial["status"]["conditions"][:1]
        assert "Running" == trial_status(trial)


class TestKatibMetrics:
    """A metric's value is the one its strategy picks; 'unavailable' is no value at all."""

    def test_strategies_come_from_the_objective(self):
        expected = {"train_loss": "min", "eval_accuracy": "latest"}
        assert expected == metric_strategies(katib.succeeded_experiment())

    def test_objective_strategy_defaults_by_objective_type(self):
        experiment = katib.succeeded_experiment()
        experiment["spec"]["objective"]["metricStrategies"] = []
        experiment["spec"]["objective"]["type"] = "maximize"
        assert {"train_loss": "max", "eval_accuracy": "latest"} == metric_strategies(experiment)

    def test_values_are_picked_by_strategy_and_parsed(self):
        observation = {
            "metrics": [
                {"name": "train_loss", "min": "0.412", "max": "0.69", "latest": "0.415"},
                {"name": "eval_accuracy", "min": "0.81", "max": "0.88", "latest": "0.86"},
            ]
        }
        metrics = observed_metrics(observation, {"train_loss": "min", "eval_accuracy": "latest"})
        assert {"train_loss": 0.412, "eval_accuracy": 0.86} == metrics

    def test_unavailable_metrics_are_left_out(self):
        observation = {
            "metrics": [
                {
                    "name": "train_loss",
                    "min": "unavailable",
                    "max": "unavailable",
                    "latest": "unavailable",
                }
            ]
        }
        assert {} == observed_metrics(observation, {"train_loss": "min"})


class TestResultFromKatib:
    """A finished Experiment and its Trials become the same model the local runner builds."""

    def test_succeeded_experiment(self):
        result = result_from_katib(
            katib.succeeded_experiment(),
            katib.default_trials(),
            space=SPACE,
            provenance=Provenance(model_uri="hf://meta-llama/Llama-3.2-1B"),
        )
        assert ("Succeeded", None) == (result.status, result.reason)
        assert f"{katib.NAME}-x7k2p" == result.best_trial.name
        assert {"learning_rate": 3.2e-05, "r": 16, "use_rslora": True} == dict(
            result.best_trial.parameters
        )
        assert {"Succeeded": 3, "Failed": 1} == dict(result.counts)
        assert katib.EXPERIMENT_UID == result.provenance.experiment_uid
        assert katib.TRAINER_IMAGE == result.provenance.trainer_image
        assert "hf://meta-llama/Llama-3.2-1B" == result.provenance.model_uri

    def test_optimal_trial_stands_in_when_its_trial_object_is_gone(self):
        result = result_from_katib(katib.succeeded_experiment(), [], space=SPACE)
        assert f"{katib.NAME}-x7k2p" == result.best_trial.name
        assert {"train_loss": 0.412, "eval_accuracy": 0.86} == dict(result.best_trial.metrics)

    def test_running_experiment_is_refused(self):
        with pytest.raises(ValueError, match="has not finished"):
            result_from_katib(katib.running_experiment(), [], space=SPACE)


class TestTrainerImageOfATrainJob:
    """Provenance names the trainer image whatever object runs the trials."""

    def test_trainjob_trainer_image(self):
        experiment = katib.succeeded_experiment()
        experiment["spec"]["trialTemplate"]["trialSpec"] = {
            "apiVersion": "trainer.kubeflow.org/v1alpha1",
            "kind": "TrainJob",
            "spec": {
                "runtimeRef": {"name": "hpo-torch-distributed"},
                "trainer": {"image": "ghcr.io/example/hpo-trainer:0.2.0"},
            },
        }
        assert "ghcr.io/example/hpo-trainer:0.2.0" == trainer_image(experiment)
