"""The trial's command line, parsed into one typed, validated `TrialConfig`.

Standard library only: a bad flag fails in milliseconds, before torch is imported. Values arrive
as `NAME:TYPE=VALUE`, one argv element each, and a hyperparameter is never a string pretending to
be a bool. Katib's metrics collector joins the command into `sh -c` without quoting, so the
generator keeps every argument free of shell syntax: composite values (lists, mappings) and
strings the shell would alter arrive as `json64`, the base64url of their JSON.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from trainer import rungs
from trainer.catalog import TASKS
from trainer.errors import TrialConfigError

TYPES = ("int", "float", "bool", "str", "json", "json64")
# The trainer sets these itself from its own flags; accepting them twice would be ambiguous.
RESERVED_TRAINING_FIELDS = frozenset({"output_dir"})


@dataclass(frozen=True)
class TrialConfig:
    """Everything one trial needs to know, typed."""

    model_dir: Path
    dataset_dir: Path
    output_dir: Path
    transformer_type: str
    num_labels: int | None
    max_length: int | None
    save_adapter: bool
    # Train exactly as the TrainingArguments say: the trainer fills in none of its choices.
    exact_training_arguments: bool
    columns: dict[str, str | None]  # every role of the task -> column name (None: not used)
    training: dict[str, Any]  # transformers.TrainingArguments fields
    lora: dict[str, Any]  # peft.LoraConfig fields
    task_options: dict[str, Any]  # options of the task module, e.g. mlm_probability
    # Where training stops and what it continues (docs/trainer.md, "Rungs and checkpoints"). The
    # rung flags resolve to these; a rung's stop step needs the full run's length, so the recipe
    # computes it from `rung` once the Trainer has planned the run.
    stop_at_step: int | None = None  # None: train to the full run's last step
    rung: rungs.Rung | None = None
    resume_from: Path | None = None  # a checkpoint this trial continues
    save_checkpoint_to: Path | None = None  # where it leaves one for the trial that continues it
    # The rung flags own their checkpoint folders: a rung's trial removes the rung below's
    # checkpoint once its own work is safe. A checkpoint named with --resume-from is kept.
    remove_resumed: bool = False


def convert(type_name: str, text: str) -> Any:
    """Convert one value by its declared type; raise ValueError with the reason."""
    if type_name == "int":
        return int(text, 10)
    if type_name == "float":
        value = float(text)
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return value
    if type_name == "bool":
        # `bool("False")` is true; only the two spellings Katib and YAML agree on are accepted.
        if text not in ("true", "false"):
            raise ValueError("a bool is `true` or `false`")
        return text == "true"
    if type_name == "str":
        return text
    if type_name == "json":
        return json.loads(text)
    if type_name == "json64":
        try:
            decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            return json.loads(decoded.decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError) as e:
            raise ValueError(f"not base64url-encoded JSON ({e})") from e
    raise ValueError(f"unknown type {type_name!r}; use one of {', '.join(TYPES)}")


def parse_typed(item: str) -> tuple[str, Any]:
    """`learning_rate:float=3e-5` -> ("learning_rate", 3e-05)."""
    head, sep, text = item.partition("=")
    name, colon, type_name = head.partition(":")
    if not sep or not colon or not name.isidentifier():
        raise ValueError("expected NAME:TYPE=VALUE, e.g. learning_rate:float=3e-5")
    if type_name not in TYPES:
        raise ValueError(f"unknown type {type_name!r}; use one of {', '.join(TYPES)}")
    try:
        return name, convert(type_name, text)
    except ValueError as e:
        reason = str(e).split("\n", 1)[0]
        raise ValueError(f"{text!r} is not a valid {type_name}: {reason}") from e


def parse_typed_list(flag: str, items: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        try:
            name, value = parse_typed(item)
        except ValueError as e:
            raise TrialConfigError(f"{flag} {item}: {e}") from e
        if name in values:
            raise TrialConfigError(f"{flag} {name} is given twice")
        values[name] = value
    return values


def parse_columns(transformer_type: str, items: Sequence[str]) -> dict[str, str | None]:
    """Defaults of the task's column roles, overridden by `ROLE=NAME` items."""
    columns = dict(TASKS[transformer_type].columns)
    for item in items:
        role, sep, name = item.partition("=")
        if not sep or not name:
            raise TrialConfigError(f"--column {item}: expected ROLE=NAME, e.g. text=review")
        if role not in columns:
            roles = ", ".join(sorted(columns))
            raise TrialConfigError(
                f"--column {item}: {transformer_type} has no role {role!r}; roles are {roles}"
            )
        columns[role] = name
    return columns


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print usage and exit; one line through the CLI's handler reads better.
        raise TrialConfigError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m trainer", description="LoRA fine-tuning for one Katib trial.")
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--dataset-dir", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--transformer-type", required=True, choices=sorted(TASKS))
    parser.add_argument("--num-labels", type=int)
    parser.add_argument("--max-length", type=int, help="longest sequence in tokens")
    parser.add_argument("--save-adapter", action="store_true")
    parser.add_argument(
        "--exact-training-arguments",
        action="store_true",
        help="use TrainingArguments' own defaults, not the trainer's choices",
    )
    multi = {"action": "append", "default": []}
    parser.add_argument("--column", metavar="ROLE=NAME", **multi)
    parser.add_argument("--training", metavar="NAME:TYPE=VALUE", **multi)
    parser.add_argument("--lora", metavar="NAME:TYPE=VALUE", **multi)
    parser.add_argument("--task", metavar="NAME:TYPE=VALUE", **multi, help="task module option")
    rung = parser.add_argument_group("rungs (hpo-asha): all four together")
    rung.add_argument("--rung", type=int, metavar="K", help="this trial's rung, 0 = lowest")
    rung.add_argument("--rungs", type=int, metavar="R", help="rungs, the full run included")
    rung.add_argument("--reduction-factor", type=int, metavar="ETA")
    rung.add_argument(
        "--checkpoint-dir", type=Path, metavar="DIR", help="the configuration's checkpoints"
    )
    steps = parser.add_argument_group("stopping and resuming, without rungs")
    steps.add_argument("--stop-at-step", type=int, metavar="N", help="optimizer step to stop at")
    steps.add_argument("--resume-from", type=Path, metavar="PATH", help="a checkpoint to continue")
    steps.add_argument("--save-checkpoint", type=Path, metavar="PATH", help="where to save one")
    return parser


