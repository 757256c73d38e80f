"""The training arguments a trial runs with, as a reviewer should see them.

A definition's `training_parameters` are not all a trial gets: where they are silent the trainer
chooses some values itself (bf16 on capable GPUs, torch.compile for long trials, the logging
schedule Katib's early stopping reads, ...; `trainer.speed.CHOICES`). Those choices are shown
next to the definition's own values wherever a definition is reviewed: `hpo check`, the pull
request summary, and the definitions `tune()` writes. Each can be pinned by setting it in
`training_parameters`; `exact_training_arguments: true` turns them all off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.spec.search import is_search
from trainer.speed import trainer_choices

DEFINITION, SEARCHED, TRAINER = "definition", "searched", "trainer"


@dataclass(frozen=True)
class TrainingArgument:
    name: str
    value: str  # the definition's value, the search space, or the trainer's rule
    source: str  # DEFINITION | SEARCHED | TRAINER


def _text(value: Any) -> str:
    if is_search(value):
        value = value.model_dump(exclude_none=True)
    if isinstance(value, Mapping) and "search" in value:
        if "values" in value:
            return f"{value['search']} {json.dumps(value['values'])}"
        text = f"{value['search']} {value['min']}..{value['max']}"
        if value.get("step") is not None:
            text += f" step {value['step']}"
        if value.get("distribution", "uniform") != "uniform":
            text += f" ({value['distribution']})"
        return text
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def effective_training_arguments(
    training: Mapping[str, Any], exact: bool
) -> list[TrainingArgument]:
    """The definition's training arguments in its order, then those the trainer chooses."""
    given = [
        TrainingArgument(
            name,
            _text(value),
            SEARCHED
            if is_search(value) or isinstance(value, Mapping) and "search" in value
            else DEFINITION,
        )
        for name, value in training.items()
    ]
    chosen = [
        TrainingArgument(name, rule, TRAINER)
        for name, rule in trainer_choices(training, exact).items()
    ]
    return given + chosen


def check_lines(arguments: list[TrainingArgument]) -> list[str]:
    """`hpo check`'s listing: one aligned line per argument, marked by who sets it."""
    width = max((len(a.name) for a in arguments), default=0)
    return [f"  {a.name:<{width}}  {a.source + ':':<11} {a.value}" for a in arguments]


def definition_comment(arguments: list[TrainingArgument]) -> str:
    """The comment tune() ends a definition with: what the trainer will choose, and how not to."""
    chosen = [a for a in arguments if a.source == TRAINER]
    if not chosen:
        return ""
    lines = [
        "# Training arguments the trainer chooses because training_parameters does not set them",
        "# (set one there to pin it; trainer_parameters.exact_training_arguments: true turns them",
        "# all off and trains with TrainingArguments' own defaults):",
    ]
    lines += [f"#   {a.name}: {a.value}" for a in chosen]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a table cell ends at an unescaped bar


def summary_details(name: str, arguments: list[TrainingArgument]) -> list[str]:
    """The pull request summary's collapsible table for one experiment."""
    chosen = sum(a.source == TRAINER for a in arguments)
    lines = [
        f"<details><summary><code>{name}</code>: training arguments ({chosen} chosen by the "
        "trainer)</summary>",
        "",
        "| argument | value | set by |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{a.name}` | {_cell(a.value)} | {a.source} |" for a in arguments]
    return lines + ["", "</details>", ""]
