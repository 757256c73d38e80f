"""Masked LM batches always have a token to predict, or the trial says why the text has none."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader

from generator.errors import ExitCode
from tests.trainer.conftest import review_rows, save_dataset
from tests.trainer.test_failures import one_error_line
from trainer.errors import NothingToMaskError
from trainer.tasks.base import load_tokenizer
from trainer.tasks.masked_lm import MaskingCollator, mask_tokens

MLM = "AutoModelForMaskedLM"
# None of these words is in the tiny models' vocabulary: the tokenizer reads each as [UNK].
UNKNOWN_WORDS = ["zebra quokka", "xylophone", "narwhal yak okapi", "quetzal"]
NOTHING_TO_MASK = (
    "error: no token of the batch could be masked: every token is special or unknown, so the "
    "tokenizer does not fit this text (or its rows are empty); check that the tokenizer is the "
    "model's own and that the text column (--column text=NAME) holds the text"
)


def mlm_args(model, data, out, *extra):
    return (
        "--model-dir", model, "--dataset-dir", data, "--output-dir", out,
        "--transformer-type", MLM,
        "--training", "max_steps:int=2", "--training", "per_device_train_batch_size:int=4",
        "--training", "logging_steps:int=1",
        "--lora", "r:int=4", "--lora", "lora_alpha:int=8",
        *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer(tiny_models):
    return load_tokenizer(tiny_models["bert"])


def rows(tokenizer, texts: list[str]) -> list[dict]:
    return [dict(tokenizer(text)) for text in texts]


class TestMaskTokens:
    """Every batch with a maskable token gets a label; a batch without one is an input error."""

    def test_a_draw_that_chose_nothing_still_masks_one_maskable_token(self):
        torch.manual_seed(0)
        ids = torch.arange(10, 50).reshape(4, 10)
        maskable = torch.zeros_like(ids, dtype=torch.bool)
        maskable[1, 3:6] = True
        for _ in range(20):
            _, labels = mask_tokens(ids, maskable, 1e-9, mask_token_id=3, vocab_size=100)
            chosen = labels != -100
            assert 1 == int(chosen.sum())
            assert bool(maskable[chosen].all())
            assert torch.equal(ids[chosen], labels[chosen])

    def test_no_maskable_token_is_an_input_error(self):
        ids = torch.arange(10, 50).reshape(4, 10)
        maskable = torch.zeros_like(ids, dtype=torch.bool)
        with pytest.raises(NothingToMaskError) as caught:
            mask_tokens(ids, maskable, 0.15, mask_token_id=3, vocab_size=100)
        assert ExitCode.PROBLEMS == caught.value.exit_code
        assert NOTHING_TO_MASK == f"error: {caught.value}"


class TestMaskingCollator:
    """The collator with the tiny BERT's real tokenizer: special and unknown tokens are never
    targets, and a batch of nothing else fails with the reason."""

    def test_rows_of_unknown_words_are_refused(self, tokenizer):
        collate = MaskingCollator(tokenizer, (8, 16), 0.15)
        features = rows(tokenizer, UNKNOWN_WORDS)
        assert {tokenizer.unk_token_id} == {i for r in features for i in r["input_ids"][1:-1]}
        with pytest.raises(NothingToMaskError):
            collate(features)

    def test_rows_of_special_tokens_only_are_refused(self, tokenizer):
        collate = MaskingCollator(tokenizer, (8,), 0.15)
        with pytest.raises(NothingToMaskError):
            collate(rows(tokenizer, ["", ""]))

    def test_one_known_word_in_the_batch_is_enough(self, tokenizer):
        collate = MaskingCollator(tokenizer, (8, 16), 1e-9)
        batch = collate(rows(tokenizer, [*UNKNOWN_WORDS, "good"]))
        targets = batch["labels"][batch["labels"] != -100].tolist()
        assert tokenizer.convert_tokens_to_ids(["good"]) == targets

    def test_special_and_unknown_tokens_are_never_targets(self, tokenizer):
        torch.manual_seed(0)
        collate = MaskingCollator(tokenizer, (16,), 0.9)
        texts = ["the good movie zebra", "a bad film quokka", "fun"]
        labels = collate(rows(tokenizer, texts))["labels"]
        targets = set(labels[labels != -100].tolist())
        assert targets, "the known words are targets"
        assert set() == targets & {*tokenizer.all_special_ids, tokenizer.unk_token_id}

    def test_the_error_is_one_line_from_a_dataloader_worker(self, tokenizer):
        """GPU trials collate in worker processes; PyTorch re-raises the worker's error in the
        trial's process with the worker's traceback as its message, which must not show."""
        collate = MaskingCollator(tokenizer, (8, 16), 0.15)
        loader = DataLoader(
            rows(tokenizer, UNKNOWN_WORDS), batch_size=2, collate_fn=collate, num_workers=1
        )
        with pytest.raises(NothingToMaskError) as caught:
            next(iter(loader))
        assert NOTHING_TO_MASK == f"error: {caught.value}"


class TestMaskedLanguageModelTrials:
    """`python -m trainer` on the tiny BERT: text the tokenizer does not know ends the trial as
    bad input (exit 1) with the reason, not as a diverged loss."""

    def test_text_of_unknown_words_exits_with_the_reason(self, tiny_models, tmp_path, run_trial):
        data = save_dataset(tmp_path / "data", {"text": UNKNOWN_WORDS * 2})
        run = run_trial(*mlm_args(tiny_models["bert"], data, tmp_path / "out"))
        assert (ExitCode.PROBLEMS, NOTHING_TO_MASK) == (run.exit_code, one_error_line(run))
        assert "nan" not in run.stdout

    def test_a_rare_masking_draw_still_trains(self, tiny_models, tmp_path, run_trial):
        """With a tiny mlm_probability most draws choose nothing; each batch still predicts one
        token, so the losses are finite."""
        texts = review_rows(16, 2)["text"]
        data = save_dataset(tmp_path / "data", {"text": texts}, {"text": texts[:4]})
        extra = ("--task", "mlm_probability:float=1e-9")
        run = run_trial(*mlm_args(tiny_models["bert"], data, tmp_path / "out", *extra))
        assert 0 == run.exit_code, run.stderr[-2000:]
        losses = run.values("train_loss") + run.values("eval_loss")
        assert losses and all(math.isfinite(value) for value in losses)
