"""Tiny real models and datasets, laid out as the storage-init Job leaves them in the volume.

Models come from tests.support.tiny_models (random weights, two layers, hidden size 32, saved
with save_pretrained); datasets are DatasetDicts saved with save_to_disk. Both get the completion
marker the trainer verifies, written by storage_init's own helper.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage_init.cache import Source, write_marker
from tests.support.tiny_models import review_rows, tiny_bert, tiny_llama, tiny_vit

__all__ = [
    "mark_complete",
    "review_rows",
    "run_in_process",
    "save_dataset",
]  # what the trainer tests import


def mark_complete(folder: Path, kind: str) -> Path:
    write_marker(folder, kind, Source(uri=str(folder)), resolved_revision="local")
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A bare BERT encoder, a Llama causal LM and a ViT encoder, each marked complete."""
    root = tmp_path_factory.mktemp("models")
    return {
        "bert": mark_complete(tiny_bert(root / "bert"), "model"),
        "llama": mark_complete(tiny_llama(root / "llama"), "model"),
        "vit": mark_complete(tiny_vit(root / "vit"), "model"),
    }


def save_dataset(folder: Path, train: dict, eval_: dict | None = None, features=None) -> Path:
    """A DatasetDict with `train` (and `eval`) splits, as storage init writes it."""
    from datasets import Dataset, DatasetDict

    splits = {"train": Dataset.from_dict(train, features=features)}
    if eval_ is not None:
        splits["eval"] = Dataset.from_dict(eval_, features=features)
    DatasetDict(splits).save_to_disk(str(folder))
    return mark_complete(folder, "dataset")


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


def run_in_process(*argv: object) -> TrialRun:
    """Run `python -m trainer` in this process and capture what it prints."""
    from trainer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return TrialRun(code, out.getvalue(), err.getvalue())


@pytest.fixture
def run_trial() -> Callable[..., TrialRun]:
    """`run_in_process`, as a fixture."""
    return run_in_process
