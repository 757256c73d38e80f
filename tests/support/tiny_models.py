"""Tiny real Hugging Face models and review data, built on the spot instead of downloaded.

Models are built from configs with seeded random weights and saved with save_pretrained, each
with a tokenizer (or image processor) over one small vocabulary, WORDS: BERT (bare or with a
classification head), Llama (causal LM) and ViT. Callers choose the sizes; the defaults are the
trainer tests' two layers of hidden size 32. The `*_config` functions give the configs alone,
for a caller that builds the model itself (benchmarks/trial_throughput.py on its device).

Review data comes as columns (`review_rows`, for datasets) or as JSONL files (`tiny_reviews`, as
a local definition reads them); every word in it is in WORDS.

transformers is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# "a good bad movie the" come first: storage-init tests assert their token ids (5, 6, 7, 8, 9).
WORDS = (
    *("a", "good", "bad", "movie", "the", "film", "was", "is", "plot", "acting"),
    *("who", "where", "what", "does", "great", "fun", "loved", "awful", "boring", "hated"),
    *("john", "mary", "paris", "london", "lives", "works", "in", "at"),
)
FILLER = ("the", "a", "movie", "film", "was", "is", "plot", "acting")
POSITIVE = ("good", "great", "fun", "loved")
NEGATIVE = ("bad", "awful", "boring", "hated")

BERT_VOCAB = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS)
LLAMA_VOCAB = ("<unk>", "<s>", "</s>", *WORDS)


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Weights drawn from `seed`, leaving the process's own random state as it was."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def bert_config(
    *,
    hidden_size: int = 32,
    layers: int = 2,
    heads: int = 2,
    intermediate_size: int = 64,
    max_positions: int = 128,
    **extra: Any,
):
    """A BertConfig over BERT_VOCAB; `extra` passes further config fields (num_labels, ...)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(BERT_VOCAB),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_positions,
        **extra,
    )


def tiny_bert(folder: Path, *, num_labels: int | None = None, seed: int = 0, **sizes: int) -> Path:
    """A BERT and its WordPiece tokenizer saved in `folder`: the bare encoder, or with
    `num_labels` a sequence classifier. `sizes` are bert_config's keywords."""
    from transformers import BertForSequenceClassification, BertModel, BertTokenizer

    with _seeded(seed):
        if num_labels is None:
            model = BertModel(bert_config(**sizes))
        else:
            model = BertForSequenceClassification(bert_config(num_labels=num_labels, **sizes))
    model.save_pretrained(folder)
    # A vocab dict, not vocab_file=: transformers 5 silently ignores a vocab_file argument.
    BertTokenizer(vocab={word: i for i, word in enumerate(BERT_VOCAB)}).save_pretrained(folder)
    return folder


def llama_config(
    *,
    vocab_size: int = len(LLAMA_VOCAB),
    hidden_size: int = 32,
    intermediate_size: int = 64,
    layers: int = 2,
    heads: int = 2,
    kv_heads: int = 1,
    max_positions: int = 256,
    **extra: Any,
):
    """A LlamaConfig, by default over LLAMA_VOCAB; `extra` passes further config fields."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        **extra,
    )


def tiny_llama(folder: Path, *, seed: int = 0, **sizes: int) -> Path:
    """A Llama causal LM and a whitespace word-level tokenizer saved in `folder`.
    `sizes` are llama_config's keywords (but not vocab_size: the tokenizer fixes it)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {word: i for i, word in enumerate(LLAMA_VOCAB)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    with _seeded(seed):
        model = LlamaForCausalLM(llama_config(bos_token_id=1, eos_token_id=2, **sizes))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_vit(
    folder: Path,
    *,
    image_size: int = 32,
    patch_size: int = 8,
    hidden_size: int = 32,
    layers: int = 2,
    heads: int = 2,
    intermediate_size: int = 64,
    seed: int = 0,
) -> Path:
    """A ViT encoder and its image processor (resizing to `image_size`) saved in `folder`."""
    from transformers import ViTConfig, ViTImageProcessorPil, ViTModel

    config = ViTConfig(
        image_size=image_size,
        patch_size=patch_size,
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate_size,
    )
    with _seeded(seed):
        model = ViTModel(config)
    model.save_pretrained(folder)
    ViTImageProcessorPil(size={"height": image_size, "width": image_size}).save_pretrained(folder)
    return folder


def review_rows(count: int, seed: int) -> dict[str, list]:
    """Columns text and label: short reviews whose label (1 positive) one sentiment word
    decides, among two to twelve filler words; labels alternate 0, 1, 0, ..."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(count):
        label = i % 2
        word = rng.choice(POSITIVE if label else NEGATIVE)
        filler = rng.choices(FILLER, k=rng.randint(2, 12))
        texts.append(" ".join([*filler[:1], word, *filler[1:]]))
        labels.append(label)
    return {"text": texts, "label": labels}


def tiny_reviews(folder: Path, splits: Mapping[str, int] | None = None) -> Path:
    """`folder`/<split>.jsonl for each split (default: 16 train, 8 test rows): "the movie was
    good|great" labelled 1 and "the movie was bad|awful" labelled 0, two of each in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    words = ("good", "great", "bad", "awful")
    for split, count in (splits or {"train": 16, "test": 8}).items():
        rows = [
            {"text": f"the movie was {words[i % 4]}", "label": int(i % 4 < 2)} for i in range(count)
        ]
        (folder / f"{split}.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8"
        )
    return folder