RUNG_FLAGS = ("--rung", "--rungs", "--reduction-factor", "--checkpoint-dir")
STEP_FLAGS = ("--stop-at-step", "--resume-from", "--save-checkpoint")


def flag_values(args: argparse.Namespace, flags: Sequence[str]) -> dict[str, Any]:
    """The flags of `flags` given on the command line, with their values."""
    found = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in flags}
    return {flag: value for flag, value in found.items() if value is not None}


def parse_steps(args: argparse.Namespace) -> dict[str, Any]:
    """The TrialConfig fields of the rung flags, or of --stop-at-step and the checkpoint paths.

    The rung flags decide the stop step and both checkpoints themselves, so they come as a set
    of four and exclude the direct flags: a trial with two stop steps would be ambiguous.
    """
    given, direct = flag_values(args, RUNG_FLAGS), flag_values(args, STEP_FLAGS)
    if not given:
        stop = direct.get("--stop-at-step")
        if stop is not None and stop < 1:
            raise TrialConfigError(f"--stop-at-step must be at least 1, got {stop}")
        return {
            "stop_at_step": stop,
            "resume_from": direct.get("--resume-from"),
            "save_checkpoint_to": direct.get("--save-checkpoint"),
        }
    missing = [flag for flag in RUNG_FLAGS if flag not in given]
    if missing:
        raise TrialConfigError(
            f"{' '.join(given)} without {', '.join(missing)}: the rung flags "
            f"{', '.join(RUNG_FLAGS)} go together"
        )
    if direct:
        raise TrialConfigError(
            f"{next(iter(direct))} with --rung: the rung flags choose the stop step and the "
            "checkpoints themselves"
        )
    try:
        rung = rungs.Rung(args.rung, args.rungs, args.reduction_factor)
    except ValueError as e:
        values = (
            f"--rung {args.rung} --rungs {args.rungs} --reduction-factor {args.reduction_factor}"
        )
        raise TrialConfigError(f"{values}: {e}") from e
    folder = args.checkpoint_dir
    return {
        "rung": rung,
        "resume_from": folder / rungs.checkpoint_name(rung.rung - 1) if rung.rung else None,
        "save_checkpoint_to": None if rung.is_top else folder / rungs.checkpoint_name(rung.rung),
        "remove_resumed": rung.rung > 0,
    }


def parse_args(argv: Sequence[str]) -> TrialConfig:
    args = build_parser().parse_args(argv)
    if args.num_labels is not None and args.num_labels < 1:
        raise TrialConfigError(f"--num-labels must be at least 1, got {args.num_labels}")
    if args.max_length is not None and args.max_length < 8:
        raise TrialConfigError(f"--max-length must be at least 8, got {args.max_length}")
    training = parse_typed_list("--training", args.training)
    reserved = RESERVED_TRAINING_FIELDS & training.keys()
    if reserved:
        name = sorted(reserved)[0]
        raise TrialConfigError(f"--training {name} is set by --{name.replace('_', '-')}")
    return TrialConfig(
        model_dir=args.model_dir,
        dataset_dir=args.dataset_dir,
        output_dir=args.output_dir,
        transformer_type=args.transformer_type,
        num_labels=args.num_labels,
        max_length=args.max_length,
        save_adapter=args.save_adapter,
        exact_training_arguments=args.exact_training_arguments,
        columns=parse_columns(args.transformer_type, args.column),
        training=training,
        lora=parse_typed_list("--lora", args.lora),
        task_options=parse_typed_list("--task", args.task),
        **parse_steps(args),
    )
