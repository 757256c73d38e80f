"""A sliced split of a Hub dataset fetches only the Parquet shards its rows live in.

The fake Hub serves a dataset of several Parquet shards per split, built here with pyarrow, and
records every request, so each case can say which shards were downloaded whole and which were
only asked for their footer (the row counts). The cached rows are compared with what `datasets`
gives for the same expression over the whole dataset.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from storage_init import current_folder, verify

from .conftest import run_cli
from .hubserver import FakeHub

REPO = "acme/reviews"
TRAIN_SHARDS = [300, 500, 400, 450, 350]  # 2000 rows
TEST_SHARDS = [120, 80, 100]  # 300 rows
# The card types the label as a ClassLabel and states the split sizes, as the Hub's cards do.
CARD = b"""---
license: mit
dataset_info:
  features:
  - name: text
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
          '0': neg
          '1': pos
  splits:
  - name: train
    num_examples: 2000
  - name: test
    num_examples: 300
---
# reviews
"""


def shard(split: str, start: int, rows: int) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "text": [f"{split} {i}" for i in range(start, start + rows)],
            "label": [i % 2 for i in range(start, start + rows)],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=100)
    return buffer.getvalue()


def shard_name(split: str, index: int, count: int) -> str:
    return f"data/{split}-{index:05d}-of-{count:05d}.parquet"


def parquet_repo() -> dict[str, bytes]:
    files = {"README.md": CARD, ".gitattributes": b"*.parquet filter=lfs\n"}
    for split, sizes in (("train", TRAIN_SHARDS), ("test", TEST_SHARDS)):
        start = 0
        for index, rows in enumerate(sizes):
            files[shard_name(split, index, len(sizes))] = shard(split, start, rows)
            start += rows
    return files


FILES = parquet_repo()


def shards(split: str, *indexes: int) -> list[str]:
    count = len(TRAIN_SHARDS if split == "train" else TEST_SHARDS)
    return [shard_name(split, i, count) for i in indexes]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Any:
    server = FakeHub(REPO, FILES, repo_type="dataset")
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("STORAGE_INIT_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("STORAGE_INIT_RETRY_BASE_SECONDS", "0.01")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole dataset as a local folder: what slicing the whole means."""
    folder = tmp_path_factory.mktemp("whole")
    for name, data in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def fetch_dataset(cache: Path, split: str, eval_split: str | None = None) -> Path:
    extra = ["--eval-split", eval_split] if eval_split else []
    result = run_cli(
        "dataset", "--uri", f"hf://{REPO}", "--split", split, *extra, "--cache-dir", str(cache)
    )
    assert 0 == result.returncode, result.stderr
    return Path(result.stdout.splitlines()[-1])


def texts(folder: Path) -> dict[str, list[str]]:
    import datasets

    loaded = datasets.load_from_disk(str(current_folder(folder)))
    return {name: list(split["text"]) for name, split in loaded.items()}


def sliced_whole(whole: Path, expression: str, tmp_path: Path) -> list[str]:
    import datasets

    cache = str(tmp_path / "whole-cache")
    return list(datasets.load_dataset(str(whole), split=expression, cache_dir=cache)["text"])


def downloads(hub: FakeHub) -> tuple[list[str], list[str]]:
    """(shards read whole, shards whose footer was read), each in request order."""
    whole = [p for p in hub.fetched(".parquet") if " " not in p]
    footers = [p.split(" ")[0] for p in hub.fetched(".parquet") if " " in p]
    return whole, list(dict.fromkeys(footers))


