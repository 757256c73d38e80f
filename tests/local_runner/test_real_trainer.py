"""The whole path with the real trainer: download step, LoRA trials of a tiny BERT, results."""

from __future__ import annotations

import math

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
