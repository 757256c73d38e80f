"""Two processes under torchrun on the CPU (gloo): one process group, metrics printed once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.trainer.conftest import review_rows, save_dataset
from trainer.catalog import COST_METRICS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
class TestTorchrun:
    """`torchrun --nproc_per_node=2 -m trainer` shares the data between ranks; rank 0 reports."""

    def test_two_ranks_split_the_data_and_report_once(self, tiny_models, tmp_path):
        data = save_dataset(tmp_path / "data", review_rows(32, 1), review_rows(8, 2))
        command = [
            *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
            *("--nproc_per_node=2", "-m", "trainer"),
            *("--model-dir", tiny_models["bert"], "--dataset-dir", data),
            *("--output-dir", tmp_path / "out", "--save-adapter"),
            *("--transformer-type", "AutoModelForSequenceClassification", "--num-labels", "2"),
            *("--training", "max_steps:int=2", "--training", "per_device_train_batch_size:int=4"),
            *("--lora", "r:int=4"),
        ]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        done = subprocess.run(
            [str(part) for part in command],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        lines = done.stdout.splitlines()
        values = [line.partition("=") for line in lines]
        train_losses = [float(v) for name, _, v in values if name == "train_loss"]
        epochs = [float(v) for name, _, v in values if name == "epoch"]
        # One printer: two logging steps and the final mean, not twice that.
        assert len(train_losses) == 3, done.stdout
        # The costs from the first process alone: the parameter count as training starts, then
        # all four after it.
        names = [name for name, _, _ in values]
        assert "trainable_params" == names[0]
        assert list(COST_METRICS) == names[-4:]
        assert [2, 1, 1, 1] == [names.count(cost) for cost in COST_METRICS]
        # 32 rows, 4 per process, 2 processes: a step is 8 rows, a quarter of an epoch. One
        # process alone would take 4 rows a step, an eighth.
        assert epochs[0] == 0.25
        config = json.loads((tmp_path / "out" / "adapter" / "adapter_config.json").read_text())
        assert config["r"] == 4
