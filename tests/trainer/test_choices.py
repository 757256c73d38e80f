"""The trainer's own choices of TrainingArguments: all listed for reviewers, each pinnable, and
all switched off by --exact-training-arguments."""

from __future__ import annotations

import itertools

from transformers import TrainingArguments

from trainer.config import parse_args
from trainer.recipe import training_arguments
from trainer.speed import CHOICES, Hardware, trainer_choices, training_defaults
from trainer.tasks import TASKS

SEQUENCE = "AutoModelForSequenceClassification"
CPU = Hardware(cuda=False, bf16=False, cpu_count=2, local_world_size=1)


def _arguments(tmp_path, *extra: str) -> TrainingArguments:
    config = parse_args(
        [
            *("--model-dir", "m", "--dataset-dir", "d", "--output-dir", str(tmp_path)),
            *("--transformer-type", SEQUENCE, "--num-labels", "2"),
            *extra,
        ]
    )
    task = TASKS[SEQUENCE](config.columns, config.task_options)
    # CPU: TrainingArguments refuses bf16 on a machine without a GPU that has it.
    return training_arguments(config, task, CPU, num_rows=64_000, has_eval=True)


class TestTheListIsComplete:
    """CHOICES names every field training_defaults can fill in, on any machine: a new choice
    cannot reach trials without reaching reviewers."""

    def test_every_key_training_defaults_can_fill_in_is_listed(self):
        filled = set()
        for cuda, bf16, compiler, world, steps, has_eval, grouped in itertools.product(
            (False, True), (False, True), (False, True), (1, 4), (10, 5000), (False, True),
            (False, True),
        ):  # fmt: skip
            hardware = Hardware(cuda, bf16, 8, world, world, compiler)
            filled |= set(training_defaults(hardware, steps, has_eval, grouped, {}))
        assert filled == set(CHOICES)

    def test_what_the_definition_sets_is_not_the_trainers(self):
        chosen = trainer_choices({"bf16": False, "logging_steps": 5, "eval_strategy": "no"}, False)
        assert {"bf16", "logging_steps", "eval_strategy", "eval_steps"}.isdisjoint(chosen)
        assert "torch_compile" in chosen
        assert "bf16" not in trainer_choices({"fp16": True}, False)  # fp16 is a precision choice

    def test_exact_chooses_nothing(self):
        assert trainer_choices({}, exact=True) == {}


class TestTheTrialsArguments:
    def test_the_trainer_fills_in_its_choices(self, tmp_path):
        arguments = _arguments(tmp_path)
        # 64000 rows / batch 8 * 3 epochs = 24000 steps: 20 reports, 5 evaluations.
        assert (arguments.logging_steps, arguments.eval_strategy, arguments.eval_steps) == (
            1200,
            "steps",
            4800,
        )
        assert (arguments.save_strategy, arguments.report_to, arguments.optim) == (
            "no",
            [],
            "adamw_torch",
        )

    def test_a_pinned_value_wins(self, tmp_path):
        arguments = _arguments(tmp_path, "--training", "logging_steps:int=7")
        assert arguments.logging_steps == 7

    def test_exact_training_arguments_train_as_the_library_defaults_say(self, tmp_path):
        arguments = _arguments(tmp_path, "--exact-training-arguments")
        library = TrainingArguments(output_dir=str(tmp_path))
        for name in CHOICES:
            assert getattr(arguments, name) == getattr(library, name), name
        # Not choices: the labels the loss reads are still named for the PEFT model.
        assert arguments.label_names == ["labels"]
