"""Local paths: a model directory, a data file, a folder of data files or a save_to_disk folder.

Local sources have no revision, so the resolved revision is a fingerprint of their content: the
sha256 of every file that is used. A later run compares it with the marker and refreshes the
cache when the files changed, so `hpo tune --local` never trains on stale data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .cache import listing_digest, sha256_of
from .errors import InvalidSourceError, NotFoundError, from_os_error
from .sources import DATA_FILE_SUFFIXES, has_weights, select_model_files


def _visible_files(root: Path) -> list[str]:
    """Relative paths of the files under `root`, hidden files and folders left out."""
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            found.append(relative.as_posix())
    return sorted(found)


def used_files(kind: str, path: Path) -> tuple[Path, list[str]]:
    """The root and relative paths that a fetch of `path` reads."""
    if not path.exists():
        raise NotFoundError(
            f"local path {path} does not exist (relative paths are read from {Path.cwd()})"
        )
    if path.is_file():
        if kind == "model":
            raise InvalidSourceError(f"local model {path} must be a directory, not a file")
        return path.parent, [path.name]
    files = _visible_files(path)
    if kind == "model":
        files = select_model_files(files)
        if not has_weights(files):
            raise InvalidSourceError(
                f"local model {path} has no weights (*.safetensors or pytorch_model*.bin)"
            )
    elif not files:
        raise NotFoundError(f"local dataset folder {path} holds no files")
    return path, files


def fingerprint(kind: str, path: Path) -> str:
    """`sha256:<hex>` over the relative path, size and sha256 of every used file."""
    root, files = used_files(kind, path)
    listing = [[name, (root / name).stat().st_size, sha256_of(root / name)] for name in files]
    return "sha256:" + listing_digest(listing)


def copy_model(path: Path, destination: Path) -> None:
    root, files = used_files("model", path)
    for name in files:
        try:
            shutil.copyfile(root / name, destination / name)
        except OSError as error:
            raise from_os_error(error, str(destination)) from error


def dataset_path(path: Path) -> Path:
    """Datasets are read in place: the built DatasetDict is what gets written to the cache."""
    used_files("dataset", path)
    if path.is_file() and path.suffix.lower() not in DATA_FILE_SUFFIXES:
        known = ", ".join(sorted(DATA_FILE_SUFFIXES))
        raise InvalidSourceError(f"{path}: unsupported data file type; use one of {known}")
    return path
