"""Rungs on a tiny real model: one configuration trained as rungs 0, 1 and 2, each a separate
trial resuming the checkpoint of the one below, against one uninterrupted run of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from generator.errors import ExitCode
from tests.trainer.conftest import TrialRun, review_rows, run_in_process, save_dataset

SEQ = "AutoModelForSequenceClassification"
# 12 rows, 4 a step: 3 steps an epoch, 9 in 3 epochs. Rungs of 3 with factor 2 stop at steps
# 3 (an epoch's end), 5 (inside epoch 1, whose order the resumed trial must draw again) and 9.
# Evaluations every 2 steps fall at neither 3 nor 5, so both rungs add one at their stop.
STOPS = (3, 5, 9)
RUNG_FLAGS = ("--rungs", "3", "--reduction-factor", "2")
RESUME_FILES = {
    "adapter_config.json",
    "adapter_model.safetensors",
    "hpo-progress.json",
    "optimizer.pt",
    "rng_state.pth",
    "scheduler.pt",
    "trainer_state.json",
}


def blocks(run: TrialRun) -> list[dict[str, float]]:
    """The printed metrics grouped as printed: each group ends with its `step` line."""
    found, current = [], {}
    for name, value in run.metrics():
        current[name] = value
        if name == "step":
            found.append(current)
            current = {}
    return found


def evaluations(run: TrialRun) -> dict[int, dict[str, float]]:
    return {int(b["step"]): b for b in blocks(run) if "eval_loss" in b}


def step_losses(run: TrialRun) -> list[tuple[int, float]]:
    """The loss of each logging step (every step here), without the final mean of the run."""
    logged = [(int(b["step"]), b["train_loss"]) for b in blocks(run) if "train_loss" in b]
    return logged[:-1]


def seq_args(model, data, output, steps: str) -> tuple:
    return (
        *("--model-dir", model, "--dataset-dir", data, "--output-dir", output),
        *("--transformer-type", SEQ, "--num-labels", "2", "--training", steps),
        *("--training", "per_device_train_batch_size:int=4", "--lora", "r:int=4"),
    )


def adapter(output: Path) -> dict[str, np.ndarray]:
    return load_file(output / "adapter" / "adapter_model.safetensors")


@dataclass
class Ladder:
    full: TrialRun
    rungs: list[TrialRun]
    folders: list[dict[str, set[str]]]  # the checkpoint directory after each rung
    root: Path


@pytest.fixture(scope="module")
def ladder(tiny_models, tmp_path_factory) -> Ladder:
    root = tmp_path_factory.mktemp("ladder")
    data = save_dataset(root / "data", review_rows(12, 1), review_rows(8, 2))
    common = (
        *("--model-dir", tiny_models["bert"], "--dataset-dir", data, "--save-adapter"),
        *("--transformer-type", SEQ, "--num-labels", "2"),
        *(
            "--training",
            "num_train_epochs:int=3",
            "--training",
            "per_device_train_batch_size:int=4",
        ),
        *("--training", "learning_rate:float=0.01", "--training", "eval_steps:int=2"),
        *("--lora", "r:int=4", "--lora", "lora_dropout:float=0.1"),
    )
    full = run_in_process(*common, "--output-dir", root / "full")
    checkpoints = root / "checkpoints" / "config-0"
    rungs, folders = [], []
    for k in range(3):
        flags = ("--rung", k, *RUNG_FLAGS, "--checkpoint-dir", checkpoints)
        rungs.append(run_in_process(*common, "--output-dir", root / f"rung-{k}", *flags))
        assert 0 == rungs[-1].exit_code, rungs[-1].stderr[-3000:]
        folders.append({p.name: {f.name for f in p.iterdir()} for p in checkpoints.iterdir()})
    assert 0 == full.exit_code, full.stderr[-3000:]
    return Ladder(full, rungs, folders, root)


class TestSameRunAsOneUninterruptedRun:
    """The top rung ends exactly where the full run ends.

    Tolerance: none for the weights and the evaluations. On the CPU every kernel here is
    deterministic, so the same seed, batches, random draws (dropout) and order of floating-point
    operations give the same bits; a difference of any size would mean that some state (the
    optimizer's moments, the scheduler's step, a random state, the position in the data) was not
    carried over. Only the run's mean training loss is added up differently (the rungs' partial
    sums against one running sum), so it agrees to float rounding, 1e-6 relative. GPUs, whose
    kernels are not all deterministic, agree only as closely as two full runs do there.
    """

    def test_same_adapter_weights(self, ladder):
        full, top = adapter(ladder.root / "full"), adapter(ladder.root / "rung-2")
        assert sorted(full) == sorted(top)
        for name, weights in full.items():
            assert np.array_equal(weights, top[name]), name

    def test_same_evaluations_at_every_scheduled_step(self, ladder):
        """Every evaluation of the full run (steps 2, 4, 6, 8 and the final one at 9), one rung
        or another has made too, with the same values; the final one is the top rung's."""
        full = evaluations(ladder.full)
        assert [2, 4, 6, 8, 9] == sorted(full)
        laddered = {}
        for run in ladder.rungs:
            laddered.update(evaluations(run))
        assert {step: full[step] for step in full} == {step: laddered[step] for step in full}

    def test_same_loss_at_every_step_and_the_same_mean(self, ladder):
        rungs = [loss for run in ladder.rungs for loss in step_losses(run)]
        assert step_losses(ladder.full) == rungs
        assert [s for s, _ in rungs] == list(range(1, 10))
        full_mean, top_mean = (
            ladder.full.values("train_loss")[-1],
            ladder.rungs[2].values("train_loss")[-1],
        )
        assert full_mean == pytest.approx(top_mean, rel=1e-6)


