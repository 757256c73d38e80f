"""Batches padded to the next bucket, and BERT-style masking that never touches special tokens."""

from __future__ import annotations

import torch

from trainer.collate import BucketPadCollator
from trainer.tasks.masked_lm import mask_tokens


class TestBucketPadding:
    """Rows pad to the smallest bucket holding the longest row, not to the max length."""

    def test_pads_to_next_bucket(self):
        collate = BucketPadCollator(pad_token_id=9, buckets=(4, 8, 16))
        batch = collate(
            [
                {"input_ids": [1, 2, 3, 4, 5], "attention_mask": [1] * 5, "labels": 1},
                {"input_ids": [1, 2], "attention_mask": [1, 1], "labels": 0},
            ]
        )
        expected = torch.tensor([[1, 2, 3, 4, 5, 9, 9, 9], [1, 2, 9, 9, 9, 9, 9, 9]])
        assert torch.equal(expected, batch["input_ids"])
        assert torch.equal(torch.tensor([5, 2]), batch["attention_mask"].sum(dim=1))
        assert torch.equal(torch.tensor([1, 0]), batch["labels"])

    def test_token_labels_pad_with_ignore_index(self):
        collate = BucketPadCollator(pad_token_id=0, buckets=(4,))
        batch = collate([{"input_ids": [5, 6], "attention_mask": [1, 1], "labels": [3, -100]}])
        assert batch["labels"].tolist() == [[3, -100, -100, -100]]

    def test_causal_labels_ignore_padding_only(self):
        collate = BucketPadCollator(pad_token_id=2, buckets=(4,), lm_labels=True)
        batch = collate([{"input_ids": [5, 2], "attention_mask": [1, 1]}])
        # The row's own eos (id 2, also the pad id) is a target; the padding after it is not.
        assert batch["labels"].tolist() == [[5, 2, -100, -100]]

    def test_longer_rows_are_cut_to_the_last_bucket(self):
        collate = BucketPadCollator(pad_token_id=0, buckets=(2,))
        batch = collate([{"input_ids": [1, 2, 3], "attention_mask": [1, 1, 1]}])
        assert tuple(batch["input_ids"].shape) == (1, 2)


class TestMasking:
    """Only maskable positions are chosen; labels keep the original id there and -100 elsewhere."""

    def test_masks_only_maskable_positions(self):
        torch.manual_seed(0)
        ids = torch.arange(10, 1010).reshape(10, 100)
        maskable = torch.ones_like(ids, dtype=torch.bool)
        maskable[:, :50] = False
        masked, labels = mask_tokens(ids, maskable, 0.5, mask_token_id=3, vocab_size=2000)
        chosen = labels != -100
        assert not chosen[:, :50].any()
        assert torch.equal(ids[chosen], labels[chosen])
        assert torch.equal(ids[~chosen], masked[~chosen])
        # About half the maskable half is chosen; about 80% of those become the mask token.
        share = chosen[:, 50:].float().mean().item()
        assert 0.4 < share < 0.6
        assert 0.7 < (masked[chosen] == 3).float().mean().item() < 0.9
