"""What every task module provides, and the checks they share.

A task turns a dataset split into model inputs, knows which model class and LoRA task type fit,
batches its rows and scores an evaluation. The recipe calls these in the same order for every
transformer type, so a reader learns one task module and knows them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets import ClassLabel, Dataset, Sequence, Value

from trainer.catalog import TASKS as CATALOG
from trainer.collate import BucketPadCollator
from trainer.errors import InputError, TrialConfigError

DEFAULT_MAX_LENGTH = 512
IGNORED_LABEL = -100  # the loss skips positions with this label (padding, sub-word pieces)


@dataclass(frozen=True)
class Labels:
    """Class names in id order; `mapping` turns string labels in the dataset into ids."""

    names: tuple[str, ...]
    mapping: dict[str, int] | None = None

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}


class Task:
    """Base of the task modules; each class attribute is a default a subclass may change."""

    transformer_type = ""
    peft_task_type: str | None = None  # peft.TaskType; None wraps the model generically
    group_by_length = True  # rows vary in length, so length-grouped batches save padding
    label_names: tuple[str, ...] = ("labels",)  # batch keys the loss reads
    options: Mapping[str, Any] = {}  # `--task` options and their defaults
    lora_defaults: Mapping[str, Any] = {}
    training_overrides: Mapping[str, Any] = {}  # what the task needs whatever the definition says

    def __init__(self, columns: Mapping[str, str | None], options: Mapping[str, Any]):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise TrialConfigError(
                f"--task {unknown[0]}: {self.transformer_type} has no such option; options: {known}"
            )
        self.columns = dict(columns)
        self.option = {**self.options, **options}
        self.task_metrics = CATALOG[self.transformer_type].eval_metrics
        self.labels: Labels | None = None

    # The steps, in the order the recipe calls them.
    def load_processor(self, model_dir: Path) -> Any:
        raise NotImplementedError

    def read_labels(self, train: Dataset, num_labels: int | None) -> None:
        """Classification tasks learn their label names from the train split."""

    def load_model(self, model_dir: Path, **model_kwargs: Any) -> Any:
        raise NotImplementedError

    def prepare(self, split: Dataset, processor: Any, max_length: int, for_eval: bool) -> Dataset:
        raise NotImplementedError

    def collator(self, processor: Any, buckets: tuple[int, ...]) -> Callable:
        """Token rows padded to the nearest length bucket; tasks with other inputs override it."""
        return BucketPadCollator(processor.pad_token_id, buckets)

    def metrics(self, raw_eval: Dataset, prepared_eval: Dataset) -> tuple[Callable | None, ...]:
        """`(compute_metrics, preprocess_logits_for_metrics)` for the Trainer."""
        return None, None

    def derive(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """Metrics computed from the Trainer's own, such as perplexity from the eval loss."""
        return {}


class ClassificationTask(Task):
    """A task whose head predicts one of the labels found in the train split."""

    auto_model_class: Any = None  # the transformers AutoModelFor... class of the head
    label_role = "label"  # the column role holding the labels

    def read_labels(self, train: Dataset, num_labels: int | None) -> None:
        self.labels = read_labels(train, self.columns[self.label_role], num_labels)

    def load_model(self, model_dir: Path, **model_kwargs: Any) -> Any:
        labels = self.labels
        return load_pretrained(
            self.auto_model_class,
            model_dir,
            num_labels=len(labels.names),
            id2label=labels.id2label,
            label2id=labels.label2id,
            ignore_mismatched_sizes=True,  # a pretrained head for other classes is replaced
            **model_kwargs,
        )


def require_columns(split: Dataset, columns: Mapping[str, str | None], split_name: str) -> None:
    """Fail with the columns that do exist when a role's column is missing."""
    present = split.column_names
    for role, name in columns.items():
        if name is not None and name not in present:
            raise InputError(
                f"column {name!r} (role {role}) is not in the {split_name} split; its columns are "
                f"{', '.join(present)}; choose one with --column {role}=NAME"
            )