class TestRungBoundary:
    """Each rung stops at its step, evaluates there, and says how many steps it ran itself."""

    def test_stop_steps_and_trained_steps(self, ladder):
        assert list(STOPS) == [run.values("step")[-1] for run in ladder.rungs]
        assert [[3], [2], [4]] == [run.values("trained_steps") for run in ladder.rungs]
        assert [9] == ladder.full.values("trained_steps")

    def test_the_last_evaluation_is_at_the_stop_step(self, ladder):
        """What Katib's `latest` strategy reads for eval_loss is the model at the boundary, the
        value the promotion is decided on: no step was trained after it."""
        for run, stop in zip(ladder.rungs, STOPS, strict=True):
            evaluated = evaluations(run)
            assert stop == max(evaluated)
            assert evaluated[stop]["eval_loss"] == run.values("eval_loss")[-1]
            assert stop >= max(step for step, _ in step_losses(run))

    def test_a_resumed_rung_reports_the_mean_loss_of_the_whole_run_so_far(self, ladder):
        """Rung 1 ran steps 4 and 5; its train_loss is the mean of steps 1..5, as an
        uninterrupted run stopped at step 5 reports it."""
        losses = dict(step_losses(ladder.full))
        expected = sum(losses[s] for s in range(1, 6)) / 5
        # Each logged loss was printed to 8 digits: their mean agrees to about that.
        assert expected == pytest.approx(ladder.rungs[1].values("train_loss")[-1], rel=1e-6)


class TestCheckpoints:
    """A rung's checkpoint holds what resuming reads, and goes once the rung above is safe."""

    def test_only_what_resuming_needs(self, ladder):
        assert RESUME_FILES == ladder.folders[0]["rung-0"]

    def test_adapter_weights_only_never_the_base_model(self, ladder, tiny_models):
        """LoRA weights and the new head (saved as modules_to_save); nothing frozen."""
        weights = load_file(ladder.root / "rung-0" / "adapter" / "adapter_model.safetensors")
        assert all("lora_" in name or "classifier" in name for name in weights)
        assert any("classifier" in name for name in weights)

    def test_each_rung_removes_the_one_below_and_the_top_leaves_none(self, ladder):
        assert [{"rung-0"}, {"rung-1"}, set()] == [set(f) for f in ladder.folders]

    def test_nothing_is_left_in_the_trial_folders(self, ladder):
        """The Trainer writes the checkpoint in the trial's output folder; it is moved away."""
        for k in range(3):
            assert ["adapter"] == sorted(p.name for p in (ladder.root / f"rung-{k}").iterdir())


