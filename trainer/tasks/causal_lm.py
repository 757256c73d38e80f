"""Causal language modelling: next-token prediction over texts packed into blocks.

Texts are joined with the end-of-sequence token and cut into blocks of `max_length` tokens, so
no compute goes to padding; the last, shorter block of each batch of texts is kept rather than
dropped (unless it is a single token, which predicts nothing), so a small dataset still trains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from datasets import Dataset
from transformers import AutoModelForCausalLM

from trainer.catalog import EVAL_LOSS
from trainer.collate import BucketPadCollator
from trainer.tasks.base import Task, encode_rows, load_pretrained, load_tokenizer, text_lengths


def pack(token_lists: list[list[int]], eos_token_id: int | None, block: int) -> list[list[int]]:
    """Concatenate rows (each ended by eos) and cut the stream into blocks of `block` tokens."""
    stream: list[int] = []
    for tokens in token_lists:
        stream.extend(tokens)
        if eos_token_id is not None and (not tokens or tokens[-1] != eos_token_id):
            stream.append(eos_token_id)
    return [stream[i : i + block] for i in range(0, len(stream), block) if len(stream[i:]) > 1]


def perplexity(metrics: Mapping[str, float]) -> dict[str, float]:
    """exp(eval loss); capped so a diverged evaluation still prints a number."""
    if EVAL_LOSS not in metrics:
        return {}
    return {"eval_perplexity": math.exp(min(metrics[EVAL_LOSS], 50.0))}


class CausalLM(Task):
    transformer_type = "AutoModelForCausalLM"
    peft_task_type = "CAUSAL_LM"
    group_by_length = False  # packed blocks are all full length but the last

    def load_processor(self, model_dir: Path) -> Any:
        return load_tokenizer(model_dir)

    def load_model(self, model_dir: Path, **model_kwargs: Any) -> Any:
        return load_pretrained(AutoModelForCausalLM, model_dir, **model_kwargs)

    def prepare(self, split: Dataset, processor: Any, max_length: int, for_eval: bool) -> Dataset:
        text = self.columns["text"]

        def encode(rows: dict[str, list]) -> dict[str, list]:
            ids = processor(rows[text], add_special_tokens=True)["input_ids"]
            blocks = pack(ids, processor.eos_token_id, max_length)
            encoded = {"input_ids": blocks, "attention_mask": [[1] * len(b) for b in blocks]}
            encoded["length"] = text_lengths(encoded)
            return encoded

        return encode_rows(split, encode)

    def collator(self, processor: Any, buckets: tuple[int, ...]) -> BucketPadCollator:
        return BucketPadCollator(processor.pad_token_id, buckets, lm_labels=True)

    def derive(self, metrics: Mapping[str, float]) -> dict[str, float]:
        return perplexity(metrics)