def read_labels(split: Dataset, column: str, num_labels: int | None) -> Labels:
    """Label names from a ClassLabel feature, from string values, or for integer ids from
    `--num-labels`, else from the largest id in the train split."""
    feature = split.features[column]
    while isinstance(feature, Sequence | list):  # token tags: a sequence of labels
        feature = feature.feature if isinstance(feature, Sequence) else feature[0]
    if isinstance(feature, ClassLabel):
        labels = Labels(tuple(feature.names))
    elif isinstance(feature, Value) and feature.dtype in ("string", "large_string"):
        names = sorted(set(flatten(split[column])))
        labels = Labels(tuple(names), mapping={name: i for i, name in enumerate(names)})
    elif num_labels is None:
        count = infer_class_count(split[column], feature, column)
        labels = Labels(tuple(str(i) for i in range(count)))
    else:
        labels = Labels(tuple(str(i) for i in range(num_labels)))
    if num_labels is not None and num_labels != len(labels.names):
        raise InputError(
            f"--num-labels is {num_labels} but column {column!r} has {len(labels.names)} classes: "
            f"{', '.join(labels.names)}"
        )
    return labels


def infer_class_count(values: list[Any], feature: Any, column: str) -> int:
    """Classes 0..max for integer ids, the ignored -100 left out; other numbers need the flag."""
    integer = isinstance(feature, Value) and feature.dtype.startswith(("int", "uint"))
    ids = [v for v in flatten(values) if v != IGNORED_LABEL] if integer else []
    if not ids or max(ids) < 0:
        what = "no class id of 0 or more" if integer else "values that are not class ids"
        raise TrialConfigError(
            f"column {column!r} holds {what}, so the number of classes is unknown; "
            "pass --num-labels N"
        )
    return max(ids) + 1


def check_label_ids(values: list[Any], labels: Labels, column: str, split_name: str) -> None:
    """Out-of-range ids would fail deep inside the loss with an index error."""
    ids = [v for v in flatten(values) if isinstance(v, int) and v != IGNORED_LABEL]
    bad = [v for v in ids if not 0 <= v < len(labels.names)]
    if bad:
        raise InputError(
            f"column {column!r} of the {split_name} split has label {bad[0]}, outside 0.."
            f"{len(labels.names) - 1} for {len(labels.names)} classes; check --num-labels"
        )


def flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out.extend(flatten(value) if isinstance(value, list) else [value])
    return out


def choose_max_length(requested: int | None, model_positions: int | None) -> int:
    """The longest sequence a batch may hold: the flag, else 512, never past the model's limit."""
    if requested is not None and model_positions is not None and requested > model_positions:
        raise TrialConfigError(
            f"--max-length {requested} exceeds the model's {model_positions} positions"
        )
    if requested is not None:
        return requested
    return min(DEFAULT_MAX_LENGTH, model_positions or DEFAULT_MAX_LENGTH)


def load_tokenizer(model_dir: Path) -> Any:
    """The model's tokenizer, with a pad token: batches are padded, and Llama ships none."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise InputError(f"the tokenizer in {model_dir} has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_pretrained(auto_class: Any, model_dir: Path, **kwargs: Any) -> Any:
    """Load with PyTorch's fused SDPA attention; models that lack it keep their own."""
    try:
        return auto_class.from_pretrained(model_dir, attn_implementation="sdpa", **kwargs)
    except ValueError as e:
        if "sdpa" not in str(e).lower():
            raise
    return auto_class.from_pretrained(model_dir, **kwargs)


def encode_rows(split: Dataset, encode: Callable[[dict[str, list]], dict[str, list]]) -> Dataset:
    """`encode` over batches of rows, keeping only what it returns. The result stays in memory:
    nothing is written beside the downloaded dataset, which every trial of the experiment reads."""
    return split.map(encode, batched=True, remove_columns=split.column_names, keep_in_memory=True)


def text_lengths(encoded: Mapping[str, list]) -> list[int]:
    """Row lengths, stored as the `length` column the length-grouped sampler reads."""
    return [len(ids) for ids in encoded["input_ids"]]


# Query and value projections, as the LoRA paper adapts them, under the names model families use.
ATTENTION_PROJECTIONS = (("q_proj", "v_proj"), ("query", "value"), ("q", "v"), ("q_lin", "v_lin"))


def attention_targets(linear_names: set[str]) -> list[str] | None:
    """LoRA's default targets: the model's query and value projections, when it has them.

    None leaves the choice to peft's own table of model types.
    """
    for names in ATTENTION_PROJECTIONS:
        if set(names) <= linear_names:
            return list(names)
    return None


def argmax_logits(logits: Any, labels: Any) -> Any:
    """Keep only the predicted class of each row, so evaluation never holds all logits."""
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits.argmax(dim=-1)
