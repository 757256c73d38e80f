"""The storage-init image holds every module `python -m storage_init` imports."""

from __future__ import annotations

from pathlib import Path

from .imagecopy import REPO_ROOT, copy_lines, import_in_image_tree

DOCKERFILE = REPO_ROOT / "images" / "storage-init.Dockerfile"


class TestStorageInitImageFiles:
    """Only the files the Dockerfile copies are enough to start the CLI."""

    def test_cli_imports_from_the_copied_files_alone(self, tmp_path: Path) -> None:
        """storage_init.cli imports with PYTHONPATH holding nothing but the COPY sources."""
        result = import_in_image_tree(DOCKERFILE, tmp_path / "opt-hpo", "storage_init.cli")
        assert 0 == result.returncode, result.stderr

    def test_other_roles_stay_out(self) -> None:
        """The storage initializer stands alone: no other package of the project is copied."""
        sources = {s for paths, _ in copy_lines(DOCKERFILE) for s in paths}
        assert {"pyproject.toml", "README.md", "storage_init"} == sources
