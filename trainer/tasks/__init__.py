"""The task modules, chosen by transformer type."""

from __future__ import annotations

from trainer.tasks.base import Task
from trainer.tasks.causal_lm import CausalLM
from trainer.tasks.image_classification import ImageClassification
from trainer.tasks.masked_lm import MaskedLM
from trainer.tasks.question_answering import QuestionAnswering
from trainer.tasks.sequence_classification import SequenceClassification
from trainer.tasks.token_classification import TokenClassification

TASKS: dict[str, type[Task]] = {
    task.transformer_type: task
    for task in (
        SequenceClassification,
        TokenClassification,
        QuestionAnswering,
        CausalLM,
        MaskedLM,
        ImageClassification,
    )
}
