"""Local paths: model directories, data files, folders of data files, save_to_disk folders."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storage_init import MARKER_NAME, Source, cache_folder, current_folder, fetch, verify
from storage_init.errors import BadSplitError, InvalidSourceError, NotFoundError


def write_csv(path: Path, rows: int, start: int = 0) -> Path:
    lines = ["text,label"] + [f"review number {i},{i % 2}" for i in range(start, start + rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def load(folder: Path):  # noqa: ANN201 - a DatasetDict
    import datasets

    return datasets.load_from_disk(str(current_folder(folder)))


class TestLocalModel:
    """A model directory is copied with only the files from_pretrained needs."""

    def test_extras_are_left_out_and_the_copy_loads(self, tiny_model_dir: Path, tmp_path: Path):
        """Subfolders, READMEs, pickles beside safetensors and training state are skipped."""
        source_dir = tmp_path / "minilm"
        shutil.copytree(tiny_model_dir, source_dir)
        (source_dir / "README.md").write_text("# card")
        (source_dir / ".gitattributes").write_text("*.bin filter=lfs")
        (source_dir / "1_Pooling").mkdir()
        (source_dir / "1_Pooling" / "config.json").write_text("{}")
        (source_dir / "pytorch_model.bin").write_bytes(b"pickle")
        (source_dir / "training_args.bin").write_bytes(b"state")

        folder = current_folder(fetch("model", Source(uri=str(source_dir)), tmp_path / "cache"))

        expected = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
        assert expected | {MARKER_NAME} == {p.name for p in folder.iterdir()}
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        assert 2 == AutoModelForSequenceClassification.from_pretrained(folder).config.num_labels
        assert [2, 5, 6, 8, 3] == AutoTokenizer.from_pretrained(folder)("a good movie")["input_ids"]

    def test_pickled_weights_when_there_are_no_safetensors(self, tmp_path: Path) -> None:
        """Older checkpoints still work: pytorch_model.bin is taken."""
        source_dir = tmp_path / "old"
        source_dir.mkdir()
        (source_dir / "config.json").write_text("{}")
        (source_dir / "pytorch_model.bin").write_bytes(b"weights")
        folder = fetch("model", Source(uri=str(source_dir)), tmp_path / "cache")
        assert {"config.json", "pytorch_model.bin"} == set(verify(folder)["files"])

    def test_folder_without_weights_is_refused(self, tmp_path: Path) -> None:
        """No weights, no folder."""
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "config.json").write_text("{}")
        with pytest.raises(InvalidSourceError, match="has no weights"):
            fetch("model", Source(uri=str(tmp_path / "empty")), tmp_path / "cache")
        assert not (tmp_path / "cache" / "models").exists()

    def test_missing_path_names_the_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Relative paths are read from the working directory, and the error says which."""
        monkeypatch.chdir(tmp_path)
        with pytest.raises(NotFoundError, match=f"relative paths are read from {tmp_path}"):
            fetch("model", Source(uri="models/absent"), tmp_path / "cache")


