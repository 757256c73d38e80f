"""Cost metrics from the trainer's catalog: accepted as objective and additional metrics."""

from __future__ import annotations

from generator.cli import main
from tests.generator.conftest import VALID_DEFINITION
from trainer.catalog import COST_METRICS

WITH_EVAL = VALID_DEFINITION.replace(
    "  split: train[:1000]\n", "  split: train[:1000]\n  eval_split: test[:200]\n"
)


class TestCostMetrics:
    """Every task reports what a trial cost, with or without an eval split."""

    def test_additional_metrics_beside_eval_loss_render_with_latest(self, repo, capsys):
        text = (
            WITH_EVAL.replace(
                "objective_metric_name: train_loss", "objective_metric_name: eval_loss"
            )
            + f"additional_metric_names: [{', '.join(COST_METRICS)}]\n"
        )
        repo.write(text)
        assert 0 == main(["check"]), capsys.readouterr().err
        assert 0 == main(["render"])
        objective = repo.rendered_experiment()["spec"]["objective"]
        assert ("eval_loss", list(COST_METRICS)) == (
            objective["objectiveMetricName"],
            objective["additionalMetricNames"],
        )
        assert [{"name": "eval_loss", "value": "min"}] + [
            {"name": name, "value": "latest"} for name in COST_METRICS
        ] == objective["metricStrategies"]

    def test_trainable_params_as_the_objective_without_an_eval_split(self, repo, capsys):
        text = (
            VALID_DEFINITION.replace(
                "objective_metric_name: train_loss", "objective_metric_name: trainable_params"
            )
            + "additional_metric_names: [train_loss, peak_memory_mb]\n"
        )
        repo.write(text)
        assert 0 == main(["check"]), capsys.readouterr().err
        assert 0 == main(["render"])
        objective = repo.rendered_experiment()["spec"]["objective"]
        assert ("trainable_params", "minimize") == (
            objective["objectiveMetricName"],
            objective["type"],
        )

    def test_misspelt_cost_metric_gets_the_real_name(self, repo, capsys):
        repo.write(VALID_DEFINITION + "additional_metric_names: [peak_memory_mib]\n")
        assert 1 == main(["check"])
        err = capsys.readouterr().err
        assert "'peak_memory_mib' is not a metric the trainer reports" in err
        assert "did you mean 'peak_memory_mb'?" in err
