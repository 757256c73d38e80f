"""End to end: `hpo tune --local` renders a definition and runs its trial command per trial.

These tests use the stand-in trainer (see conftest), whose loss is 10 * learning_rate + r / 100,
so every expected value can be computed from the parameters a trial received.
"""

from __future__ import annotations

import itertools

import pytest
import yaml

from generator.cli import main
from storage_init.exits import ExitCode
from tests.local_runner.conftest import definition


def tune(repo, monkeypatch, name: str, *extra: str) -> int:
    monkeypatch.chdir(repo.root)
    return main(["tune", "--local", f"experiments/{name}", *extra])


def stand_in_loss(parameters: dict) -> float:
    return round(10 * parameters["learning_rate"] + parameters.get("r", 0) / 100, 6)


class TestRandomSearch:
    """Random search runs max_trial_count trials of the rendered command and writes results."""

    def test_runs_every_trial_and_ranks_them(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        repo.write("rand", definition("rand"))

        assert 0 == tune(repo, monkeypatch, "rand")

        results = repo.results("rand")
        assert "Succeeded" == results["status"]
        assert {"Succeeded": 4} == results["counts"]
        assert ["rand-000", "rand-001", "rand-002", "rand-003"] == sorted(
            t["name"] for t in results["trials"]
        )
        for trial in results["trials"]:
            parameters = trial["parameters"]
            assert isinstance(parameters["learning_rate"], float)
            assert isinstance(parameters["r"], int)
            assert 0.1 <= parameters["learning_rate"] <= 0.4
            assert stand_in_loss(parameters) == trial["metrics"]["train_loss"]
            assert (repo.root / ".hpo/rand/trials" / trial["name"] / "done").is_file()
        losses = [t["metrics"]["train_loss"] for t in results["trials"]]
        assert sorted(losses) == losses
        assert results["trials"][0]["name"] == results["best_trial"]["name"]
        out = capsys.readouterr().out
        assert f"best trial {results['best_trial']['name']}" in out
        assert (repo.root / "experiments/rand/report.md").is_file()

    def test_random_state_makes_the_run_repeatable(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.write("rand", definition("rand", max_trial_count=2))
        assert 0 == tune(repo, monkeypatch, "rand")
        first = repo.results("rand")["trials"]

        assert 0 == tune(repo, monkeypatch, "rand")  # starts over: the old run is moved aside

        assert first == repo.results("rand")["trials"]
        assert (repo.root / ".hpo/rand.previous/study.db").is_file()


class TestGridSearch:
    """Grid search visits every point once and ends when the grid is done."""

    def test_visits_the_whole_grid(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        space = {
            "training_parameters": {
                "learning_rate": {"search": "double", "min": 0.1, "max": 0.3, "step": 0.1},
                "max_steps": 2,
            },
            "lora_config": {"r": {"search": "categorical", "values": [2, 4]}},
        }
        text = definition("grid", algorithm_name="grid", trainer_parameters=space)
        repo.write("grid", text.replace("max_trial_count: 4\n", ""))

        assert 0 == tune(repo, monkeypatch, "grid")

        results = repo.results("grid")
        visited = sorted(
            (t["parameters"]["learning_rate"], t["parameters"]["r"]) for t in results["trials"]
        )
        assert sorted(itertools.product([0.1, 0.2, 0.3], [2, 4])) == visited
        assert {"Succeeded": 6} == results["counts"]
        assert "SuggestionEndReached" in capsys.readouterr().out


class TestTpe:
    """TPE (hyperopt's settings mapped onto Optuna) runs its trials and records them typed."""

    def test_tpe_run(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        settings = {"random_state": 3, "gamma": 0.3, "n_EI_candidates": 8}
        repo.write("tpe", definition("tpe", algorithm_name="tpe", algorithm_settings=settings))

        assert 0 == tune(repo, monkeypatch, "tpe")

        results = repo.results("tpe")
        assert {"Succeeded": 4} == results["counts"]
        best = min(t["metrics"]["train_loss"] for t in results["trials"])
        assert best == results["best_trial"]["metrics"]["train_loss"]


class TestMedianStopping:
    """medianstop stops trials whose objective is worse than the median of succeeded trials."""

    def test_worse_trials_are_stopped_early(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=8, sleep=0.25)
        space = {
            "training_parameters": {
                "learning_rate": {"search": "double", "min": 0.1, "max": 0.4, "step": 0.1},
                "max_steps": 2,
            },
        }
        text = definition(
            "median",
            algorithm_name="grid",
            trainer_parameters=space,
            parallel_trial_count=1,
            early_stopping={
                "algorithm_name": "medianstop",
                "algorithm_settings": {"min_trials_required": 2, "start_step": 2},
            },
        )
        repo.write("median", text)

        assert 0 == tune(repo, monkeypatch, "median")

        results = repo.results("median")
        status = {t["parameters"]["learning_rate"]: t["status"] for t in results["trials"]}
        # Grid order: 0.1 and 0.2 succeed (median of losses 1 and 2 is 1.5); 0.3 and 0.4 report
        # 3 and 4 and are stopped at their second report.
        assert {0.1: "Succeeded", 0.2: "Succeeded", 0.3: "EarlyStopped", 0.4: "EarlyStopped"} == (
            status
        )
        assert {"Succeeded": 2, "EarlyStopped": 2} == results["counts"]
        for trial in results["trials"]:
            log = (repo.root / ".hpo/median/logs" / f"{trial['name']}.log").read_text()
            reports = log.count("train_loss=")
            assert (8 if trial["status"] == "Succeeded" else 2) <= reports
            if trial["status"] == "EarlyStopped":
                assert reports < 8


class TestFailedTrials:
    """Failed trials count against max_failed_trial_count as in Katib (more than it fails)."""

    def test_experiment_fails_after_too_many_failed_trials(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        space = {
            "training_parameters": {
                "learning_rate": {"search": "double", "min": 0.5, "max": 0.9},
                "max_steps": 2,
            },
        }
        text = definition(
            "failing",
            trainer_parameters=space,
            max_trial_count=6,
            max_failed_trial_count=1,
            parallel_trial_count=1,
        )
        repo.write("failing", text)

        assert 3 == tune(repo, monkeypatch, "failing")

        results = repo.results("failing")
        assert "Failed" == results["status"]
        assert {"Failed": 2} == results["counts"]
        assert "ExperimentMaxFailedTrialsReached" in results["reason"]
        assert results["best_trial"] is None
        assert "exit code 1: error: diverged" in capsys.readouterr().out


class TestRefusals:
    """What cannot run locally is refused before anything starts, in one line."""

    def test_missing_secret_names_the_variable(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        text = definition("secret", env_per_trial={"API_KEY": {"secret": "api", "key": "key"}})
        repo.write("secret", text)
        monkeypatch.delenv("HPO_SECRET_API_KEY", raising=False)
        monkeypatch.delenv("API_KEY", raising=False)

        assert ExitCode.AUTH == tune(repo, monkeypatch, "secret")

        err = capsys.readouterr().err
        assert "export HPO_SECRET_API_KEY=..." in err
        assert len(err.strip().splitlines()) == 1
        assert not (repo.root / ".hpo/secret").exists()

    def test_a_clusters_secret_store_plays_no_part(self, repo, monkeypatch, capsys):
        """A definition for a cluster whose Secrets come from a store still runs here on this
        environment's variables, by the definition's Secret names, even one the store lacks."""
        repo.use_stand_in_trainer()
        text = definition(
            "secret",
            cluster="gpu-cluster-1",  # argocd/clusters.yaml: a secret_store without 'api'
            env_per_trial={"API_KEY": {"secret": "api", "key": "key"}},
            # A cluster reads no local path; refused before anything is fetched all the same.
            model_provider_parameters={
                "model_uri": "hf://example-org/tiny-model",
                "transformer_type": "AutoModelForSequenceClassification",
                "num_labels": 2,
            },
            dataset_provider_parameters={"repo_id": "example-org/reviews", "split": "train"},
        )
        repo.write("secret", text)
        monkeypatch.delenv("HPO_SECRET_API_KEY", raising=False)
        monkeypatch.delenv("API_KEY", raising=False)

        assert ExitCode.AUTH == tune(repo, monkeypatch, "secret")

        assert "export HPO_SECRET_API_KEY=..." in capsys.readouterr().err

    def test_secret_from_the_environment_reaches_the_trial(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        text = definition(
            "secret",
            max_trial_count=1,
            parallel_trial_count=1,
            env_per_trial={"API_KEY": {"secret": "api", "key": "key"}},
        )
        repo.write("secret", text)
        monkeypatch.setenv("HPO_SECRET_API_KEY", "s3cret")
        stand_in = repo.root / "trainer/__main__.py"
        stand_in.write_text(
            "import os, sys\nprint('train_loss=' + str(len(os.environ['API_KEY'])))\n"
        )

        assert 0 == tune(repo, monkeypatch, "secret")

        assert 6.0 == repo.results("secret")["best_trial"]["metrics"]["train_loss"]

    def test_without_local_flag(self, repo, monkeypatch, capsys):
        repo.write("rand", definition("rand"))
        monkeypatch.chdir(repo.root)

        assert 1 == main(["tune", "experiments/rand"])

        assert "only with --local" in capsys.readouterr().err

    def test_invalid_definition_is_reported_with_its_location(self, repo, monkeypatch, capsys):
        document = yaml.safe_load(definition("bad"))
        document["max_trial_count"] = 0
        repo.write("bad", yaml.safe_dump(document))

        assert 1 == tune(repo, monkeypatch, "bad")

        err = capsys.readouterr().err
        assert "experiments/bad/experiment.yaml:" in err
        assert "nothing was run" in err

    @pytest.mark.parametrize("name", ["nope", "experiments/nope"])
    def test_unknown_experiment(self, repo, monkeypatch, capsys, name):
        monkeypatch.chdir(repo.root)

        assert 1 == main(["tune", "--local", name])

        assert "no such experiment" in capsys.readouterr().err


class TestEndings:
    """The other ways Katib ends a trial or an experiment: goal, deadline, missing metrics."""

    def test_goal_ends_the_experiment(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        text = definition("goal", objective_goal=2.0, max_trial_count=20, parallel_trial_count=1)
        repo.write("goal", text)

        assert 0 == tune(repo, monkeypatch, "goal")

        results = repo.results("goal")
        assert "Succeeded" == results["status"]
        assert results["best_trial"]["metrics"]["train_loss"] <= 2.0
        assert len(results["trials"]) < 20
        assert "ExperimentGoalReached" in capsys.readouterr().out

    def test_trial_past_its_deadline_fails(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=20, sleep=0.5)
        text = definition(
            "deadline", trial_active_deadline_seconds=1, max_trial_count=1, parallel_trial_count=1
        )
        repo.write("deadline", text)

        assert 0 == tune(repo, monkeypatch, "deadline")

        assert {"Failed": 1} == repo.results("deadline")["counts"]
        assert "active deadline of 1s exceeded" in capsys.readouterr().out

    def test_no_objective_printed_is_metrics_unavailable(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        (repo.root / "trainer/__main__.py").write_text("print('nothing to report')\n")
        repo.write("silent", definition("silent", max_trial_count=1, parallel_trial_count=1))

        assert 0 == tune(repo, monkeypatch, "silent")

        results = repo.results("silent")
        assert {"MetricsUnavailable": 1} == results["counts"]
        assert results["best_trial"] is None
