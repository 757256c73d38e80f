"""Tiny real models and datasets, laid out as the storage-init Job leaves them in the volume.

Models are built from configs with random weights (two layers, hidden size 32) and saved with
save_pretrained; datasets are DatasetDicts saved with save_to_disk. Both get the completion
marker the trainer verifies, written by storage_init's own helper.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage_init.cache import Source, write_marker

WORDS = [
    *("the", "a", "movie", "film", "was", "is", "plot", "acting", "who", "where", "what", "does"),
    *("good", "great", "fun", "loved", "bad", "awful", "boring", "hated"),
    *("john", "mary", "paris", "london", "lives", "works", "in", "at"),
]
POSITIVE = ("good", "great", "fun", "loved")
NEGATIVE = ("bad", "awful", "boring", "hated")


def mark_complete(folder: Path, kind: str) -> Path:
    write_marker(folder, kind, Source(uri=str(folder)), resolved_revision="local")
    return folder


def build_bert(folder: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}).save_pretrained(folder)
    return mark_complete(folder, "model")


def build_llama(folder: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(["<unk>", "<s>", "</s>", *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return mark_complete(folder, "model")


def build_vit(folder: Path) -> Path:
    from transformers import ViTConfig, ViTImageProcessorPil, ViTModel

    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    ViTModel(config).save_pretrained(folder)
    ViTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(folder)
    return mark_complete(folder, "model")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "bert": build_bert(root / "bert"),
        "llama": build_llama(root / "llama"),
        "vit": build_vit(root / "vit"),
    }


def save_dataset(folder: Path, train: dict, eval_: dict | None = None, features=None) -> Path:
    """A DatasetDict with `train` (and `eval`) splits, as storage init writes it."""
    from datasets import Dataset, DatasetDict

    splits = {"train": Dataset.from_dict(train, features=features)}
    if eval_ is not None:
        splits["eval"] = Dataset.from_dict(eval_, features=features)
    DatasetDict(splits).save_to_disk(str(folder))
    return mark_complete(folder, "dataset")


def review_rows(count: int, seed: int) -> dict[str, list]:
    """Short reviews whose label is decided by one sentiment word."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(count):
        label = i % 2
        word = rng.choice(POSITIVE if label else NEGATIVE)
        filler = rng.choices(WORDS[:8], k=rng.randint(2, 12))
        texts.append(" ".join([*filler[:1], word, *filler[1:]]))
        labels.append(label)
    return {"text": texts, "label": labels}


@dataclass
class TrialRun:
    exit_code: int
    stdout: str
    stderr: str

    def metrics(self) -> list[tuple[str, float]]:
        """Every `name=value` line on stdout, in order."""
        found = []
        for line in self.stdout.splitlines():
            name, sep, value = line.partition("=")
            if sep:
                found.append((name, float(value)))
        return found

    def values(self, name: str) -> list[float]:
        return [value for metric, value in self.metrics() if metric == name]


@pytest.fixture
def run_trial() -> Callable[..., TrialRun]:
    """Run `python -m trainer` in this process and capture what it prints."""
    from trainer.cli import main

    def run(*argv: str) -> TrialRun:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in argv])
        return TrialRun(code, out.getvalue(), err.getvalue())

    return run
