"""The cache key, the folder layout and the completion marker (storage_init.cache)."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from storage_init.cache import (
    MARKER_NAME,
    POINTER_NAME,
    Source,
    cache_folder,
    cache_key,
    content_key,
    current_folder,
    listing_digest,
    verified,
    verify,
    write_marker,
    write_pointer,
)
from storage_init.errors import CacheIncompleteError, InvalidSourceError

from .conftest import REPO_ROOT

IMDB = Source(uri="hf://stanfordnlp/imdb", revision="main", split="train[:1000]")


class TestCacheKey:
    """The key is a pure, stable function of kind and every source field."""

    def test_key_is_pinned(self) -> None:
        """Rendered manifests embed this value: changing the algorithm must be deliberate."""
        assert "7ba9f8a6f699a363" == cache_key("dataset", IMDB)

    def test_key_is_the_digest_of_canonical_json(self) -> None:
        """Sorted keys, no spaces, a layout version: what another implementation must hash."""
        canonical = (
            '{"endpoint_url":null,"eval_split":null,"kind":"dataset","layout":2,'
            '"revision":"main","split":"train[:1000]","uri":"hf://stanfordnlp/imdb"}'
        )
        expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
        assert expected == cache_key("dataset", IMDB)

    def test_key_is_short_hex(self) -> None:
        """16 lowercase hex characters, usable as a folder name."""
        key = cache_key("model", Source(uri="hf://org/name"))
        assert 16 == len(key)
        assert set(key) <= set("0123456789abcdef")

    @pytest.mark.parametrize(
        "change",
        [
            {"uri": "hf://stanfordnlp/imdb2"},
            {"revision": "0123abc"},
            {"endpoint_url": "http://minio:9000"},
            {"split": "train[:2000]"},
            {"eval_split": "test"},
        ],
    )
    def test_every_field_changes_the_key(self, change: dict) -> None:
        """Two sources that differ in any field never share a folder."""
        assert cache_key("dataset", IMDB) != cache_key("dataset", replace(IMDB, **change))

    def test_kind_changes_the_key(self) -> None:
        """A model and a dataset from the same URI get different keys."""
        source = Source(uri="s3://bucket/prefix")
        assert cache_key("model", source) != cache_key("dataset", source)

    def test_relative_path_is_keyed_as_written(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The generator and the Job agree whatever their working directory."""
        source = Source(uri="experiments/minilm-imdb-demo/data", split="train")
        first = cache_key("dataset", source)
        monkeypatch.chdir(tmp_path)
        assert first == cache_key("dataset", source)
        absolute = Source(uri=str(REPO_ROOT / source.uri), split="train")
        assert first != cache_key("dataset", absolute)

    def test_folder_layout(self) -> None:
        """<cache_dir>/<kind>s/<key>, as the volume layout in docs/interfaces.md says."""
        key = cache_key("dataset", IMDB)
        assert Path("/workspace/cache/datasets") / key == cache_folder(
            "/workspace/cache", "dataset", IMDB
        )

    def test_unknown_kind_is_refused(self) -> None:
        """Only model and dataset have folders."""
        with pytest.raises(InvalidSourceError, match="kind must be one of model, dataset"):
            cache_key("tokenizer", IMDB)

    def test_empty_fields_are_refused(self) -> None:
        """An empty string is not a value; None is."""
        with pytest.raises(InvalidSourceError, match="uri"):
            Source(uri=" ")
        with pytest.raises(InvalidSourceError, match="revision"):
            Source(uri="hf://a/b", revision="")


