"""Two processes under torchrun on the CPU (gloo): one process group, metrics printed once, and
rungs that resume as one uninterrupted run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from tests.trainer.conftest import review_rows, save_dataset
from trainer.catalog import COST_METRICS

REPO = Path(__file__).resolve().parents[2]


def torchrun(module: str, *argv: object) -> subprocess.CompletedProcess:
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
        *("--nproc_per_node=2", "-m", module, *argv),
    ]
    return subprocess.run(
        [str(part) for part in command],
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
class TestTorchrun:
    """`torchrun --nproc_per_node=2 -m trainer` shares the data between ranks; rank 0 reports;
    every rank saves and restores its own part of a checkpoint."""

    def test_two_ranks_split_the_data_and_report_once(self, tiny_models, tmp_path):
        data = save_dataset(tmp_path / "data", review_rows(32, 1), review_rows(8, 2))
        done = torchrun(
            "trainer",
            *("--model-dir", tiny_models["bert"], "--dataset-dir", data),
            *("--output-dir", tmp_path / "out", "--save-adapter"),
            *("--transformer-type", "AutoModelForSequenceClassification", "--num-labels", "2"),
            *("--training", "max_steps:int=2", "--training", "per_device_train_batch_size:int=4"),
            *("--lora", "r:int=4"),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        lines = done.stdout.splitlines()
        values = [line.partition("=") for line in lines]
        train_losses = [float(v) for name, _, v in values if name == "train_loss"]
        epochs = [float(v) for name, _, v in values if name == "epoch"]
        # One printer: two logging steps and the final mean, not twice that.
        assert len(train_losses) == 3, done.stdout
        # The costs from the first process alone: the parameter count as training starts, then
        # all of them after it.
        names = [name for name, _, _ in values]
        assert "trainable_params" == names[0]
        assert list(COST_METRICS) == names[-len(COST_METRICS) :]
        assert [2, 1, 1, 1, 1] == [names.count(cost) for cost in COST_METRICS]
        # 32 rows, 4 per process, 2 processes: a step is 8 rows, a quarter of an epoch. One
        # process alone would take 4 rows a step, an eighth.
        assert epochs[0] == 0.25
        config = json.loads((tmp_path / "out" / "adapter" / "adapter_config.json").read_text())
        assert config["r"] == 4

    def test_two_ranks_resume_as_one_uninterrupted_run(self, tiny_models, tmp_path):
        """Rung 1 of 2 resumes rung 0's checkpoint on both ranks (each its own random state, in
        the middle of the second epoch, in a loader that shards and skips batches) and ends with
        the weights of one uninterrupted run; the tolerance is test_resume.py's: none."""
        # 16 rows, 4 per process and 2 processes: 2 steps an epoch; rung 0 stops at step 3.
        data = save_dataset(tmp_path / "data", review_rows(16, 1), review_rows(8, 2))
        common = (
            *("--model-dir", tiny_models["bert"], "--dataset-dir", data, "--save-adapter"),
            *("--transformer-type", "AutoModelForSequenceClassification", "--num-labels", "2"),
            *("--training", "max_steps:int=6", "--training", "per_device_train_batch_size:int=4"),
            *("--training", "learning_rate:float=0.01", "--lora", "r:int=4"),
        )
        rung = ("--rungs", 2, "--reduction-factor", 2, "--checkpoint-dir", tmp_path / "ck")
        done = torchrun(
            "tests.trainer.trials_in_sequence",
            *(*common, "--output-dir", tmp_path / "full", "--then"),
            *(*common, "--output-dir", tmp_path / "rung-0", "--rung", 0, *rung, "--then"),
            *(*common, "--output-dir", tmp_path / "rung-1", "--rung", 1, *rung),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        trained = [line for line in done.stdout.splitlines() if line.startswith("trained_steps=")]
        assert ["trained_steps=6", "trained_steps=3", "trained_steps=3"] == trained
        full = load_file(tmp_path / "full" / "adapter" / "adapter_model.safetensors")
        top = load_file(tmp_path / "rung-1" / "adapter" / "adapter_model.safetensors")
        assert sorted(full) == sorted(top)
        for name, weights in full.items():
            assert np.array_equal(weights, top[name]), name
        assert [] == list((tmp_path / "ck").iterdir())
