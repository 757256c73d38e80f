"""Sequence classification: one text, or a pair of texts, to one of `num_labels` classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset
from transformers import AutoModelForSequenceClassification

from trainer.tasks import scores
from trainer.tasks.base import (
    ClassificationTask,
    argmax_logits,
    check_label_ids,
    encode_rows,
    load_tokenizer,
    text_lengths,
)


class SequenceClassification(ClassificationTask):
    auto_model_class = AutoModelForSequenceClassification
    transformer_type = "AutoModelForSequenceClassification"
    peft_task_type = "SEQ_CLS"  # peft also trains the new classification head

    def load_processor(self, model_dir: Path) -> Any:
        return load_tokenizer(model_dir)

    def prepare(self, split: Dataset, processor: Any, max_length: int, for_eval: bool) -> Dataset:
        text, pair, label = self.columns["text"], self.columns["text_pair"], self.columns["label"]
        mapping = self.labels.mapping
        if mapping is None:
            check_label_ids(split[label], self.labels, label, "eval" if for_eval else "train")

        def encode(rows: dict[str, list]) -> dict[str, list]:
            pairs = rows[pair] if pair else None
            encoded = processor(rows[text], pairs, truncation=True, max_length=max_length)
            encoded["labels"] = [mapping[v] for v in rows[label]] if mapping else rows[label]
            encoded["length"] = text_lengths(encoded)
            return dict(encoded)

        return encode_rows(split, encode)

    def metrics(self, raw_eval: Dataset, prepared_eval: Dataset) -> tuple:
        num_classes = len(self.labels.names)

        def compute(prediction: Any) -> dict[str, float]:
            predicted = np.asarray(prediction.predictions).reshape(-1).tolist()
            references = np.asarray(prediction.label_ids).reshape(-1).tolist()
            return {
                "accuracy": scores.accuracy(predicted, references),
                "f1": scores.f1(predicted, references, num_classes),
            }

        return compute, argmax_logits
