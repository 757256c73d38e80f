"""The whole path with the real trainer: download step, LoRA trials of a tiny BERT, results."""

from __future__ import annotations

import math

import pytest

from generator.cli import main
from tests.local_runner.conftest import definition


class TestRealTrainer:
    """`hpo tune --local` fine-tunes a tiny model per trial and ranks the trials by train_loss."""

    def test_two_trials_of_a_tiny_bert(self, repo, monkeypatch):
        space = {
            "training_parameters": {
                "learning_rate": {"search": "double", "min": 1e-4, "max": 1e-3},
                "max_steps": 2,
                "per_device_train_batch_size": 4,
            },
            "lora_config": {"r": {"search": "int", "min": 1, "max": 4}},
        }
        repo.write("tiny", definition("tiny", trainer_parameters=space, max_trial_count=2))
        monkeypatch.chdir(repo.root)

        assert 0 == main(["tune", "--local", "experiments/tiny"])

        results = repo.results("tiny")
        assert {"Succeeded": 2} == results["counts"]
        for trial in results["trials"]:
            loss = trial["metrics"]["train_loss"]
            assert math.isfinite(loss) and loss > 0
            log = (repo.root / ".hpo/tiny/logs" / f"{trial['name']}.log").read_text()
            assert f"--lora r:int={trial['parameters']['r']}" in log
            assert "train_loss=" in log
            assert (repo.root / ".hpo/tiny/trials" / trial["name"]).is_dir()
        best = results["best_trial"]
        assert (
            min(t["metrics"]["train_loss"] for t in results["trials"])
            == (best["metrics"]["train_loss"])
        )


@pytest.mark.slow
class TestRealTrainerRungs:
    """hpo-asha with the real trainer: the promoted trial resumes the rung-0 checkpoint of its
    configuration and trains only the rest of the steps."""

    def test_two_rungs_of_a_tiny_bert(self, repo, monkeypatch):
        space = {
            "training_parameters": {
                "learning_rate": {"search": "double", "min": 1e-4, "max": 1e-3},
                "max_steps": 4,
                "per_device_train_batch_size": 4,
            },
            "lora_config": {"r": {"search": "int", "min": 1, "max": 4}},
        }
        repo.write(
            "rungs",
            definition(
                "rungs",
                trainer_parameters=space,
                algorithm_name="hpo-asha",
                algorithm_settings={"rungs": 2, "reduction_factor": 2, "sampler": "random"},
                max_trial_count=3,
                parallel_trial_count=1,
            ),
        )
        monkeypatch.chdir(repo.root)

        assert 0 == main(["tune", "--local", "experiments/rungs"])

        results = repo.results("rungs")
        assert {"Succeeded": 3} == results["counts"]
        trials = {t["name"]: t for t in results["trials"]}
        # Two configurations train to step 2 (rung 0); the better one goes on to step 4.
        assert [2, 2, 2] == [trials[f"rungs-00{i}"]["metrics"]["trained_steps"] for i in range(3)]
        promoted = trials["rungs-002"]["parameters"]
        first_two = [trials[f"rungs-00{i}"] for i in range(2)]
        best = min(first_two, key=lambda t: t["metrics"]["train_loss"])
        assert best["parameters"] == promoted
        log = (repo.root / ".hpo/rungs/logs/rungs-002.log").read_text()
        steps = [float(line[5:]) for line in log.splitlines() if line.startswith("step=")]
        assert (3, 4) == (min(steps), max(steps))  # it went on from step 2, where rung 0 stopped
        assert not (repo.root / ".hpo/rungs/checkpoints").exists()
