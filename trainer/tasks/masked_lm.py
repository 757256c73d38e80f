"""Masked language modelling: predict tokens hidden at random, BERT style.

Each batch masks a fresh random `mlm_probability` of its real tokens: of those, 80% become the
mask token, 10% a random token and 10% stay as they are, so the model cannot learn that only
mask tokens need predicting. Special and unknown tokens are never masked. A batch always masks
at least one token, since a batch without labels has a NaN loss: when the draw chose none, one
maskable token is chosen; when no token is maskable, the tokenizer does not fit the text and
the trial fails with NothingToMaskError.

The draw is seeded by the trial's seed and the batch's tokens, not taken from the process's
random state: a batch gets the same masks whichever process or loader worker collates it and
however far ahead the loader has fetched, so a trial that resumes a checkpoint masks its batches
exactly as the uninterrupted run does (the loader collates a resumed epoch's first batches
before the Trainer restores the random state). Batches change every epoch with the shuffled order,
and with them the masks; each evaluation masks the eval split the same way, so eval losses compare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import AutoModelForMaskedLM

from trainer.collate import IGNORE_INDEX, BucketPadCollator
from trainer.errors import InputError, NothingToMaskError, TrialConfigError
from trainer.tasks.base import Task, encode_rows, load_pretrained, load_tokenizer, text_lengths
from trainer.tasks.causal_lm import perplexity


def mask_tokens(
    input_ids: torch.Tensor,
    maskable: torch.Tensor,
    probability: float,
    mask_token_id: int,
    vocab_size: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(masked input ids, labels); labels ignore every position that was not chosen.

    At least one position is chosen: one maskable position at random when the draw chose none.
    Raises NothingToMaskError when no position is maskable. Draws from `generator` (None: the
    process's random state).
    """
    if not maskable.any():
        raise NothingToMaskError()

    def draw(p: float) -> torch.Tensor:
        return torch.bernoulli(torch.full(input_ids.shape, p), generator=generator).bool()

    chosen = draw(probability) & maskable
    if not chosen.any():
        candidates = maskable.flatten().nonzero().squeeze(1)
        pick = candidates[torch.randint(len(candidates), (1,), generator=generator)]
        chosen = chosen.flatten().index_fill(0, pick, True).view_as(chosen)
    labels = input_ids.masked_fill(~chosen, IGNORE_INDEX)
    masked = input_ids.clone()
    to_mask = chosen & draw(0.8)
    masked[to_mask] = mask_token_id
    to_random = chosen & ~to_mask & draw(0.5)
    masked[to_random] = torch.randint(vocab_size, input_ids.shape, generator=generator)[to_random]
    return masked, labels


def batch_generator(input_ids: torch.Tensor, seed: int) -> torch.Generator:
    """A generator seeded by `seed` and the batch's token ids alone."""
    digest = hashlib.blake2b(input_ids.contiguous().numpy().tobytes(), digest_size=8)
    digest.update(str(seed).encode())
    return torch.Generator().manual_seed(int.from_bytes(digest.digest(), "little") >> 1)


class MaskingCollator(BucketPadCollator):
    def __init__(self, tokenizer: Any, buckets: tuple[int, ...], probability: float, seed: int = 0):
        super().__init__(tokenizer.pad_token_id, buckets)
        self.probability = probability
        self.seed = seed
        self.mask_token_id = tokenizer.mask_token_id
        self.vocab_size = len(tokenizer)
        # The unknown token stands for words the tokenizer does not know: nothing to predict.
        unknown = {tokenizer.unk_token_id} - {None}
        self.special_ids = torch.tensor(sorted(set(tokenizer.all_special_ids) | unknown))

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        batch = super().__call__(features)
        ids = batch["input_ids"]
        maskable = (batch["attention_mask"] == 1) & ~torch.isin(ids, self.special_ids)
        batch["input_ids"], batch["labels"] = mask_tokens(
            ids,
            maskable,
            self.probability,
            self.mask_token_id,
            self.vocab_size,
            batch_generator(ids, self.seed),
        )
        return batch


class MaskedLM(Task):
    transformer_type = "AutoModelForMaskedLM"
    options = {"mlm_probability": 0.15}

    def load_processor(self, model_dir: Path) -> Any:
        tokenizer = load_tokenizer(model_dir)
        if tokenizer.mask_token_id is None:
            raise InputError(f"the tokenizer in {model_dir} has no mask token")
        probability = self.option["mlm_probability"]
        if not 0.0 < probability < 1.0:
            raise TrialConfigError(f"--task mlm_probability must be in (0, 1), got {probability}")
        return tokenizer

    def load_model(self, model_dir: Path, **model_kwargs: Any) -> Any:
        return load_pretrained(AutoModelForMaskedLM, model_dir, **model_kwargs)

    def prepare(self, split: Dataset, processor: Any, max_length: int, for_eval: bool) -> Dataset:
        text = self.columns["text"]

        def encode(rows: dict[str, list]) -> dict[str, list]:
            encoded = processor(rows[text], truncation=True, max_length=max_length)
            encoded["length"] = text_lengths(encoded)
            return dict(encoded)

        return encode_rows(split, encode)

    def collator(self, processor: Any, buckets: tuple[int, ...]) -> MaskingCollator:
        # The recipe has seeded the process (set_seed) with the trial's seed: masks follow it.
        seed = torch.initial_seed()
        return MaskingCollator(processor, buckets, self.option["mlm_probability"], seed)

    def derive(self, metrics: Mapping[str, float]) -> dict[str, float]:
        return perplexity(metrics)