class TestResumeErrors:
    """What cannot resume fails with the reason and the project's exit code."""

    def test_missing_rung_below_does_not_exist(self, tiny_models, tmp_path):
        data = save_dataset(tmp_path / "data", review_rows(8, 1))
        checkpoints = tmp_path / "config-3"
        run = run_in_process(
            *seq_args(tiny_models["bert"], data, tmp_path / "out", "max_steps:int=2"),
            *("--rung", "1", *RUNG_FLAGS, "--checkpoint-dir", checkpoints),
        )
        expected = (
            f"error: checkpoint {checkpoints}/rung-0 does not exist: rung 1 continues what the "
            "rung-0 trial of this configuration saves there, so that trial must have succeeded "
            f"first (--checkpoint-dir {checkpoints})"
        )
        assert (ExitCode.NOT_FOUND, [expected]) == (run.exit_code, run.stderr.splitlines()[-1:])

    def test_a_full_run_too_short_for_the_rungs_is_refused(self, tiny_models, tmp_path):
        """Three rungs of factor 3 need 4 steps (rungs.min_total_steps): with 2, rungs 0 and 1
        would both stop at step 1. The Trainer counts the steps, so this fails as training
        begins, before any step."""
        data = save_dataset(tmp_path / "data", review_rows(8, 1))
        run = run_in_process(
            *seq_args(tiny_models["bert"], data, tmp_path / "out", "max_steps:int=2"),
            *("--rung", "0", "--rungs", "3", "--reduction-factor", "3"),
            *("--checkpoint-dir", tmp_path / "config-0"),
        )
        expected = (
            "error: --rungs 3 --reduction-factor 3: the full run has 2 optimizer steps, fewer "
            "than the 4 that give every rung steps of its own; raise num_train_epochs or "
            "max_steps, or lower rungs or reduction_factor"
        )
        assert (ExitCode.USAGE, [expected]) == (run.exit_code, run.stderr.splitlines()[-1:])
        assert [] == run.values("step")


class TestDirectFlags:
    """--stop-at-step, --save-checkpoint and --resume-from without rungs: the checkpoint named
    is kept, and one from a run of another length is refused."""

    def test_stop_save_and_resume(self, tiny_models, tmp_path):
        data = save_dataset(tmp_path / "data", review_rows(12, 1))
        checkpoint = tmp_path / "kept"
        model = tiny_models["bert"]
        first = run_in_process(
            *seq_args(model, data, tmp_path / "a", "max_steps:int=3"),
            *("--stop-at-step", "1", "--save-checkpoint", checkpoint),
        )
        assert ([1], [1]) == (first.values("trained_steps"), first.values("step")[-1:])
        other = run_in_process(
            *seq_args(model, data, tmp_path / "b", "max_steps:int=4"), "--resume-from", checkpoint
        )
        expected = (
            f"error: checkpoint {checkpoint} comes from a run of 3 optimizer steps, this one has "
            "4: it was saved with other training arguments, data or processes"
        )
        assert (ExitCode.PROBLEMS, [expected]) == (other.exit_code, other.stderr.splitlines()[-1:])
        rest = run_in_process(
            *seq_args(model, data, tmp_path / "c", "max_steps:int=3"), "--resume-from", checkpoint
        )
        assert ([2], [3.0]) == (rest.values("trained_steps"), rest.values("step")[-1:])
        assert RESUME_FILES == {path.name for path in checkpoint.iterdir()}
