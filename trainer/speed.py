"""Every hardware-dependent choice the trainer makes, as small pure functions.

The recipe asks the machine a few questions (`Hardware`) and these functions turn the answers into
`TrainingArguments` values. Nothing here imports torch, so each decision is tested on any machine.
A value the definition sets itself always wins: these are defaults, never overrides.
"""

from __future__ import annotations

import bisect
import math
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Compiling a 1B model costs about a minute, plus one recompile when the first new batch shape
# turns the sequence dimension dynamic; it saves some tens of milliseconds per step at batch 8.
# Below this many optimizer steps the compile does not pay for itself.
COMPILE_MIN_STEPS = 1500
# bfloat16 arithmetic in hardware starts with Ampere; older GPUs only emulate it, slowly.
BF16_MIN_CAPABILITY = (8, 0)
# torch.compile's Inductor and Triton build kernels with the system C compiler at run time.
C_COMPILERS = ("cc", "gcc", "clang")
# Katib's median stopping rule compares trials at intermediate points: aim for this many.
REPORTS_PER_TRIAL = 20
EVALUATIONS_PER_TRIAL = 5
MAX_DATALOADER_WORKERS = 4


@dataclass(frozen=True)
class Hardware:
    """What the recipe learned about the machine before building the trainer."""

    cuda: bool
    bf16: bool  # the GPU computes in bfloat16 natively (Ampere or newer)
    cpu_count: int  # CPUs this process may use
    local_world_size: int  # training processes on this node
    world_size: int = 1  # training processes in the whole job
    c_compiler: bool = False  # a C compiler is on PATH (torch.compile builds kernels with it)


def native_bf16(capability: tuple[int, int]) -> bool:
    """True for GPUs of compute capability 8.0 or newer, which compute bf16 natively."""
    return tuple(capability) >= BF16_MIN_CAPABILITY


def has_c_compiler(which: Callable[[str], str | None] = shutil.which) -> bool:
    return any(which(name) for name in C_COMPILERS)


def choose_precision(cuda_available: bool, bf16_supported: bool, user_set: bool) -> str | None:
    """`"bf16"` or `"fp32"`; None when the definition chose fp16 or bf16 itself.

    bf16 needs no loss scaling, so it is safe to switch on for any model; fp16 is not chosen
    for older GPUs because some models (Llama among them) overflow in it.
    """
    if user_set:
        return None
    return "bf16" if cuda_available and bf16_supported else "fp32"


def bucket_lengths(max_length: int, step: int = 64, max_buckets: int = 8) -> tuple[int, ...]:
    """The few padded lengths a batch may have: multiples of `step`, ending at `max_length`.

    Few distinct shapes keep kernels, autotuning and compiled graphs reusable; padding to the
    next bucket rather than to `max_length` keeps most of each batch real tokens.
    """
    if max_length <= step:
        return (max_length,)
    step = max(step, math.ceil(max_length / max_buckets / step) * step)
    return tuple(range(step, max_length, step)) + (max_length,)


def bucket_for(length: int, buckets: tuple[int, ...]) -> int:
    """The smallest bucket holding `length`; the largest when none does (inputs are truncated)."""
    index = bisect.bisect_left(buckets, length)
    return buckets[min(index, len(buckets) - 1)]


def should_compile(
    cuda_available: bool, total_steps: int, user_set: bool, c_compiler: bool
) -> bool:
    """torch.compile only on GPUs, only for trials long enough to repay compiling, and only
    where a C compiler is installed (without one the first compiled step fails the trial)."""
    return not user_set and cuda_available and c_compiler and total_steps >= COMPILE_MIN_STEPS


def choose_num_workers(cuda_available: bool, cpu_count: int, local_world_size: int) -> int:
    """Loader processes per training process: none on CPU, where they steal the compute cores."""
    if not cuda_available:
        return 0
    per_process = cpu_count // max(1, local_world_size)
    return max(0, min(MAX_DATALOADER_WORKERS, per_process - 1))


