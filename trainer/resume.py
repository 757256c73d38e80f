"""Stopping at a step, leaving a checkpoint, and continuing one: how a rung's trial resumes.

A trial that resumes must go on exactly as one uninterrupted run of its configuration would, so
that a configuration promoted to the top rung ends where its full run ends. What makes it so:

- **One plan.** The Trainer plans the full run (its `max_steps`, learning-rate schedule, logging
  and evaluation steps) whatever the stop step; `StopAtStep` ends the loop early, as a callback.
- **The Trainer's own checkpoint.** At the stop step `StopAtStep` asks for a save through
  `TrainerControl.should_save`, which the Trainer honours whatever `save_strategy` says (so
  `save_strategy: no` keeps every other step free of checkpoints). The Trainer writes it inside
  its loop, after the step's scheduled logging and evaluation and before anything else draws
  random numbers, so the random state it keeps is the one the next step would have seen; and
  `train(resume_from_checkpoint=...)` reads back what it wrote: the adapter with its
  `modules_to_save`, the optimizer, scheduler and gradient scaler, the random states of every
  process, and the trainer state, from which it skips the batches already trained.
- **The same rows in the same order.** Skipping batches lands on the right rows only if the
  resumed epoch's order does not depend on the random state as the epoch begins: `EpochOrder`
  draws it from the seed and the epoch. (Masked LM draws its masks from each batch's tokens for
  the same reason: `trainer/tasks/masked_lm.py`.)
- **Only what resuming reads.** The Trainer also writes the tokenizer, its arguments and a model
  card: `keep_checkpoint` drops them, adds the run's summed training loss (`PROGRESS`), and moves
  the folder in under its final name in one rename.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft.utils.constants import CONFIG_NAME, SAFETENSORS_WEIGHTS_NAME, WEIGHTS_NAME
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer import OPTIMIZER_NAME, SCALER_NAME, SCHEDULER_NAME, TRAINER_STATE_NAME
from transformers.trainer_pt_utils import LengthGroupedSampler
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from trainer import rungs
from trainer.config import TrialConfig
from trainer.errors import CheckpointNotFoundError, InputError, TrialConfigError

# The run's training loss so far, summed over its steps: a resumed trial reports the mean of the
# whole run, as one uninterrupted run would, not of its own steps alone.
PROGRESS = "hpo-progress.json"
# What `Trainer.train(resume_from_checkpoint=...)` reads: nothing else is kept.
RESUME_FILES = frozenset(
    {
        CONFIG_NAME,
        SAFETENSORS_WEIGHTS_NAME,
        WEIGHTS_NAME,
        OPTIMIZER_NAME,
        SCHEDULER_NAME,
        SCALER_NAME,
        TRAINER_STATE_NAME,
        PROGRESS,
    }
)
RNG_FILE = re.compile(r"rng_state(_\d+)?\.pth")  # one per process in a distributed run


@dataclass(frozen=True)
class Resumed:
    """What a checkpoint says about the run it came from."""

    step: int  # the optimizer step it was saved at
    total_steps: int  # the full run's steps, as the run that saved it planned them
    loss_sum: float | None  # summed training loss of steps 1..step (None: not recorded)


def read_checkpoint(config: TrialConfig) -> Resumed | None:
    """The checkpoint this trial continues, checked before anything loads; None for a fresh run."""
    folder = config.resume_from
    if folder is None:
        return None
    if not (folder / TRAINER_STATE_NAME).is_file():
        raise CheckpointNotFoundError(missing_message(config))
    try:
        state = json.loads((folder / TRAINER_STATE_NAME).read_text())
        loss_sum = None
        if (folder / PROGRESS).is_file():
            loss_sum = float(json.loads((folder / PROGRESS).read_text())["train_loss_sum"])
        return Resumed(int(state["global_step"]), int(state["max_steps"]), loss_sum)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"checkpoint {folder} cannot be read: {type(e).__name__}: {e}") from e


def earlier(resumed: Resumed | None) -> tuple[int, float]:
    """Steps trained before this trial and their summed training loss, for the report."""
    if resumed is None or resumed.loss_sum is None:
        return (0, 0.0)
    return (resumed.step, resumed.loss_sum)


def callbacks(config: TrialConfig, resumed: Resumed | None, args: TrainingArguments) -> list:
    """The Trainer callbacks that stop the run where this trial ends and keep its data order
    resumable."""
    stop = StopAtStep(choose_stop(config, resumed), save=config.save_checkpoint_to is not None)
    return [stop, EpochOrder(args.seed if args.data_seed is None else args.data_seed)]


def missing_message(config: TrialConfig) -> str:
    folder = config.resume_from
    if config.rung is None:
        return f"--resume-from {folder}: no checkpoint there (no {TRAINER_STATE_NAME})"
    below = config.rung.rung - 1
    return (
        f"checkpoint {folder} does not exist: rung {config.rung.rung} continues what the rung-"
        f"{below} trial of this configuration saves there, so that trial must have succeeded "
        f"first (--checkpoint-dir {folder.parent})"
    )


def choose_stop(config: TrialConfig, resumed: Resumed | None) -> Callable[[int], int]:
    """The step to stop at, given the full run's steps; each impossible plan is a clear error."""

    def stop(total_steps: int) -> int:
        if resumed and resumed.total_steps != total_steps:
            raise InputError(
                f"checkpoint {config.resume_from} comes from a run of {resumed.total_steps} "
                f"optimizer steps, this one has {total_steps}: it was saved with other training "
                "arguments, data or processes"
            )
        if config.rung is not None:
            step = rung_stop(config.rung, total_steps)
        elif config.stop_at_step is None:
            step = total_steps
        elif config.stop_at_step > total_steps:
            raise TrialConfigError(
                f"--stop-at-step {config.stop_at_step} is past the full run's last step, "
                f"{total_steps}"
            )
        else:
            step = config.stop_at_step
        if resumed and step <= resumed.step:
            raise TrialConfigError(
                f"this trial stops at step {step}, but the checkpoint it resumes "
                f"({config.resume_from}) is at step {resumed.step} already"
            )
        return step

    return stop