class TestLocalDataset:
    """Every local format becomes a DatasetDict with train and, when asked, eval."""

    def test_csv_file_with_slices(self, tmp_path: Path) -> None:
        """train[:40] and train[40:] of one CSV file."""
        csv = write_csv(tmp_path / "reviews.csv", 50)
        source = Source(uri=str(csv), split="train[:40]", eval_split="train[40:]")
        data = load(fetch("dataset", source, tmp_path / "cache"))
        assert {"train": 40, "eval": 10} == {name: len(split) for name, split in data.items()}
        assert "review number 40" == data["eval"][0]["text"]

    @pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
    def test_jsonl_and_parquet_files(self, tmp_path: Path, suffix: str) -> None:
        """The reader follows the file suffix."""
        import datasets

        rows = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [0, 1, 0]})
        path = tmp_path / f"rows{suffix}"
        rows.to_json(str(path)) if suffix == ".jsonl" else rows.to_parquet(str(path))
        data = load(fetch("dataset", Source(uri=str(path), split="train"), tmp_path / "cache"))
        assert ["a", "b", "c"] == data["train"]["text"]

    def test_folder_of_split_files(self, tmp_path: Path) -> None:
        """train.csv and test.csv become the splits named train and test."""
        (tmp_path / "data").mkdir()
        write_csv(tmp_path / "data" / "train.csv", 30)
        write_csv(tmp_path / "data" / "test.csv", 8, start=100)
        source = Source(uri=str(tmp_path / "data"), split="train", eval_split="test[:5]")
        data = load(fetch("dataset", source, tmp_path / "cache"))
        assert {"train": 30, "eval": 5} == {name: len(split) for name, split in data.items()}
        assert "review number 100" == data["eval"][0]["text"]

    def test_save_to_disk_folder_with_percentages(self, tmp_path: Path) -> None:
        """A saved DatasetDict is sliced with the datasets split syntax too."""
        import datasets

        saved = datasets.DatasetDict(
            {
                "train": datasets.Dataset.from_dict({"text": [f"t{i}" for i in range(20)]}),
                "test": datasets.Dataset.from_dict({"text": [f"e{i}" for i in range(10)]}),
            }
        )
        saved.save_to_disk(str(tmp_path / "saved"))
        source = Source(uri=str(tmp_path / "saved"), split="train[:25%]", eval_split="test[-3:]")
        data = load(fetch("dataset", source, tmp_path / "cache"))
        assert ["t0", "t1", "t2", "t3", "t4"] == data["train"]["text"]
        assert ["e7", "e8", "e9"] == data["eval"]["text"]

    @pytest.mark.parametrize("saved", [False, True])
    def test_unknown_split_is_a_bad_split(self, tmp_path: Path, saved: bool) -> None:
        """A split the data does not have is a one-line BadSplitError, and nothing is cached."""
        csv = write_csv(tmp_path / "reviews.csv", 5)
        uri = str(csv)
        if saved:
            import datasets

            datasets.load_dataset("csv", data_files=uri, split="train").save_to_disk(
                str(tmp_path / "saved")
            )
            uri = str(tmp_path / "saved")
        with pytest.raises(BadSplitError, match="split 'validation'") as caught:
            fetch("dataset", Source(uri=uri, split="validation"), tmp_path / "cache")
        assert "\n" not in str(caught.value)
        assert [] == [p.name for p in (tmp_path / "cache" / "datasets").iterdir() if p.is_dir()]

    def test_relative_path_is_read_from_the_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The folder is the one cache_folder computes from the path as written."""
        (tmp_path / "experiments" / "demo" / "data").mkdir(parents=True)
        write_csv(tmp_path / "experiments" / "demo" / "data" / "train.csv", 4)
        monkeypatch.chdir(tmp_path)
        source = Source(uri="experiments/demo/data", split="train")
        folder = fetch("dataset", source, "cache")
        assert cache_folder("cache", "dataset", source) == folder
        assert 4 == len(load(folder)["train"])


class TestLocalChanges:
    """The copy is reused while the local files are unchanged and refreshed when they change."""

    def test_unchanged_source_is_not_copied_again(self, tmp_path: Path) -> None:
        """The second fetch returns the same folder without rewriting it."""
        csv = write_csv(tmp_path / "reviews.csv", 10)
        source = Source(uri=str(csv), split="train")
        folder = fetch("dataset", source, tmp_path / "cache")
        written = (current_folder(folder) / MARKER_NAME).stat().st_mtime_ns
        assert folder == fetch("dataset", source, tmp_path / "cache")
        assert written == (current_folder(folder) / MARKER_NAME).stat().st_mtime_ns

    def test_edited_source_is_fetched_again(self, tmp_path: Path) -> None:
        """Editing the CSV changes the content digest: a new copy, the pointer moves to it, and
        the old copy stays for a trial that may still be reading it."""
        csv = write_csv(tmp_path / "reviews.csv", 10)
        source = Source(uri=str(csv), split="train")
        folder = fetch("dataset", source, tmp_path / "cache")
        old = current_folder(folder)
        before = verify(folder)["resolved_revision"]
        write_csv(csv, 12)
        assert folder == fetch("dataset", source, tmp_path / "cache")
        assert 12 == len(load(folder)["train"])
        assert before != verify(folder)["resolved_revision"]
        assert (before, 10) == (verify(old)["resolved_revision"], len(load(old)["train"]))
        assert sorted([old.name, current_folder(folder).name]) == sorted(
            p.name for p in folder.iterdir() if p.is_dir()
        )

    def test_edited_back_reuses_the_first_copy(self, tmp_path: Path) -> None:
        """Content seen before is not copied again: the pointer moves back to its folder."""
        csv = write_csv(tmp_path / "reviews.csv", 10)
        source = Source(uri=str(csv), split="train")
        first = current_folder(fetch("dataset", source, tmp_path / "cache"))
        written = (first / MARKER_NAME).stat().st_mtime_ns
        write_csv(csv, 12)
        fetch("dataset", source, tmp_path / "cache")
        write_csv(csv, 10)
        folder = fetch("dataset", source, tmp_path / "cache")
        assert (first, written) == (
            current_folder(folder),
            (first / MARKER_NAME).stat().st_mtime_ns,
        )