def plan_total_steps(
    num_examples: int,
    per_device_batch_size: int,
    world_size: int,
    gradient_accumulation_steps: int,
    num_train_epochs: float,
    max_steps: int,
) -> int:
    """Optimizer steps the trial will take, computed the way the Trainer does."""
    if max_steps > 0:
        return max_steps
    batches = math.ceil(num_examples / (per_device_batch_size * max(1, world_size)))
    per_epoch = max(1, batches // gradient_accumulation_steps)
    return max(1, math.ceil(num_train_epochs * per_epoch))


def report_schedule(total_steps: int, has_eval: bool) -> dict[str, Any]:
    """Log often enough for early stopping; evaluate a few times, not every log."""
    schedule: dict[str, Any] = {"logging_steps": max(1, total_steps // REPORTS_PER_TRIAL)}
    if has_eval:
        schedule["eval_strategy"] = "steps"
        schedule["eval_steps"] = max(1, total_steps // EVALUATIONS_PER_TRIAL)
    return schedule


def training_defaults(
    hardware: Hardware,
    total_steps: int,
    has_eval: bool,
    group_by_length: bool,
    user: Mapping[str, Any],
) -> dict[str, Any]:
    """TrainingArguments values the trainer fills in where the definition is silent."""
    precision = choose_precision(
        hardware.cuda, hardware.bf16, user_set=bool({"fp16", "bf16"} & user.keys())
    )
    compile_ = should_compile(
        hardware.cuda, total_steps, user_set="torch_compile" in user, c_compiler=hardware.c_compiler
    )
    workers = choose_num_workers(hardware.cuda, hardware.cpu_count, hardware.local_world_size)
    defaults: dict[str, Any] = {
        "bf16": precision == "bf16",
        "torch_compile": compile_,
        # The last, smaller batch would be one more shape to compile.
        "dataloader_drop_last": compile_,
        "dataloader_num_workers": workers,
        "dataloader_persistent_workers": workers > 0,
        "dataloader_pin_memory": hardware.cuda,
        # Without a GPU the Trainer joins the process group only when told to run on the CPU.
        "use_cpu": not hardware.cuda and hardware.world_size > 1,
        "train_sampling_strategy": "group_by_length" if group_by_length else "random",
        "optim": "adamw_torch_fused" if hardware.cuda else "adamw_torch",
        # A trial's checkpoints would fill the shared volume; the adapter is saved on request.
        "save_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        # The Trainer multiplies the loss by the process count, expecting the model to divide by
        # the token count of all processes; classification heads take a plain mean instead, so
        # their loss (reported and trained on) would grow with the number of GPUs.
        "average_tokens_across_devices": False,
        # Every trainable LoRA weight takes part in each forward pass; searching the graph for
        # unused ones would cost a traversal per step.
        "ddp_find_unused_parameters": False,
        # The Trainer would otherwise replace a NaN loss by an average and hide divergence.
        "logging_nan_inf_filter": False,
        **report_schedule(total_steps, has_eval),
    }
    if precision is None:
        del defaults["bf16"]
    if "eval_strategy" in user:
        defaults.pop("eval_steps", None)
    return {name: value for name, value in defaults.items() if name not in user}


# Why the trainer picks each value training_defaults() may fill in: what hpo check, the pull
# request summary and the definitions tune() writes show reviewers. One entry per key of
# training_defaults() (tests/trainer/test_speed.py holds the two together).
CHOICES: dict[str, str] = {
    "bf16": "true on GPUs that compute bfloat16 natively (compute capability 8.0+), else false",
    "torch_compile": (
        f"true on GPUs with a C compiler for trials of {COMPILE_MIN_STEPS}+ optimizer steps"
    ),
    "dataloader_drop_last": "as torch_compile (a last, smaller batch is one more shape)",
    "dataloader_num_workers": (
        f"0 on CPUs; on GPUs the CPUs per process minus one, at most {MAX_DATALOADER_WORKERS}"
    ),
    "dataloader_persistent_workers": "true when dataloader_num_workers is above 0",
    "dataloader_pin_memory": "true on GPUs",
    "use_cpu": "true for trials of several processes without GPUs",
    "train_sampling_strategy": "group_by_length for text tasks, else random",
    "optim": "adamw_torch_fused on GPUs, else adamw_torch",
    "save_strategy": "no (checkpoints would fill the shared volume; save_adapter saves the LoRA)",
    "report_to": "none (metrics go to Katib through the log)",
    "disable_tqdm": "true",
    "average_tokens_across_devices": "false (a classification loss would grow with the GPUs)",
    "ddp_find_unused_parameters": "false (every LoRA weight takes part in each step)",
    "logging_nan_inf_filter": "false (a NaN loss is reported, not averaged away)",
    "logging_steps": f"the trial's optimizer steps / {REPORTS_PER_TRIAL}, at least 1",
    "eval_strategy": "steps when there is an eval split",
    "eval_steps": f"the trial's optimizer steps / {EVALUATIONS_PER_TRIAL}, at least 1",
}


def trainer_choices(user: Mapping[str, Any], exact: bool) -> dict[str, str]:
    """The TrainingArguments fields the trainer will choose for a definition that sets `user`
    (searched fields included), each with its rule; none with `exact` (train exactly as the
    TrainingArguments say)."""
    if exact:
        return {}
    skipped = set(user)
    if {"fp16", "bf16"} & skipped:
        skipped.add("bf16")
    if "eval_strategy" in skipped:
        skipped.add("eval_steps")
    return {name: rule for name, rule in CHOICES.items() if name not in skipped}


def load_dtype(training: Mapping[str, Any]) -> str:
    """Frozen base weights in bf16 when training in bf16 halves memory and bandwidth."""
    return "bfloat16" if training.get("bf16") else "float32"