class TestOnlyTheShardsNeeded:
    """Each slice downloads the shards its rows live in, and the rows are the whole's."""

    @pytest.mark.parametrize(
        ("split", "eval_split", "fetched", "footers"),
        [
            # rows 0..999 end in shard 2 (rows 800..1199): footers read only that far
            ("train[:1000]", None, shards("train", 0, 1, 2), shards("train", 0, 1, 2)),
            # 10% needs the split's total: every train footer, one shard
            ("train[:10%]", None, shards("train", 0), shards("train", 0, 1, 2, 3, 4)),
            # rows 700..899: the end of shard 1 and the start of shard 2
            ("train[700:900]", None, shards("train", 1, 2), shards("train", 0, 1, 2)),
            # two slices of one split, and the last rows of another
            (
                "train[:100]+train[1900:]",
                "test[-50:]",
                shards("train", 0, 4) + shards("test", 2),
                shards("train", 0, 1, 2, 3, 4) + shards("test", 0, 1, 2),
            ),
        ],
    )
    def test_slice(
        self,
        hub: FakeHub,
        whole: Path,
        tmp_path: Path,
        split: str,
        eval_split: str | None,
        fetched: list[str],
        footers: list[str],
    ) -> None:
        """Which shards are downloaded, which footers read; same rows as slicing the whole."""
        folder = fetch_dataset(tmp_path / "cache", split, eval_split)
        got_whole, got_footers = downloads(hub)
        assert sorted(fetched) == sorted(got_whole)
        assert sorted(footers) == sorted(got_footers)
        expected = {"train": sliced_whole(whole, split, tmp_path)}
        if eval_split:
            expected["eval"] = sliced_whole(whole, eval_split, tmp_path)
        assert expected == texts(folder)
        marker = verify(folder)
        assert (hub.commit, ["README.md", *fetched]) == (
            marker["resolved_revision"],
            marker["resolved"]["files"],
        )

    def test_labels_keep_their_types(self, hub: FakeHub, whole: Path, tmp_path: Path) -> None:
        """The features are the whole dataset's (the card's ClassLabel), and the card's split
        sizes, which the fetched shards do not add up to, are not held against them."""
        import datasets

        folder = fetch_dataset(tmp_path / "cache", "train[450:460]")
        loaded = datasets.load_from_disk(str(current_folder(folder)))["train"]
        reference = datasets.load_dataset(
            str(whole), split="train[450:460]", cache_dir=str(tmp_path / "c")
        )
        assert (reference.features, reference["label"]) == (loaded.features, loaded["label"])
        assert ["neg", "pos"] == loaded.features["label"].names


class TestWholeDatasetOtherwise:
    """When the layout does not allow it, the whole repo is fetched, as before."""

    def test_csv_files(self, hub: FakeHub, tmp_path: Path) -> None:
        """No Parquet footers to read: every data file is downloaded."""
        csv = {
            "data/train.csv": b"text,label\n"
            + b"".join(b"t%d,%d\n" % (i, i % 2) for i in range(40)),
            "data/test.csv": b"text,label\n" + b"".join(b"e%d,1\n" % i for i in range(10)),
        }
        hub.add("acme/csv", csv, repo_type="dataset")
        result = run_cli(
            "dataset",
            "--uri",
            "hf://acme/csv",
            "--split",
            "train[:5]",
            "--cache-dir",
            str(tmp_path),
        )
        assert 0 == result.returncode, result.stderr
        assert ["t0", "t1", "t2", "t3", "t4"] == texts(Path(result.stdout.splitlines()[-1]))[
            "train"
        ]
        assert sorted(csv) == sorted(hub.fetched(".csv"))

    def test_card_with_its_own_configs(self, hub: FakeHub, tmp_path: Path) -> None:
        """A README that declares `configs` decides the files itself: nothing is guessed."""
        card = (
            b"---\nconfigs:\n- config_name: default\n  data_files:\n"
            b"  - split: train\n    path: data/train-*\n---\n"
        )
        files = {**FILES, "README.md": card}
        hub.add("acme/configured", files, repo_type="dataset")
        result = run_cli(
            "dataset",
            "--uri",
            "hf://acme/configured",
            "--split",
            "train[:10]",
            "--cache-dir",
            str(tmp_path),
        )
        assert 0 == result.returncode, result.stderr
        assert [f"train {i}" for i in range(10)] == texts(Path(result.stdout.splitlines()[-1]))[
            "train"
        ]
        fetched, footers = downloads(hub)
        assert (sorted(shards("train", 0, 1, 2, 3, 4) + shards("test", 0, 1, 2)), []) == (
            sorted(fetched),
            footers,
        )

    def test_unknown_split_names_the_splits(self, hub: FakeHub, tmp_path: Path) -> None:
        """A split the dataset does not have is still datasets' own one-line error."""
        result = run_cli(
            "dataset",
            "--uri",
            f"hf://{REPO}",
            "--split",
            "validation[:10]",
            "--cache-dir",
            str(tmp_path),
        )
        assert 1 == result.returncode
        assert (
            "Unknown split \"validation\". Should be one of ['train', 'test']"
            in (result.stderr.splitlines()[-1])
        )