class TestStandardLibraryOnly:
    """The generator can import storage_init.cache without any SDK installed."""

    def test_import_loads_only_standard_modules(self) -> None:
        """A fresh interpreter that imports the module loads nothing outside the stdlib but the
        project's exception root (generator.errors, itself standard-library only)."""
        probe = (
            "import json, sys; before = set(sys.modules); import storage_init.cache; "
            "new = set(sys.modules) - before; "
            "print(json.dumps(sorted(m for m in new if m.split('.')[0] not in "
            "sys.stdlib_module_names and m.split('.')[0] != 'storage_init' "
            "and m not in ('generator', 'generator.errors'))))"
        )
        result = subprocess.run(
            [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert 0 == result.returncode, result.stderr
        assert [] == json.loads(result.stdout)


def _complete_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "models" / "k"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"a": 1}')
    (folder / "sub" / "weights.bin").write_bytes(b"\0" * 10)
    write_marker(folder, "model", Source(uri="s3://b/p"), "etags:sha256:abc")
    return folder


class TestMarker:
    """hpo-cache.json records the source, the resolved revision and every file."""

    def test_marker_content(self, tmp_path: Path) -> None:
        """Source fields, the resolved identity with its details and fetch time, the content
        folder's key, and size plus sha256 per relative path."""
        folder = tmp_path / "k"
        folder.mkdir()
        (folder / "config.json").write_text('{"a": 1}')
        details = {"objects": [{"key": "p/config.json", "etag": "e1", "version_id": "v1"}]}
        write_marker(
            folder,
            "model",
            Source(uri="s3://b/p"),
            "etags:sha256:abc",
            resolved=details,
            fetched_at="2026-05-01T10:00:00Z",
        )
        marker = json.loads((folder / MARKER_NAME).read_text())
        reference = cache_key("model", Source(uri="s3://b/p"))
        assert (reference, content_key(reference, "etags:sha256:abc")) == (
            marker["key"],
            marker["content"],
        )
        assert (details, "2026-05-01T10:00:00Z") == (marker["resolved"], marker["fetched_at"])

    def test_marker_lists_every_file(self, tmp_path: Path) -> None:
        """Source fields, resolved revision, and size plus sha256 per relative path."""
        folder = _complete_folder(tmp_path)
        marker = json.loads((folder / MARKER_NAME).read_text())
        assert {
            "uri": "s3://b/p",
            "revision": None,
            "endpoint_url": None,
            "split": None,
            "eval_split": None,
        } == marker["source"]
        assert "etags:sha256:abc" == marker["resolved_revision"]
        assert ["config.json", "sub/weights.bin"] == sorted(marker["files"])
        assert {
            "size": 10,
            "sha256": "01d448afd928065458cf670b60f5a594d735af0172c8d67f22a81680132681ca",
        } == marker["files"]["sub/weights.bin"]

    def test_verify_returns_the_marker(self, tmp_path: Path) -> None:
        """A complete folder passes, with and without checksums."""
        folder = _complete_folder(tmp_path)
        assert "etags:sha256:abc" == verify(folder)["resolved_revision"]
        assert "etags:sha256:abc" == verify(folder, checksums=True)["resolved_revision"]

    def test_extra_files_are_allowed(self, tmp_path: Path) -> None:
        """Readers may add caches beside the fetched files (datasets does)."""
        folder = _complete_folder(tmp_path)
        (folder / "cache-123.arrow").write_bytes(b"x")
        verify(folder)

    def test_missing_folder_says_the_job_has_not_completed(self, tmp_path: Path) -> None:
        """The trainer fails fast with the reason, before loading anything."""
        with pytest.raises(CacheIncompleteError, match="does not exist: the storage-init Job"):
            verify(tmp_path / "models" / "nothing")

    def test_folder_without_marker_is_incomplete(self, tmp_path: Path) -> None:
        """Files without a marker are a download that did not finish."""
        folder = _complete_folder(tmp_path)
        (folder / MARKER_NAME).unlink()
        with pytest.raises(CacheIncompleteError, match=f"has no {MARKER_NAME}"):
            verify(folder)

    def test_damaged_marker(self, tmp_path: Path) -> None:
        """A marker that is not the expected JSON is reported, not trusted."""
        folder = _complete_folder(tmp_path)
        (folder / MARKER_NAME).write_text("{not json")
        with pytest.raises(CacheIncompleteError, match="is damaged"):
            verify(folder)

    def test_missing_file(self, tmp_path: Path) -> None:
        """A listed file that is gone fails verification."""
        folder = _complete_folder(tmp_path)
        (folder / "sub" / "weights.bin").unlink()
        with pytest.raises(CacheIncompleteError, match="weights.bin is listed .* but missing"):
            verify(folder)

    def test_size_mismatch(self, tmp_path: Path) -> None:
        """A truncated file fails the cheap check."""
        folder = _complete_folder(tmp_path)
        (folder / "sub" / "weights.bin").write_bytes(b"\0" * 4)
        with pytest.raises(CacheIncompleteError, match="has 4 bytes, hpo-cache.json says 10"):
            verify(folder)

    def test_content_change_needs_checksums(self, tmp_path: Path) -> None:
        """Same size, other bytes: only checksums=True notices."""
        folder = _complete_folder(tmp_path)
        (folder / "sub" / "weights.bin").write_bytes(b"\1" * 10)
        verify(folder)
        with pytest.raises(CacheIncompleteError, match="does not match its sha256"):
            verify(folder, checksums=True)


def _reference_with(tmp_path: Path, *identities: str) -> Path:
    """A reference folder holding one complete content folder per identity, pointing at the
    last."""
    reference = tmp_path / "datasets" / "ref"
    for identity in identities:
        content = reference / content_key("ref", identity)
        content.mkdir(parents=True)
        (content / "rows.txt").write_text(identity)
        write_marker(content, "dataset", Source(uri="d.csv", split="train"), identity)
        write_pointer(reference, content.name)
    return reference


class TestReferenceFolders:
    """A reference folder points at one content folder per resolved identity."""

    def test_content_key_depends_on_reference_and_identity(self) -> None:
        """Another identity or another reference never shares a content folder."""
        keys = {
            content_key("a" * 16, "sha256:1"),
            content_key("a" * 16, "sha256:2"),
            content_key("b" * 16, "sha256:1"),
        }
        assert 3 == len(keys)
        assert content_key("a" * 16, "sha256:1") == content_key("a" * 16, "sha256:1")

    def test_verify_follows_the_pointer(self, tmp_path: Path) -> None:
        """verify(reference) is the marker of the copy the pointer names; verified says where."""
        reference = _reference_with(tmp_path, "sha256:old", "sha256:new")
        folder, marker = verified(reference)
        assert reference / content_key("ref", "sha256:new") == folder
        assert "sha256:new" == marker["resolved_revision"] == verify(reference)["resolved_revision"]
        assert "sha256:new" == (current_folder(reference) / "rows.txt").read_text()

    def test_old_copies_stay_readable(self, tmp_path: Path) -> None:
        """A trial that started on the old copy can still verify and read it."""
        reference = _reference_with(tmp_path, "sha256:old", "sha256:new")
        old = reference / content_key("ref", "sha256:old")
        assert "sha256:old" == verify(old)["resolved_revision"]

    def test_pointer_names_the_content_folder(self, tmp_path: Path) -> None:
        """hpo-current.json names the content folder and nothing else."""
        reference = _reference_with(tmp_path, "sha256:one")
        assert {"content": content_key("ref", "sha256:one")} == json.loads(
            (reference / POINTER_NAME).read_text()
        )

    def test_pointer_to_a_missing_copy(self, tmp_path: Path) -> None:
        """A pointer whose folder was deleted is a download that must be rerun."""
        reference = _reference_with(tmp_path, "sha256:one")
        write_pointer(reference, "0123456789abcdef")
        with pytest.raises(CacheIncompleteError, match="0123456789abcdef does not exist"):
            verify(reference)

    @pytest.mark.parametrize("text", ["{not json", '{"content": "../elsewhere"}', "[]"])
    def test_damaged_pointer(self, tmp_path: Path, text: str) -> None:
        """A pointer that does not name a folder inside the reference is not followed."""
        reference = _reference_with(tmp_path, "sha256:one")
        (reference / POINTER_NAME).write_text(text)
        with pytest.raises(CacheIncompleteError, match=f"{POINTER_NAME} is damaged"):
            verify(reference)

    def test_reference_without_pointer_is_incomplete(self, tmp_path: Path) -> None:
        """A reference folder with no pointer yet has no copy to read."""
        (tmp_path / "datasets" / "ref").mkdir(parents=True)
        with pytest.raises(CacheIncompleteError, match=f"has no {MARKER_NAME}: the storage-init"):
            verify(tmp_path / "datasets" / "ref")


class TestIdentityDigest:
    """One digest rule for the identities made of files: S3 ETags and local content."""

    def test_s3_and_local_identities_share_the_digest(self, tmp_path: Path) -> None:
        """revision_of and fingerprint are listing_digest over their listings."""
        from storage_init import local, s3

        objects = [
            s3.S3Object("p/b.csv", "b.csv", 3, "e2"),
            s3.S3Object("p/a.csv", "a.csv", 1, "e1"),
        ]
        listing = [["p/a.csv", 1, "e1"], ["p/b.csv", 3, "e2"]]
        assert "etags:sha256:" + listing_digest(listing) == s3.revision_of(objects)
        (tmp_path / "a.csv").write_text("x")
        hashed = [["a.csv", 1, hashlib.sha256(b"x").hexdigest()]]
        assert "sha256:" + listing_digest(hashed) == local.fingerprint(
            "dataset", tmp_path / "a.csv"
        )