def rung_stop(rung: rungs.Rung, total_steps: int) -> int:
    needed = rungs.min_total_steps(rung.rungs, rung.reduction_factor)
    if total_steps < needed:
        raise TrialConfigError(
            f"--rungs {rung.rungs} --reduction-factor {rung.reduction_factor}: the full run has "
            f"{total_steps} optimizer steps, fewer than the {needed} that give every rung steps "
            "of its own; raise num_train_epochs or max_steps, or lower rungs or reduction_factor"
        )
    return rung.stop_step(total_steps)


class StopAtStep(TrainerCallback):
    """End training at the step `choose(full run's steps)` names; ask for a checkpoint there.

    The Trainer keeps planning the full run, so the learning rate at every step is the full
    run's. The step is chosen when training begins, because only then has the Trainer counted the
    batches of the full run; `trainer.train()` raises what `choose` raises.
    """

    def __init__(self, choose: Callable[[int], int], save: bool):
        self.choose = choose
        self.save = save
        self.stop_step = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.stop_step = self.choose(state.max_steps)

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.stop_step:
            control.should_training_stop = True
            control.should_save = self.save


class EpochOrder(TrainerCallback):
    """Draw each epoch's order of the training rows from the seed and the epoch alone.

    The Trainer's length-grouped sampler draws its order from the global random state as each
    epoch begins. A trial resuming in the middle of epoch e > 0 would then draw another order than
    the run it continues, and skip the wrong rows. Accelerate's seeded random sampler has the
    epoch set only where the Trainer reaches it, which a distributed loader that skips batches
    hides. So both are set here, from the epoch the Trainer is in.
    """

    def __init__(self, seed: int):
        self.seed = seed

    def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):
        sampler = row_sampler(train_dataloader)
        # state.epoch is e + (batches done)/(batches per epoch): exactly e as epoch e begins.
        epoch = math.floor(state.epoch or 0)
        if isinstance(sampler, LengthGroupedSampler):
            sampler.generator = torch.Generator().manual_seed(self.seed + epoch)
        elif hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


def row_sampler(loader: Any) -> Any:
    """The sampler of rows under a loader's batch sampler and accelerate's wrappers of it (the
    distributed shard, the skip of a resumed epoch), which hold it as `batch_sampler`."""
    batches = getattr(loader, "batch_sampler", None)
    while batches is not None and not hasattr(batches, "sampler"):
        batches = getattr(batches, "batch_sampler", None)
    return getattr(batches, "sampler", None)


def keep_checkpoint(trainer: Trainer, target: Path, loss_sum: float) -> None:
    """Move the checkpoint the Trainer saved at the stop step to `target`, keeping only what
    resuming needs; `loss_sum` is the run's summed training loss up to that step.

    Every process has written its own RNG state by the time all of them are here; the first then
    prunes, writes, and moves the folder beside `target` as `.<name>.partial` (a copy when the
    checkpoint folder is on another filesystem) and renames it in: a trial killed on the way
    leaves no folder under the final name.
    """
    trainer.accelerator.wait_for_everyone()
    if trainer.is_world_process_zero():
        move_checkpoint(trainer, target, loss_sum)
    # No process goes on (to evaluate, or to end the trial) before the checkpoint is in place.
    trainer.accelerator.wait_for_everyone()


def move_checkpoint(trainer: Trainer, target: Path, loss_sum: float) -> None:
    saved = Path(trainer.args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{trainer.state.global_step}"
    for path in saved.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        elif path.name not in RESUME_FILES and not RNG_FILE.fullmatch(path.name):
            path.unlink()
    (saved / PROGRESS).write_text(json.dumps({"train_loss_sum": loss_sum}) + "\n")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(saved, partial)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)


def remove_checkpoint(trainer: Trainer, folder: Path) -> None:
    """Remove a checkpoint nobody will resume again (the first process; the others wait)."""
    trainer.accelerator.wait_for_everyone()
    if trainer.is_world_process_zero():
        shutil.rmtree(folder, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
