"""Bad input and diverging trials end with one clear `error:` line and a non-zero exit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import TrainingArguments

from generator.errors import ExitCode
from tests.trainer.conftest import review_rows, save_dataset
from trainer.errors import OutOfMemoryError
from trainer.recipe import name_out_of_memory

REPO = Path(__file__).resolve().parents[2]
SEQ = "AutoModelForSequenceClassification"


def seq_args(model, data, out, *extra):
    return (
        "--model-dir", model, "--dataset-dir", data, "--output-dir", out,
        "--transformer-type", SEQ, "--num-labels", "2",
        "--training", "max_steps:int=3", "--training", "per_device_train_batch_size:int=4",
        *extra,
    )  # fmt: skip


def one_error_line(run) -> str:
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    return errors[0]


class TestInputs:
    """Inputs are checked before any weights load, and the message says what exists."""

    def test_missing_column_names_the_columns_that_exist(self, tiny_models, tmp_path, run_trial):
        rows = review_rows(8, 1)
        data = save_dataset(tmp_path / "data", {"review": rows["text"], "label": rows["label"]})
        run = run_trial(*seq_args(tiny_models["bert"], data, tmp_path / "out"))
        expected = (
            "error: column 'text' (role text) is not in the train split; its columns are "
            "review, label; choose one with --column text=NAME"
        )
        assert (ExitCode.PROBLEMS, expected) == (run.exit_code, one_error_line(run))

    def test_dataset_without_completion_marker_is_refused(self, tiny_models, tmp_path, run_trial):
        data = save_dataset(tmp_path / "data", review_rows(8, 1))
        (data / "hpo-cache.json").unlink()
        run = run_trial(*seq_args(tiny_models["bert"], data, tmp_path / "out"))
        line = one_error_line(run)
        assert run.exit_code == ExitCode.PROBLEMS
        assert line.startswith(f"error: dataset folder: {data} has no hpo-cache.json")
        assert "storage-init Job has not completed" in line

    def test_truncated_model_file_is_refused(self, tiny_models, tmp_path, run_trial):
        model = shutil.copytree(tiny_models["bert"], tmp_path / "model")
        weights = model / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])
        data = save_dataset(tmp_path / "data", review_rows(8, 1))
        run = run_trial(*seq_args(model, data, tmp_path / "out"))
        assert run.exit_code == ExitCode.PROBLEMS
        assert f"error: model folder: {weights} has 100 bytes" in one_error_line(run)

    def test_label_outside_num_labels_is_named(self, tiny_models, tmp_path, run_trial):
        data = save_dataset(tmp_path / "data", {"text": ["good", "bad"], "label": [0, 5]})
        run = run_trial(*seq_args(tiny_models["bert"], data, tmp_path / "out"))
        expected = (
            "error: column 'label' of the train split has label 5, outside 0..1 for 2 classes; "
            "check --num-labels"
        )
        assert expected == one_error_line(run)

    def test_misspelt_training_field_gets_a_suggestion(self, tiny_models, tmp_path, run_trial):
        data = save_dataset(tmp_path / "data", review_rows(8, 1))
        extra = ("--training", "learning_rat:float=1e-4")
        run = run_trial(*seq_args(tiny_models["bert"], data, tmp_path / "out", *extra))
        expected = (
            "error: --training learning_rat: TrainingArguments has no such field; "
            "did you mean learning_rate?"
        )
        assert (ExitCode.USAGE, expected) == (run.exit_code, one_error_line(run))

    def test_bool_spelt_like_python_is_refused(self, tiny_models, tmp_path, run_trial):
        data = save_dataset(tmp_path / "data", review_rows(8, 1))
        run = run_trial(
            *seq_args(tiny_models["bert"], data, tmp_path / "out", "--lora", "x:bool=False")
        )
        expected = (
            "error: --lora x:bool=False: 'False' is not a valid bool: a bool is `true` or `false`"
        )
        assert (ExitCode.USAGE, expected) == (run.exit_code, one_error_line(run))

    def test_evaluation_without_an_eval_split(self, tiny_models, tmp_path, run_trial):
        data = save_dataset(tmp_path / "data", review_rows(8, 1))
        extra = ("--training", "eval_strategy:str=steps")
        run = run_trial(*seq_args(tiny_models["bert"], data, tmp_path / "out", *extra))
        assert run.exit_code == ExitCode.USAGE
        assert one_error_line(run).startswith("error: --training: ")


class TestDivergence:
    """A NaN loss stops the trial instead of reporting garbage to Katib."""

    def test_nan_loss_exits_non_zero_and_says_so(self, tiny_models, tmp_path, run_trial):
        data = save_dataset(tmp_path / "data", review_rows(16, 1))
        extra = ("--training", "learning_rate:float=1e30", "--training", "logging_steps:int=1")
        run = run_trial(*seq_args(tiny_models["bert"], data, tmp_path / "out", *extra))
        line = one_error_line(run)
        assert run.exit_code == ExitCode.STAGE_FAILED
        assert line.startswith("error: training loss became nan at step ")
        assert line.endswith("lower the learning rate or its search range")
        # Every value Katib did receive is a real number.
        assert "nan" not in run.stdout


class TestOutOfMemory:
    """CUDA out-of-memory errors name the batch size and sequence length that failed."""

    def test_names_batch_size_and_length(self, tmp_path):
        args = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=64)
        with pytest.raises(OutOfMemoryError) as caught, name_out_of_memory(args, 512):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        expected = (
            "out of GPU memory at per_device_train_batch_size=64 and sequence length up to 512: "
            "lower per_device_train_batch_size (and raise gradient_accumulation_steps to keep the "
            "batch) or --max-length"
        )
        assert expected == str(caught.value)


class TestCommandLine:
    """`python -m trainer` as a process: one line on stderr, an exit code, no traceback."""

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "trainer", *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_bad_flag_fails_before_torch_loads(self):
        done = self.run("--model-dir", "m", "--dataset-dir", "d", "--output-dir", "o")
        expected = "error: the following arguments are required: --transformer-type\n"
        assert (ExitCode.USAGE, expected, "") == (done.returncode, done.stderr, done.stdout)

    def test_missing_model_folder(self, tmp_path):
        done = self.run(*seq_args(tmp_path / "nope", tmp_path / "data", tmp_path / "out"))
        expected = (
            f"error: model folder: {tmp_path / 'nope'} does not exist: the storage-init Job has "
            "not completed; check its logs and rerun it\n"
        )
        assert (ExitCode.PROBLEMS, expected) == (done.returncode, done.stderr)
