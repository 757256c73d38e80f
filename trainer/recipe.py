"""One trial, top to bottom: check inputs → load → add LoRA → train → report → save.

Everything a reader needs to follow a trial is in `run`; the task modules hold what differs
between transformer types and `speed` holds every hardware-dependent choice.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import datasets
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoConfig, PrinterCallback, Trainer, TrainingArguments, set_seed

from storage_init.cache import verified
from storage_init.errors import StorageError
from trainer import distributed, resume
from trainer.catalog import TRAINABLE_PARAMS
from trainer.config import TrialConfig
from trainer.errors import InputError, OutOfMemoryError, TrialConfigError
from trainer.report import (
    KatibMetrics,
    StopOnNonFiniteLoss,
    cost_metrics,
    reset_peak_memory,
    trainable_params,
)
from trainer.speed import (
    Hardware,
    bucket_lengths,
    has_c_compiler,
    load_dtype,
    native_bf16,
    plan_total_steps,
    training_defaults,
)
from trainer.tasks import TASKS
from trainer.tasks.base import Task, attention_targets, choose_max_length, require_columns

ADAPTER_DIR = "adapter"


def run(config: TrialConfig, stdout: IO[str] | None = None) -> dict[str, float]:
    """Train one trial and return the last value printed for each metric."""
    # Check the inputs first: a trial that starts before the download Job has finished, or with
    # a column that does not exist, must fail in seconds rather than after loading the model.
    # The folders named on the command line point at the copy that is current now; this trial
    # reads that copy to the end, even when a later download moves the pointer.
    config = verify_inputs(config)
    # A rung's trial whose rung below has not saved its checkpoint cannot resume: say so now.
    resumed = resume.read_checkpoint(config)
    check_fields("--training", TrainingArguments, config.training)
    check_fields("--lora", LoraConfig, config.lora)
    task = TASKS[config.transformer_type](config.columns, config.task_options)
    splits = load_splits(config.dataset_dir)
    for name, split in splits.items():
        require_columns(split, task.columns, name)

    # Seed before anything random: the new classification head is initialised at load time.
    set_seed(config.training.get("seed", 42))
    processor = task.load_processor(config.model_dir)
    task.read_labels(splits["train"], config.num_labels)
    max_length = choose_max_length(config.max_length, model_positions(config.model_dir))

    # Data before the model: the number of steps decides compilation and the report schedule.
    train_set = task.prepare(splits["train"], processor, max_length, for_eval=False)
    eval_set = None
    if "eval" in splits:
        eval_set = task.prepare(splits["eval"], processor, max_length, for_eval=True)
    args = training_arguments(config, task, detect_hardware(), len(train_set), eval_set is not None)

    model = task.load_model(config.model_dir, dtype=getattr(torch, load_dtype(vars(args))))
    model = add_lora(model, task, config.lora)

    compute_metrics, keep_from_logits = None, None
    if eval_set is not None:
        compute_metrics, keep_from_logits = task.metrics(splits["eval"], eval_set)
    # A trial continues the run of the checkpoint it resumes: the Trainer plans the full run (its
    # learning-rate schedule spans every step), a callback stops it at this trial's stop step,
    # and the reported training loss counts the steps before it.
    reporter = KatibMetrics(task.task_metrics, task.derive, stdout, resume.earlier(resumed))
    try:
        trainer = Trainer(
            model=model,
            args=args,
            data_collator=task.collator(processor, bucket_lengths(max_length)),
            train_dataset=train_set,
            eval_dataset=eval_set,
            processing_class=processor,
            compute_metrics=compute_metrics,
            preprocess_logits_for_metrics=keep_from_logits,
            callbacks=[StopOnNonFiniteLoss(), reporter, *resume.callbacks(config, resumed, args)],
        )
    except ValueError as e:  # settings that conflict with the data, e.g. eval without a split
        raise TrialConfigError(f"--training: {first_line(e)}") from e
    # Katib parses stdout: only `name=value` lines belong there, not the Trainer's log dicts.
    trainer.remove_callback(PrinterCallback)

    # What the trial costs, printed once by the first process like every other metric. The
    # parameter count is known now, so a trial stopped early has reported it too.
    first_process = trainer.is_world_process_zero()
    if first_process:
        reporter.emit({TRAINABLE_PARAMS: trainable_params(model)})
    reset_peak_memory(args.device)
    with name_out_of_memory(args, max_length):
        trained = trainer.train(
            resume_from_checkpoint=None if resumed is None else str(config.resume_from)
        )
        step = trainer.state.global_step
        # The Trainer saved the checkpoint at the stop step, inside its loop; put it where the
        # next rung looks for it. The last train_loss printed is the whole run's mean (the first
        # process's; only that process writes the checkpoint).
        if config.save_checkpoint_to is not None:
            loss_sum = reporter.printed.get("train_loss", 0.0) * step
            resume.keep_checkpoint(trainer, config.save_checkpoint_to, loss_sum)
        # The last scheduled evaluation may fall before the stop step; report the model there,
        # the value the rung's promotion is decided on.
        if eval_set is not None and last_evaluated_step(trainer) != step:
            trainer.evaluate()
    if first_process:
        trained_steps = step - (resumed.step if resumed else 0)
        reporter.emit(cost_metrics(model, args.device, trained.metrics, trained_steps))

    if config.save_adapter:
        save_adapter(trainer, config.output_dir / ADAPTER_DIR)
    # This trial's work is safe (its own checkpoint saved, or the run ended): nothing will
    # resume the one it started from.
    if config.remove_resumed and config.resume_from is not None:
        resume.remove_checkpoint(trainer, config.resume_from)
    return reporter.printed


def verify_inputs(config: TrialConfig) -> TrialConfig:
    """The config with each input folder replaced by the verified copy it points at."""
    folders = {}
    for kind, folder in (("model", config.model_dir), ("dataset", config.dataset_dir)):
        try:
            folders[f"{kind}_dir"] = verified(folder)[0]
        except StorageError as e:
            raise InputError(f"{kind} folder: {e}") from e
    return dataclasses.replace(config, **folders)


def check_fields(flag: str, cls: type, values: Mapping[str, Any]) -> None:
    """Name the field that does not exist, with the closest real one, before anything loads."""
    known = {field.name for field in dataclasses.fields(cls)}
    for name in values:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise TrialConfigError(f"{flag} {name}: {cls.__name__} has no such field{hint}")


def load_splits(folder: Path) -> datasets.DatasetDict:
    datasets.disable_progress_bars()
    try:
        splits = datasets.load_from_disk(str(folder))
    except (FileNotFoundError, ValueError) as e:
        raise InputError(f"{folder} is not a dataset saved with save_to_disk: {e}") from e
    if not isinstance(splits, datasets.DatasetDict) or "train" not in splits:
        found = ", ".join(splits) if isinstance(splits, datasets.DatasetDict) else "none"
        raise InputError(f"{folder} must hold a DatasetDict with a train split; splits: {found}")
    if len(splits["train"]) == 0:
        raise InputError(f"the train split in {folder} has no rows")
    return datasets.DatasetDict({k: v for k, v in splits.items() if k in ("train", "eval")})


def model_positions(model_dir: Path) -> int | None:
    config = AutoConfig.from_pretrained(model_dir)
    return getattr(config, "max_position_embeddings", None)


def detect_hardware() -> Hardware:
    cuda = torch.cuda.is_available()
    return Hardware(
        cuda=cuda,
        # is_bf16_supported() also says yes to GPUs that only emulate bf16 (pre-Ampere).
        bf16=cuda and native_bf16(torch.cuda.get_device_capability()),
        cpu_count=len(os.sched_getaffinity(0)),
        local_world_size=distributed.local_world_size(os.environ),
        world_size=distributed.world_size(os.environ),
        c_compiler=has_c_compiler(),
    )


def training_arguments(
    config: TrialConfig, task: Task, hardware: Hardware, num_rows: int, has_eval: bool
) -> TrainingArguments:
    user = config.training
    field_defaults = {f.name: f.default for f in dataclasses.fields(TrainingArguments)}
    setting = {**field_defaults, **user}
    total_steps = plan_total_steps(
        num_rows,
        setting["per_device_train_batch_size"],
        distributed.world_size(os.environ),
        setting["gradient_accumulation_steps"],
        setting["num_train_epochs"],
        setting["max_steps"],
    )
    chosen = (
        {}
        if config.exact_training_arguments
        else training_defaults(hardware, total_steps, has_eval, task.group_by_length, user)
    )
    values = {
        **chosen,
        # Not choices: the Trainer cannot find a PEFT model's labels, and a task's overrides are
        # what its data needs (documented per task in docs/trainer.md).
        "label_names": list(task.label_names),
        **user,
        **task.training_overrides,
    }
    try:
        return TrainingArguments(output_dir=str(config.output_dir), **values)
    except (TypeError, ValueError) as e:
        raise TrialConfigError(f"--training: {first_line(e)}") from e


def add_lora(model: Any, task: Task, user_lora: Mapping[str, Any]) -> Any:
    values = {**task.lora_defaults, **user_lora}
    if "target_modules" not in values and "target_parameters" not in values:
        linear = {name.rsplit(".", 1)[-1] for name, m in model.named_modules() if is_linear(m)}
        values["target_modules"] = attention_targets(linear)
    if task.peft_task_type:
        values.setdefault("task_type", task.peft_task_type)
    try:
        model = get_peft_model(model, LoraConfig(**values))
    except (TypeError, ValueError) as e:
        raise TrialConfigError(f"--lora: {first_line(e)}") from e
    # Frozen weights may be bf16, but what the optimizer updates stays fp32: small updates to
    # bf16 values round away.
    for parameter in model.parameters():
        if parameter.requires_grad and parameter.dtype != torch.float32:
            parameter.data = parameter.data.float()
    return model


def is_linear(module: torch.nn.Module) -> bool:
    return isinstance(module, torch.nn.Linear)


@contextmanager
def name_out_of_memory(args: TrainingArguments, max_length: int) -> Iterator[None]:
    """Turn an out-of-memory error into one that names the batch shape that did not fit."""
    try:
        yield
    except torch.OutOfMemoryError as e:
        raise OutOfMemoryError(
            f"out of GPU memory at per_device_train_batch_size={args.per_device_train_batch_size} "
            f"and sequence length up to {max_length}: lower per_device_train_batch_size (and "
            "raise gradient_accumulation_steps to keep the batch) or --max-length"
        ) from e


def first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def last_evaluated_step(trainer: Trainer) -> int | None:
    steps = [entry["step"] for entry in trainer.state.log_history if "eval_loss" in entry]
    return steps[-1] if steps else None


def save_adapter(trainer: Trainer, target: Path) -> None:
    """Write the adapter (and tokenizer) beside the target, then move it in one rename.

    A trial killed while saving leaves no folder that looks complete.
    """
    partial = target.with_name(f".{target.name}.partial")
    if trainer.is_world_process_zero():
        shutil.rmtree(partial, ignore_errors=True)
    trainer.save_model(str(partial))
    if trainer.is_world_process_zero():
        shutil.rmtree(target, ignore_errors=True)
        os.replace(partial, target)
