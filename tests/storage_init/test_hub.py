"""Hugging Face Hub models and datasets, resolved by huggingface_hub from a pre-filled hub cache.

HF_HUB_OFFLINE=1 (set by `isolated_env`) makes snapshot_download resolve revisions through the
cache's refs and check completeness against its tree listing: the same code path as online, minus
the HTTP requests.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from storage_init import MARKER_NAME, Source, current_folder, fetch, verify
from storage_init.errors import BadSplitError, NotFoundError

from .conftest import FAST_RETRY, HF_TOKEN_VALUE
from .hubcache import add_repo, read_folder

EXTRAS = {
    "README.md": b"# model card",
    ".gitattributes": b"*.safetensors filter=lfs",
    "pytorch_model.bin": b"pickled duplicate of the weights",
    "flax_model.msgpack": b"flax weights",
    "onnx/model.onnx": b"onnx graph",
    "1_Pooling/config.json": b"{}",
}


def fetch_hub(kind: str, repo_id: str, cache: Path, **fields: str) -> Path:
    """The content folder the fetch points at."""
    source = Source(uri=f"hf://{repo_id}", **fields)
    return current_folder(fetch(kind, source, cache, retry=FAST_RETRY))


class TestHubModels:
    """snapshot_download fetches what from_pretrained needs, at the pinned commit."""

    def test_model_from_the_hub_cache(
        self, isolated_env: Path, tmp_path: Path, tiny_model_dir: Path
    ) -> None:
        """Only config, tokenizer and safetensors; the commit is recorded; the copy loads."""
        model_files = read_folder(tiny_model_dir)
        commit = add_repo(isolated_env, "acme/tiny-bert", model_files | EXTRAS)
        folder = fetch_hub("model", "acme/tiny-bert", tmp_path / "cache", revision="main")
        assert model_files == {
            name: data for name, data in read_folder(folder).items() if name != MARKER_NAME
        }
        assert commit == verify(folder)["resolved_revision"]
        from transformers import AutoModelForSequenceClassification

        assert 2 == AutoModelForSequenceClassification.from_pretrained(folder).config.num_labels

    def test_files_are_hard_links_into_the_hub_cache(
        self, isolated_env: Path, tmp_path: Path
    ) -> None:
        """On one filesystem a model takes its size once, not twice."""
        add_repo(isolated_env, "acme/linked", {"config.json": b"{}", "model.safetensors": b"w"})
        folder = fetch_hub("model", "acme/linked", tmp_path / "cache")
        assert 2 == (folder / "model.safetensors").stat().st_nlink

    def test_revision_selects_the_commit(self, isolated_env: Path, tmp_path: Path) -> None:
        """A tag and a commit hash resolve to their own files; main to the newest."""
        old = add_repo(
            isolated_env,
            "acme/moving",
            {"config.json": b'{"v": 1}', "model.safetensors": b"one"},
            refs=("v1",),
        )
        new = add_repo(
            isolated_env, "acme/moving", {"config.json": b'{"v": 2}', "model.safetensors": b"two"}
        )
        by_tag = fetch_hub("model", "acme/moving", tmp_path, revision="v1")
        by_hash = fetch_hub("model", "acme/moving", tmp_path, revision=new)
        by_branch = fetch_hub("model", "acme/moving", tmp_path, revision="main")
        assert (old, b"one") == (
            verify(by_tag)["resolved_revision"],
            (by_tag / "model.safetensors").read_bytes(),
        )
        assert (new, b"two") == (
            verify(by_hash)["resolved_revision"],
            (by_hash / "model.safetensors").read_bytes(),
        )
        assert new == verify(by_branch)["resolved_revision"]
        assert 3 == len({by_tag, by_hash, by_branch})  # the revision is part of the key

    def test_pickled_weights_when_the_repo_has_no_safetensors(
        self, isolated_env: Path, tmp_path: Path
    ) -> None:
        """An older checkpoint: pytorch_model.bin is fetched in a second pass, same commit."""
        add_repo(
            isolated_env,
            "acme/old",
            {"config.json": b"{}", "pytorch_model.bin": b"w", "training_args.bin": b"t"},
        )
        folder = fetch_hub("model", "acme/old", tmp_path)
        assert {"config.json", "pytorch_model.bin"} == set(verify(folder)["files"])

    def test_repo_missing_from_the_offline_cache(self, tmp_path: Path) -> None:
        """Offline and not cached: the message names the repo and HF_HUB_OFFLINE."""
        with pytest.raises(NotFoundError) as caught:
            fetch_hub("model", "acme/absent", tmp_path, revision="main")
        assert (
            "model acme/absent@main is not (completely) in the Hugging Face cache and "
            "HF_HUB_OFFLINE forbids downloading it: unset HF_HUB_OFFLINE or fill the cache first"
        ) == str(caught.value)
        assert not (tmp_path / "models").exists() or [] == [
            p for p in (tmp_path / "models").iterdir() if p.is_dir()
        ]

    def test_incomplete_snapshot_is_not_taken(self, isolated_env: Path, tmp_path: Path) -> None:
        """The tree listing says weights exist but they were never downloaded: no folder."""
        add_repo(
            isolated_env,
            "acme/partial",
            {"config.json": b"{}", "model.safetensors": b"w"},
            cached={"config.json"},
        )
        with pytest.raises(NotFoundError, match="acme/partial"):
            fetch_hub("model", "acme/partial", tmp_path)
        assert [] == [p for p in (tmp_path / "models").iterdir() if p.is_dir()]

    def test_token_never_reaches_the_marker_or_the_log(
        self,
        isolated_env: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """HF_TOKEN is read by huggingface_hub only; nothing we write contains it."""
        monkeypatch.setenv("HF_TOKEN", HF_TOKEN_VALUE)
        caplog.set_level(logging.DEBUG, "storage_init")
        add_repo(isolated_env, "acme/private", {"config.json": b"{}", "model.safetensors": b"w"})
        folder = fetch_hub("model", "acme/private", tmp_path)
        assert HF_TOKEN_VALUE not in (folder / MARKER_NAME).read_text()
        assert HF_TOKEN_VALUE not in caplog.text


class TestHubDatasets:
    """A dataset repo's files are fetched at the pinned commit and read with load_dataset."""

    FILES = {
        "README.md": b"---\nlicense: mit\n---\n# reviews\n",
        "data/train.csv": b"text,label\n" + b"".join(b"t%d,%d\n" % (i, i % 2) for i in range(12)),
        "data/test.csv": b"text,label\n" + b"".join(b"e%d,%d\n" % (i, i % 2) for i in range(6)),
    }

    def test_dataset_with_slices(self, isolated_env: Path, tmp_path: Path) -> None:
        """train[:10] and test[:50%] from the repo's split files; the commit is recorded."""
        commit = add_repo(isolated_env, "acme/reviews", self.FILES, repo_type="dataset")
        folder = fetch_hub(
            "dataset", "acme/reviews", tmp_path, split="train[:10]", eval_split="test[:50%]"
        )
        import datasets

        data = datasets.load_from_disk(str(folder))
        assert {"train": 10, "eval": 3} == {name: len(split) for name, split in data.items()}
        assert ["e0", "e1", "e2"] == data["eval"]["text"]
        assert commit == verify(folder)["resolved_revision"]

    def test_unknown_split(self, isolated_env: Path, tmp_path: Path) -> None:
        """A split the repo does not have is a BadSplitError that names it."""
        add_repo(isolated_env, "acme/reviews", self.FILES, repo_type="dataset")
        with pytest.raises(BadSplitError, match="split 'validation' cannot be read from hf://"):
            fetch_hub("dataset", "acme/reviews", tmp_path, split="validation")
