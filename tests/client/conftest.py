"""A throwaway copy of the repository, so tune() can write into experiments/ and rendered/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
# What find_root(), the checks and the renderer read; code is imported from the real checkout.
COPIED = ("templates", "images.yaml", "argocd", "experiments")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in COPIED:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy2(source, root / name)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "copy")
    return root


@pytest.fixture(scope="session")
def seed_objects():
    """The seed example's parameter objects, built with the real SDK, transformers and peft."""
    import kubeflow.katib as katib
    from kubeflow.storage_initializer.hugging_face import (
        HuggingFaceDatasetParams,
        HuggingFaceModelParams,
        HuggingFaceTrainerParams,
    )
    from peft import LoraConfig
    from transformers import AutoModelForSequenceClassification, TrainingArguments

    return dict(
        model_provider_parameters=HuggingFaceModelParams(
            model_uri="hf://meta-llama/Llama-3.2-1B",
            transformer_type=AutoModelForSequenceClassification,
        ),
        dataset_provider_parameters=HuggingFaceDatasetParams(repo_id="imdb", split="train[:1000]"),
        trainer_parameters=HuggingFaceTrainerParams(
            training_parameters=TrainingArguments(
                output_dir="results",
                save_strategy="no",
                learning_rate=katib.search.double(min=1e-05, max=5e-05),
                num_train_epochs=3,
            ),
            lora_config=LoraConfig(
                r=katib.search.int(min=8, max=32), lora_alpha=8, lora_dropout=0.1, bias="none"
            ),
        ),
    )
