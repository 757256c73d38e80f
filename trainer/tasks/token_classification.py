"""Token classification (NER style): a tag for every word of a pre-split sentence.

A word the tokenizer splits into several pieces is labelled on its first piece only; the other
pieces get the ignore index, so a long word does not count more than a short one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset
from transformers import AutoModelForTokenClassification

from trainer.collate import IGNORE_INDEX
from trainer.errors import InputError
from trainer.tasks import scores
from trainer.tasks.base import (
    ClassificationTask,
    argmax_logits,
    check_label_ids,
    encode_rows,
    load_tokenizer,
    text_lengths,
)


def align_labels(word_ids: list[int | None], tags: list[int]) -> list[int]:
    """One label per token: the word's tag on its first piece, ignored elsewhere."""
    labels, previous = [], None
    for word in word_ids:
        labels.append(IGNORE_INDEX if word is None or word == previous else tags[word])
        previous = word
    return labels


class TokenClassification(ClassificationTask):
    auto_model_class = AutoModelForTokenClassification
    label_role = "tags"
    transformer_type = "AutoModelForTokenClassification"
    peft_task_type = "TOKEN_CLS"

    def load_processor(self, model_dir: Path) -> Any:
        tokenizer = load_tokenizer(model_dir)
        if not tokenizer.is_fast:
            raise InputError(
                f"the tokenizer in {model_dir} is not a fast tokenizer; aligning tags to words "
                "needs one (a tokenizer.json file)"
            )
        return tokenizer

    def prepare(self, split: Dataset, processor: Any, max_length: int, for_eval: bool) -> Dataset:
        words, tags = self.columns["tokens"], self.columns["tags"]
        mapping = self.labels.mapping
        if mapping is None:
            check_label_ids(split[tags], self.labels, tags, "eval" if for_eval else "train")

        def encode(rows: dict[str, list]) -> dict[str, list]:
            encoded = processor(
                rows[words], is_split_into_words=True, truncation=True, max_length=max_length
            )
            all_tags = [[mapping[t] for t in row] if mapping else row for row in rows[tags]]
            encoded["labels"] = [
                align_labels(encoded.word_ids(i), row) for i, row in enumerate(all_tags)
            ]
            encoded["length"] = text_lengths(encoded)
            return dict(encoded)

        return encode_rows(split, encode)

    def metrics(self, raw_eval: Dataset, prepared_eval: Dataset) -> tuple:
        names = self.labels.names

        def compute(prediction: Any) -> dict[str, float]:
            predicted_rows, reference_rows = [], []
            for pred, ref in zip(prediction.predictions, prediction.label_ids, strict=True):
                keep = np.asarray(ref) != IGNORE_INDEX
                predicted_rows.append([names[i] for i in np.asarray(pred)[keep]])
                reference_rows.append([names[i] for i in np.asarray(ref)[keep]])
            return scores.entity_scores(predicted_rows, reference_rows)

        return compute, argmax_logits
