"""Several objectives in a definition: checked, and rendered as Katib's one objective plus
additional metrics, with the directions the project's suggestion service reads."""

from __future__ import annotations

import pytest

from generator.cli import main
from tests.generator.conftest import VALID_DEFINITION

SEVERAL = VALID_DEFINITION.replace(
    "objective_metric_name: train_loss\nobjective_type: minimize\nalgorithm_name: random\n",
    "objectives:\n"
    "  - {metric: eval_loss, type: minimize}\n"
    "  - {metric: trainable_params, type: minimize}\n"
    "algorithm_name: hpo-multivariate-tpe\n",
).replace("  split: train[:1000]\n", "  split: train[:1000]\n  eval_split: test[:200]\n")


def _check(repo, capsys, text: str) -> tuple[int, str]:
    repo.write(text)
    code = main(["check"])
    return code, capsys.readouterr().err


class TestRendered:
    def test_the_first_objective_is_katibs_and_the_others_follow(self, repo, capsys):
        repo.write(SEVERAL.replace("[eval_accuracy]", "[]"))
        assert 0 == main(["render"]), capsys.readouterr().err
        spec = repo.rendered_experiment()["spec"]
        assert spec["objective"]["objectiveMetricName"] == "eval_loss"
        assert spec["objective"]["type"] == "minimize"
        assert spec["objective"]["additionalMetricNames"] == ["trainable_params"]
        strategies = {s["name"]: s["value"] for s in spec["objective"]["metricStrategies"]}
        assert strategies == {"eval_loss": "min", "trainable_params": "min"}
        settings = {s["name"]: s["value"] for s in spec["algorithm"]["algorithmSettings"]}
        assert settings["objectives"] == "eval_loss:minimize,trainable_params:minimize"


class TestRefused:
    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (
                lambda t: t.replace("objectives:", "objective_metric_name: eval_loss\nobjectives:"),
                "objectives replaces objective_metric_name: set one form, not both",
            ),
            (
                lambda t: t.replace("algorithm_name: hpo-multivariate-tpe", "algorithm_name: tpe"),
                "Katib's 'tpe' optimises one objective; for several use hpo-random",
            ),
            (
                lambda t: t + "objective_goal: 0.2\n",
                "with several objectives there is no single goal",
            ),
            (
                lambda t: t.replace("metric: trainable_params", "metric: eval_loss"),
                "objectives: a metric is listed twice",
            ),
            (
                lambda t: t.replace("metric: trainable_params", "metric: trainable_parms"),
                "'trainable_parms' is not a metric the trainer reports",
            ),
            (
                lambda t: t.replace(
                    "algorithm_name: hpo-multivariate-tpe",
                    "algorithm_name: hpo-multivariate-tpe\n"
                    "algorithm_settings: {objectives: 'eval_loss:minimize'}",
                ),
                "algorithm_settings.objectives is written by the generator (from objectives)",
            ),
        ],
    )
    def test_rule(self, repo, capsys, change, message):
        code, err = _check(repo, capsys, change(SEVERAL))
        assert code == 1
        assert message in err

    def test_no_objective_at_all(self, repo, capsys):
        text = VALID_DEFINITION.replace("objective_metric_name: train_loss\n", "")
        code, err = _check(repo, capsys, text)
        assert code == 1
        assert "objective_metric_name is required (or objectives:" in err
