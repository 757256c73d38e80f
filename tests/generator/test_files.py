"""The one atomic writer: whole files or none, readable by everyone who shares the checkout."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import os
import stat

import pytest

from generator.cli import main
from generator.files import write_atomically
from tests.generator.conftest import VALID_DEFINITION


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestWriteAtomically:
    """A file is replaced in one step, is 0644, and a failure leaves the old one."""

    def test_new_file_is_0644_and_its_folder_is_made(self, tmp_path):
        target = tmp_path / "a" / "b.yaml"
        write_atomically(target, "x: 1\n")
        assert ("x: 1\n", 0o644) == (target.read_text(), _mode(target))

    def test_replaces_the_content_and_leaves_no_temporary_file(self, tmp_path):
        target = tmp_path / "b.yaml"
        write_atomically(target, b"old\n")
        write_atomically(target, "new\n")
        assert ["b.yaml"] == os.listdir(tmp_path)
        assert "new\n" == target.read_text()

    def test_a_failed_write_keeps_the_old_file(self, tmp_path, monkeypatch):
        target = tmp_path / "b.yaml"
        write_atomically(target, "old\n")

        def refuse(source, destination):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "replace", refuse)
        with pytest.raises(OSError):
            write_atomically(target, "new\n")
        assert ("old\n", ["b.yaml"]) == (target.read_text(), os.listdir(tmp_path))


class TestRenderedFileModes:
    """hpo render writes files a person would: 0644, as git and a shared checkout expect."""

    def test_rendered_files_are_0644(self, repo):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["render"])
        rendered = sorted((repo.root / "rendered").rglob("*.yaml"))
        assert rendered
        assert {0o644} == {_mode(path) for path in rendered}
