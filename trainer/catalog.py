"""What each transformer type reads and reports: the one table the generator and trainer share.

Standard library only, so the generator can validate column names and objective metrics without
importing torch or transformers.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TaskInfo:
    """Dataset columns and metrics of one transformer type."""

    columns: dict[str, str | None]  # role -> default column name (None: optional, unset)
    eval_metrics: tuple[str, ...]  # task metrics reported when an eval split exists
    needs_num_labels: bool = False
    optional_columns: frozenset[str] = field(default_factory=frozenset)


TASKS: dict[str, TaskInfo] = {
    "AutoModelForSequenceClassification": TaskInfo(
        columns={"text": "text", "text_pair": None, "label": "label"},
        eval_metrics=("eval_accuracy", "eval_f1"),
        needs_num_labels=True,
        optional_columns=frozenset({"text_pair"}),
    ),
    "AutoModelForTokenClassification": TaskInfo(
        columns={"tokens": "tokens", "tags": "ner_tags"},
        eval_metrics=("eval_f1", "eval_precision", "eval_recall"),
        needs_num_labels=True,
    ),
    "AutoModelForQuestionAnswering": TaskInfo(
        columns={"question": "question", "context": "context", "answers": "answers"},
        eval_metrics=("eval_exact_match", "eval_f1"),
    ),
    "AutoModelForCausalLM": TaskInfo(
        columns={"text": "text"},
        eval_metrics=("eval_perplexity",),
    ),
    "AutoModelForMaskedLM": TaskInfo(
        columns={"text": "text"},
        eval_metrics=("eval_perplexity",),
    ),
    "AutoModelForImageClassification": TaskInfo(
        columns={"image": "image", "label": "label"},
        eval_metrics=("eval_accuracy",),
        needs_num_labels=True,
    ),
}

# Reported by every task: during training, and (eval_loss) at every evaluation.
TRAIN_METRICS = ("train_loss", "epoch", "step")
EVAL_LOSS = "eval_loss"

# What a trial cost, reported by every task once, after training (and after the final
# evaluation), so an experiment can weigh quality against them. trainable_params is known before
# training and is printed at its start too: a trial stopped early still reports it.
TRAINABLE_PARAMS = "trainable_params"  # parameters the optimizer updates: LoRA, new heads
PEAK_MEMORY_MB = "peak_memory_mb"  # MiB: peak allocated on the GPU, peak resident set on a CPU
# Optimizer steps the trial ran itself: a trial that resumes a checkpoint (a rung of hpo-asha)
# counts only its own, so the steps of an experiment add up to what it cost.
TRAINED_STEPS = "trained_steps"
COST_METRICS = (
    TRAINABLE_PARAMS,
    PEAK_MEMORY_MB,
    "train_samples_per_second",
    "train_runtime",
    TRAINED_STEPS,
)


def metric_names(transformer_type: str, has_eval_split: bool) -> tuple[str, ...]:
    """Every metric name a trial of this task prints, in a stable order."""
    names = TRAIN_METRICS
    if has_eval_split:
        names = names + (EVAL_LOSS,) + TASKS[transformer_type].eval_metrics
    return names + COST_METRICS
