"""Checks of trainer_parameters and the search: TrainingArguments and LoraConfig fields against
the installed libraries, search-space bounds, and Katib's algorithm and early-stopping settings.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.checks import algorithms
from generator.checks.hf_fields import dataclass_fields, library_available
from generator.loading.model_errors import did_you_mean
from generator.spec import (
    CategoricalSearch,
    DiscreteSearch,
    DoubleSearch,
    ExperimentSpec,
    IntSearch,
    is_search,
)
from generator.validate import dotted
from generator.validate.shell_safety import SHELL_INERT
from suggestion.settings import ASHA
from suggestion.space import katib_text
from trainer.catalog import TASKS

Finding = tuple[tuple, str, str]

TRAINER_OWNED = {
    "training_parameters": {
        "output_dir": "the trainer writes each trial to /workspace/trials/<trial>",
        "logging_dir": "the trainer reports metrics on stdout for Katib",
        "hub_token": "trials do not push to the Hub",
        "push_to_hub": "trials do not push to the Hub; use save_adapter",
    },
    "lora_config": {
        "task_type": "the trainer derives it from model_provider_parameters.transformer_type",
        "peft_type": "this project tunes LoRA adapters",
        "base_model_name_or_path": "set from model_provider_parameters.model_uri",
        "revision": "set model_provider_parameters.revision instead",
        "inference_mode": "trials train the adapter",
    },
}
SECTION_CLASS = {"training_parameters": "TrainingArguments", "lora_config": "LoraConfig"}


def check_trainer_fields(spec: ExperimentSpec) -> Iterator[Finding]:
    trainer = spec.trainer_parameters
    task = TASKS[spec.model_provider_parameters.transformer_type]
    for role, column in trainer.columns.items():
        if not SHELL_INERT.match(column):
            yield (
                ("trainer_parameters", "columns", role),
                (
                    f"trainer_parameters.columns.{role}: column name '{column}' must use only "
                    "letters, digits and _.,:/+=@%- (Katib runs the trial command through a "
                    "shell); rename the column"
                ),
                "error",
            )
        if role not in task.columns:
            hint = did_you_mean(role, task.columns)
            yield (
                ("trainer_parameters", "columns", role),
                (
                    f"trainer_parameters.columns: '{role}' is not a column role of "
                    f"{spec.model_provider_parameters.transformer_type} "
                    f"(roles: {', '.join(task.columns)}){hint}"
                ),
                "error",
            )
    for section, class_name in SECTION_CLASS.items():
        values = getattr(trainer, section)
        if not library_available(class_name):
            if values:
                library = "transformers" if class_name == "TrainingArguments" else "peft"
                yield (
                    ("trainer_parameters", section),
                    f"{library} is not installed: {section} names and types were not checked "
                    "(pip install '.[ml]')",
                    "warning",
                )
            continue
        fields = dataclass_fields(class_name)
        for key, value in values.items():
            loc = ("trainer_parameters", section, key)
            if key in TRAINER_OWNED[section]:
                yield loc, f"{key} is set by the trainer: {TRAINER_OWNED[section][key]}", "error"
                continue
            info = fields.get(key)
            if info is None or key.startswith("_"):
                hint = did_you_mean(key, [f for f in fields if not f.startswith("_")])
                yield loc, f"'{key}' is not a field of {class_name}{hint}", "error"
                continue
            yield from _check_value_type(loc, key, value, info)
    training = trainer.training_parameters
    if training.get("fp16") is True and training.get("bf16") is True:
        yield (
            ("trainer_parameters", "training_parameters", "bf16"),
            "set fp16 or bf16, not both",
            "error",
        )


def _value_kind(value) -> str:
    if value is None:
        return "none"
    for kind, python in (
        ("bool", bool),
        ("int", int),
        ("float", float),
        ("str", str),
        ("list", list),
        ("dict", dict),
    ):
        if isinstance(value, python):
            return kind
    return type(value).__name__


def _check_value_type(loc, key, value, info) -> Iterator[Finding]:
    allowed = info.scalar_types
    if not allowed:
        return
    samples = _search_samples(value) if is_search(value) else [value]
    for sample in samples:
        kind = _value_kind(sample)
        ok = kind in allowed or (kind == "int" and "float" in allowed)
        if not ok:
            yield loc, f"{key} takes {info.annotation}, not {kind} ({sample!r})", "error"
            return
        # Choices with a pattern (pissa_niter_[number of iters]) cannot be checked by equality.
        patterned = any("[" in c for c in info.choices)
        if kind == "str" and info.choices and sample not in info.choices and not patterned:
            hint = did_you_mean(sample, info.choices)
            choices = ", ".join(info.choices)
            yield loc, f"{key}: '{sample}' is not one of {choices}{hint}", "error"
            return


def _search_samples(space) -> list:
    if isinstance(space, CategoricalSearch | DiscreteSearch):
        return list(space.values)
    if isinstance(space, IntSearch):
        return [space.min]
    return [float(space.min)]


def check_search_spaces(spec: ExperimentSpec) -> Iterator[Finding]:
    tuned = spec.search_spaces()
    if not tuned:
        yield (
            ("trainer_parameters",),
            (
                "trainer_parameters: nothing is tuned: give at least one training_parameters or "
                "lora_config value as {search: double|int|categorical|discrete, ...}"
            ),
            "error",
        )
    seen: dict[str, str] = {}
    for section in ("training_parameters", "lora_config"):
        for key, value in getattr(spec.trainer_parameters, section).items():
            if not is_search(value):
                continue
            loc = ("trainer_parameters", section, key)
            if key in seen:
                yield loc, f"'{key}' is tuned in both {seen[key]} and {section}", "error"
            seen[key] = section
            where = dotted(loc)
            for sub, message in _space_problems(value):
                yield loc + sub, f"{where}: {message}", "error"


def _space_problems(space) -> Iterator[tuple[tuple, str]]:
    if isinstance(space, DoubleSearch | IntSearch):
        if space.min >= space.max:
            yield ("max",), f"max ({space.max}) must be greater than min ({space.min})"
            return
        if space.step is not None and not 0 < space.step <= space.max - space.min:
            yield ("step",), f"step must be > 0 and at most max - min ({space.max - space.min})"
        if space.distribution in ("logUniform", "logNormal") and space.min <= 0:
            yield ("min",), f"{space.distribution} needs min > 0"
    else:
        for value in space.values:
            if isinstance(value, str) and not SHELL_INERT.match(value):
                yield (
                    ("values",),
                    (
                        f"'{value}' must use only letters, digits and _.,:/+=@%-: Katib passes the "
                        "chosen value through a shell unquoted"
                    ),
                )
        duplicates = sorted({repr(v) for v in space.values if space.values.count(v) > 1})
        if duplicates:
            yield ("values",), f"values repeat: {', '.join(duplicates)}"
        if len({type(v) for v in space.values}) > 1:
            yield ("values",), "values must all have the same type"


def check_algorithm(spec: ExperimentSpec) -> Iterator[Finding]:
    settings = {k: katib_text(v) for k, v in spec.algorithm_settings.items()}
    problems = algorithms.check_algorithm(
        spec.algorithm_name,
        settings,
        spec.search_parameters(),
        spec.max_trial_count,
        spec.effective_parallel_trial_count,
        # hpo-asha's own check (generator.checks.asha) refuses several objectives at
        # `objectives`, and says why.
        objectives=1 if spec.algorithm_name == ASHA else len(spec.all_objectives),
    )
    if spec.warm_start is not None and spec.algorithm_name not in algorithms.ours.ALGORITHMS:
        problems.append(
            (
                None,
                f"warm_start needs this project's suggestion service: use one of "
                f"{algorithms.ours.names()} instead of Katib's '{spec.algorithm_name}'",
            )
        )
    for setting, message in problems:
        # A setting's message starts with its name; an algorithm's names the fields it is about.
        if setting:
            yield ("algorithm_settings", setting), f"algorithm_settings.{message}", "error"
        else:
            yield ("algorithm_name",), f"algorithm_name: {message}", "error"
    if spec.early_stopping is not None:
        early = {k: str(v) for k, v in spec.early_stopping.algorithm_settings.items()}
        for setting, message in algorithms.check_settings(
            early, algorithms.EARLY_STOPPING_SETTINGS, spec.early_stopping.algorithm_name
        ):
            loc = ("early_stopping", "algorithm_settings", setting)
            yield loc, f"early_stopping.algorithm_settings.{message}", "error"
