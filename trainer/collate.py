"""Batches padded to the next bucket length, never to the tokenizer's maximum.

Length-grouped sampling puts rows of similar length together; padding each batch up to one of a
few fixed lengths (`speed.bucket_lengths`) then wastes little compute on padding while keeping
the number of distinct tensor shapes small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from trainer.speed import bucket_for

IGNORE_INDEX = -100  # label value the loss functions skip
# Per-token fields and the value their padding takes; any other per-token field pads with 0.
PAD_VALUES = {"labels": IGNORE_INDEX}


class BucketPadCollator:
    """Stack a list of tokenized rows into tensors, padding per-token fields to a bucket.

    With `lm_labels`, `labels` are the input ids themselves with padding ignored: the model
    shifts them for next-token prediction.
    """

    def __init__(self, pad_token_id: int, buckets: tuple[int, ...], lm_labels: bool = False):
        self.pad_token_id = pad_token_id
        self.buckets = buckets
        self.lm_labels = lm_labels

    def width(self, features: Sequence[Mapping[str, Any]]) -> int:
        return bucket_for(max(len(row["input_ids"]) for row in features), self.buckets)

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        width = self.width(features)
        batch: dict[str, torch.Tensor] = {}
        for key in features[0]:
            values = [row[key] for row in features]
            if isinstance(values[0], Sequence) and not isinstance(values[0], str):
                pad = self.pad_token_id if key == "input_ids" else PAD_VALUES.get(key, 0)
                batch[key] = pad_rows(values, width, pad)
            else:
                batch[key] = torch.tensor(values)
        if self.lm_labels:
            batch["labels"] = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        return batch


def pad_rows(rows: Sequence[Sequence[int]], width: int, pad_value: int) -> torch.Tensor:
    """Right-pad (or cut) each row to `width`."""
    out = torch.full((len(rows), width), pad_value, dtype=torch.long)
    for i, row in enumerate(rows):
        row = row[:width]
        out[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
    return out
