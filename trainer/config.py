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
    return parser


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
    )
