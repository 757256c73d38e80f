"""The trainer image holds every module `python -m trainer` imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage_init.imagecopy import REPO_ROOT, import_in_image_tree

DOCKERFILE = REPO_ROOT / "images" / "trainer.Dockerfile"


class TestTrainerImageFiles:
    """Only the files the Dockerfile copies are enough to start a trial."""

    @pytest.mark.slow  # loading torch and transformers takes about 15 s on a shared CPU
    def test_trainer_imports_from_the_copied_files_alone(self, tmp_path: Path) -> None:
        """trainer.cli and trainer.recipe import with PYTHONPATH holding only the COPY sources."""
        modules = ("trainer.cli", "trainer.recipe")
        result = import_in_image_tree(DOCKERFILE, tmp_path / "opt-hpo", *modules)
        assert 0 == result.returncode, result.stderr
