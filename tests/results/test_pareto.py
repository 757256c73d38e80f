"""The Pareto front of several objectives, in results.yaml."""

from __future__ import annotations

import math

from results.model import Objective, TrialResult, build_result, results_file

LOSS = Objective("eval_loss", "minimize")
ACCURACY = Objective("eval_accuracy", "maximize")


def _trial(name: str, loss: float, accuracy: float, status: str = "Succeeded") -> TrialResult:
    metrics = {"eval_loss": loss, "eval_accuracy": accuracy}
    return TrialResult(name=name, status=status, parameters={}, metrics=metrics)


def _front(*trials: TrialResult) -> list[str]:
    result = build_result(
        experiment="x",
        status="Succeeded",
        reason=None,
        objective=LOSS,
        trials=trials,
        objectives=(LOSS, ACCURACY),
    )
    return [t.name for t in result.pareto_front]


class TestFront:
    def test_the_trials_nothing_beats_on_both_ordered_by_the_first(self):
        assert _front(
            _trial("a", 0.30, 0.80),
            _trial("b", 0.40, 0.90),  # worse loss, better accuracy: a trade-off
            _trial("c", 0.45, 0.85),  # beaten by b on both
            _trial("d", 0.20, 0.70),
        ) == ["d", "a", "b"]

    def test_equal_trials_both_stay(self):
        assert _front(_trial("a", 0.3, 0.8), _trial("b", 0.3, 0.8)) == ["a", "b"]

    def test_failed_and_unreported_trials_are_not_on_it(self):
        assert _front(
            _trial("a", 0.3, 0.8),
            _trial("b", 0.1, 0.99, status="Failed"),
            _trial("c", math.nan, 0.99),
        ) == ["a"]

    def test_written_with_every_objective(self):
        result = build_result(
            experiment="x",
            status="Succeeded",
            reason=None,
            objective=LOSS,
            trials=[_trial("a", 0.3, 0.8), _trial("b", 0.4, 0.9)],
            objectives=(LOSS, ACCURACY),
        )
        document = results_file(result, "0" * 64).to_document()
        assert document["objectives"] == [
            {"metric": "eval_loss", "type": "minimize"},
            {"metric": "eval_accuracy", "type": "maximize"},
        ]
        assert document["pareto_front"] == [
            {"name": "a", "metrics": {"eval_loss": 0.3, "eval_accuracy": 0.8}},
            {"name": "b", "metrics": {"eval_loss": 0.4, "eval_accuracy": 0.9}},
        ]
        assert list(document).index("pareto_front") < list(document).index("trials")

    def test_one_objective_writes_neither(self):
        result = build_result(
            experiment="x", status="Succeeded", reason=None, objective=LOSS, trials=[]
        )
        assert "objectives" not in results_file(result, "0" * 64).to_document()
