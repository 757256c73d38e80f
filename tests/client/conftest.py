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


def isolate_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git configuration reaches the test's git commands."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def add_bare_origin(root: Path, tmp_path: Path) -> Path:
    """Give the checkout `root` a bare repository as origin, holding its main branch."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "origin", "main")
    git(root, "config", "user.name", "Ada Tuner")
    git(root, "config", "user.email", "ada@example.org")
    return origin


def commit_to_origin(root: Path, branch: str, files: dict[str, str], base: str = "main") -> None:
    """Commit `files` on top of origin's `base` and push them as origin's `branch`, the way a
    merge or the results Job would, leaving the checkout's HEAD where it was."""
    scratch = root.parent / f"scratch-{branch.replace('/', '-')}"
    git(root.parent, "clone", "-q", "--branch", base, str(root.parent / "origin.git"), str(scratch))
    for relative, text in files.items():
        (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
        (scratch / relative).write_text(text, encoding="utf-8")
    git(scratch, "add", "-A")
    git(
        scratch,
        "-c",
        "user.name=m",
        "-c",
        "user.email=m@example.org",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        branch,
    )
    git(scratch, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    shutil.rmtree(scratch)
