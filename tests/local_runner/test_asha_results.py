"""A local hpo-asha run's results, through the results Job's writer: the records the study keeps
(assignments with the rung and the configuration, the `trained_steps` metric) become placed
trials, and the best trial is one of the top rung.

Two rungs of a reduction factor 2: with a full run of 4 steps, rung 0 trains 2 and rung 1 the
other 2, resuming it.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

from generator.commands.project import check_definition_file
from generator.loading.repo_config import load_repo_config
from local_runner.plan import build_plan
from local_runner.records import FinishedTrial
from local_runner.results_out import experiment_result, write
from local_runner.session import download_job
from tests.local_runner.conftest import definition


def _finished(number: int, rung: int, config: int, lr: str, loss: float | None) -> FinishedTrial:
    """A trial as the study saved it: Katib's strings, and the metrics by their strategies."""
    metrics = {} if loss is None else {"train_loss": loss, "trained_steps": 2.0}
    return FinishedTrial(
        number=number,
        name=f"rungs-{number:03d}",
        status="Failed" if loss is None else "Succeeded",
        assignments={
            "learning_rate": lr,
            "r": "2",
            "hpo_rung": str(rung),
            "hpo_config": str(config),
        },
        metrics=metrics,
        series=[] if loss is None else [loss],
        seconds=1.0,
        completed_at=f"2026-05-01T10:0{number}:00Z",
    )


class TestLocalHpoAshaResults:
    """results.yaml of a local run places every trial, as the cluster's does."""

    def test_placed_trials_and_the_top_rungs_best(self, repo):
        settings = {"rungs": 2, "reduction_factor": 2, "sampler": "random", "random_state": 7}
        path = repo.write(
            "rungs",
            definition("rungs", algorithm_name="hpo-asha", algorithm_settings=settings),
        )
        report = check_definition_file(path, repo.root, load_repo_config(repo.root))
        assert [] == [p for p in report.problems if p.is_error]
        objects = report.rendered
        plan = build_plan(objects.object_of_kind("Experiment"), download_job(objects.objects))
        finished = [
            _finished(0, 0, 0, "0.1", 0.9),
            _finished(1, 0, 1, "0.2", 0.5),  # promoted: the better half of rung 0
            _finished(2, 1, 1, "0.2", 0.6),  # the top rung: worse than rung 0's 0.5
            _finished(3, 0, 2, "0.3", None),
        ]

        result = experiment_result(plan, "Succeeded", None, finished, report.loaded.record)
        write(path.parent, result, report.loaded.record)

        written = repo.results("rungs")
        assert "rungs-002" == written["best_trial"]["name"]
        trials = written["trials"]
        placed = [(t["name"], t["config"], t["rung"], t["trained_steps"]) for t in trials]
        assert [
            ("rungs-002", 1, 1, 2),
            ("rungs-001", 1, 0, 2),
            ("rungs-000", 0, 0, 2),
            ("rungs-003", 2, 0, None),
        ] == placed
        assert [{"learning_rate", "r"}] * 4 == [set(t["parameters"]) for t in trials]
        expected = {
            "count": 2,
            "reduction_factor": 2,
            "configurations": 3,
            "trained_steps": 6,
            "full_run_steps": 4,
        }
        assert expected == written["rungs"]
