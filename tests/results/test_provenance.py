"""Provenance reads what the download fetched from its markers, and says so when it cannot."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.rendering.manifest_params import dataset_source, model_source
from results.definition import NO_CACHE, provenance
from results.model import Fetched
from storage_init.cache import (
    MARKER_NAME,
    cache_folder,
    content_key,
    write_marker,
    write_pointer,
)
from tests.results.conftest import definition_record

SPEC = definition_record().spec
COMMIT = "9a8b7c6d5e4f30211f2e3d4c5b6a79881726354a"


def fetched_model(cache: Path, identity: str = COMMIT) -> Path:
    """A reference folder pointing at a complete copy, as the download Job leaves one."""
    reference = cache_folder(cache, "model", model_source(SPEC))
    content = reference / content_key(reference.name, identity)
    content.mkdir(parents=True)
    (content / "config.json").write_text("{}")
    write_marker(content, "model", model_source(SPEC), identity, fetched_at="2026-05-01T10:00:00Z")
    write_pointer(reference, content.name)
    return content


class TestFromMarkers:
    """The copy the reference folder points at is the one recorded."""

    def test_identity_and_time_of_the_current_copy(self, tmp_path: Path) -> None:
        """After the pointer moved, the newer copy is what provenance names."""
        fetched_model(tmp_path, "0" * 40)
        fetched_model(tmp_path)
        recorded = provenance(SPEC, cache_dir=tmp_path)
        assert Fetched(COMMIT, "2026-05-01T10:00:00Z") == recorded.model_fetched
        assert ("hf://meta-llama/Llama-3.2-1B", "4e20de362430cd3b72f300e6b0f18e50e7166e08") == (
            recorded.model_uri,
            recorded.model_revision,
        )

    def test_the_folders_are_the_trial_commands(self, tmp_path: Path) -> None:
        """The dataset's reference folder is keyed by its split, as the generator keys it."""
        folder = cache_folder(tmp_path, "dataset", dataset_source(SPEC))
        recorded = provenance(SPEC, cache_dir=tmp_path).dataset_fetched
        assert str(folder) in recorded.unread


class TestUnreadable:
    """A marker that cannot be read becomes a note; nothing raises."""

    def test_no_cache_given(self) -> None:
        """Without a cache folder (hpo results by hand) provenance says where it would look."""
        assert Fetched(unread=NO_CACHE) == provenance(SPEC).model_fetched

    def test_damaged_marker(self, tmp_path: Path) -> None:
        """Not JSON: the note says which file and what to do."""
        content = fetched_model(tmp_path)
        (content / MARKER_NAME).write_text("{not json")
        note = provenance(SPEC, cache_dir=tmp_path).model_fetched
        assert (None, f"{content}/{MARKER_NAME} is damaged: delete {content} and rerun") == (
            note.resolved,
            note.unread,
        )

    @pytest.mark.parametrize("missing", ["config.json", "pointed-at folder"])
    def test_incomplete_copy(self, tmp_path: Path, missing: str) -> None:
        """A file gone, or the folder the pointer names: the copy is not claimed."""
        content = fetched_model(tmp_path)
        if missing == "config.json":
            (content / "config.json").unlink()
        else:
            shutil.rmtree(content)
        note = provenance(SPEC, cache_dir=tmp_path).model_fetched
        assert None is note.resolved
        assert ("is listed in" if missing == "config.json" else "does not exist") in note.unread
