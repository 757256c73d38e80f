"""hpo tune --local with the suggestion service's features: several objectives and warm start.

The stand-in trainer (see conftest) reports train_loss = 10 * learning_rate + r / 100 and
trainable_params = 1000 * r, so a lower loss and fewer parameters pull r opposite ways only
through learning_rate: the Pareto front is computed here from the trials' own metrics.
"""

from __future__ import annotations

import yaml

from generator.loading.definition import parse_definition
from generator.rendering.warm_start import generated_settings
from suggestion.history import Objective, warm_start_of
from suggestion.sampling import next_assignments
from suggestion.space import Parameter
from tests.local_runner.conftest import definition
from tests.local_runner.test_search import tune

OBJECTIVES = [
    {"metric": "train_loss", "type": "minimize"},
    {"metric": "trainable_params", "type": "minimize"},
]


def several(name: str, **overrides) -> str:
    document = yaml.safe_load(definition(name, **overrides))
    del document["objective_metric_name"], document["objective_type"]
    document["objectives"] = OBJECTIVES
    document["algorithm_name"] = "hpo-multivariate-tpe"
    document["algorithm_settings"] = {"random_state": 5, "n_startup_trials": 2}
    return yaml.safe_dump(document, sort_keys=False)


def front_of(trials: list[dict]) -> list[str]:
    """Names of the trials no other beats on both objectives (brute force)."""
    points = {
        t["name"]: (t["metrics"]["train_loss"], t["metrics"]["trainable_params"])
        for t in trials
        if t["status"] == "Succeeded"
    }
    return sorted(
        name
        for name, (loss, params) in points.items()
        if not any(
            other[0] <= loss and other[1] <= params and other != (loss, params)
            for other in points.values()
        )
    )


class TestSeveralObjectives:
    def test_results_hold_the_pareto_front(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.write("pareto", several("pareto", max_trial_count=6))

        assert 0 == tune(repo, monkeypatch, "pareto")

        results = repo.results("pareto")
        assert results["objectives"] == OBJECTIVES
        assert results["objective"]["metric"] == "train_loss"
        front = results["pareto_front"]
        assert sorted(t["name"] for t in front) == front_of(results["trials"])
        losses = [t["metrics"]["train_loss"] for t in front]
        assert losses == sorted(losses)  # by the first objective
        best = results["best_trial"]["name"]
        assert best == min(results["trials"], key=lambda t: t["metrics"]["train_loss"])["name"]
        report = (repo.root / "experiments/pareto/report.md").read_text()
        assert "## Pareto front" in report and f"`{front[0]['name']}`" in report

    def test_one_objective_algorithms_are_refused(self, repo, monkeypatch, capsys):
        text = several("pareto").replace("hpo-multivariate-tpe", "hpo-cmaes")
        repo.write("pareto", text.replace("n_startup_trials: 2", "n_startup_trials: 1"))
        assert 1 == tune(repo, monkeypatch, "pareto")
        assert "hpo-cmaes optimises one objective" in capsys.readouterr().err


class TestWarmStart:
    def _earlier(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.write("early", definition("early", max_trial_count=6))
        assert 0 == tune(repo, monkeypatch, "early")
        return repo.results("early")["trials"]

    def _later(self, **warm):
        space = {
            "training_parameters": {
                "learning_rate": {"search": "double", "min": 0.1, "max": 0.3},
                "max_steps": 2,
                "per_device_train_batch_size": 4,
            },
            "lora_config": {"r": {"search": "int", "min": 1, "max": 4}},
        }
        return definition(
            "later",
            trainer_parameters=space,
            algorithm_name="hpo-tpe",
            algorithm_settings={"random_state": 5, "n_startup_trials": 3},
            max_trial_count=2,
            **warm,
        )

    def test_earlier_trials_seed_the_search_and_are_recorded(self, repo, monkeypatch, capsys):
        earlier = self._earlier(repo, monkeypatch)
        inside = [t for t in earlier if t["parameters"]["learning_rate"] <= 0.3]
        repo.write("later", self._later(warm_start={"from": ["experiments/early"]}))
        capsys.readouterr()

        assert 0 == tune(repo, monkeypatch, "later")

        results = repo.results("later")
        assert results["warm_start"] == {"from": ["experiments/early"], "trials": len(inside)}
        assert len(results["trials"]) == 2  # the earlier trials are not run again
        # The sampler saw them: its first point is the one these trials lead to.
        spec = parse_definition(self._later(warm_start={"from": ["experiments/early"]}), "x")
        settings = generated_settings(spec.spec, repo.root, spec.document).settings
        assert len(warm_start_of(settings)) == len(inside)
        space = [
            Parameter("learning_rate", "double", 0.1, 0.3),
            Parameter("r", "int", 1, 4),
        ]
        expected = next_assignments(
            space,
            "hpo-tpe",
            {"random_state": "5", "n_startup_trials": "3", **settings},
            [Objective("train_loss", "minimize")],
            [],
        )[0]
        first = [t for t in results["trials"] if t["name"] == "later-000"][0]
        assert first["parameters"] == {
            "learning_rate": float(expected["learning_rate"]),
            "r": int(expected["r"]),
        }

    def test_trials_outside_the_space_are_dropped_and_counted(self, repo, monkeypatch):
        earlier = self._earlier(repo, monkeypatch)
        outside = sum(t["parameters"]["learning_rate"] > 0.3 for t in earlier)
        assert outside, "the earlier run should have tried a learning_rate above 0.3"
        repo.write("later", self._later(warm_start={"from": ["experiments/early"]}))
        checked = repo.hpo("check", "experiments/later")
        assert checked.code == 0, checked.stderr
        note = (
            f"warm_start: {len(earlier) - outside} trials from experiments/early; {outside} "
            f"dropped ({outside} with learning_rate outside this search space)"
        )
        assert f"warning: {note}" in checked.stderr
        [line] = checked.stdout.splitlines()  # the definition's one line says it too
        assert line.endswith(note.replace("warm_start:", "; warm start:"))

    def test_a_folder_without_results_is_refused(self, repo, monkeypatch):
        repo.write("later", self._later(warm_start={"from": ["experiments/nothing-yet"]}))
        (repo.root / "experiments/nothing-yet").mkdir()
        checked = repo.hpo("check", "experiments/later")
        assert checked.code == 1
        assert "warm_start.from[0]: experiments/nothing-yet has no results.yaml" in checked.stderr

    def test_another_objective_is_refused(self, repo, monkeypatch):
        self._earlier(repo, monkeypatch)
        text = self._later(warm_start={"from": ["experiments/early"]}).replace(
            "objective_type: minimize", "objective_type: maximize"
        )
        repo.write("later", text)
        checked = repo.hpo("check", "experiments/later")
        assert checked.code == 1
        assert (
            "experiments/early optimised train_loss (minimize); this experiment optimises "
            "train_loss (maximize): warm start needs the same objective"
        ) in checked.stderr

    def test_katibs_own_algorithms_cannot_warm_start(self, repo, monkeypatch):
        self._earlier(repo, monkeypatch)
        text = self._later(warm_start={"from": ["experiments/early"]}).replace(
            "hpo-tpe", "multivariate-tpe"
        )
        repo.write("later", text)
        checked = repo.hpo("check", "experiments/later")
        assert checked.code == 1
        assert "warm_start needs this project's suggestion service" in checked.stderr
