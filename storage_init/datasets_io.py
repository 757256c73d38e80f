"""Turn fetched data (files, a folder of files, a save_to_disk folder) into the cached DatasetDict.

Whatever the source format, the cache holds a DatasetDict with a `train` split and, when asked,
an `eval` split, so the trainer has one way to read data. Split expressions use the datasets
syntax (`train[:1000]`, `train[:90%]`, `train+test`), also for save_to_disk folders, which the
datasets library cannot slice on load.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from .errors import BadSplitError, InvalidSourceError, StorageError, from_datasets
from .sources import DATA_FILE_SUFFIXES

log = logging.getLogger("storage_init")
SAVED_DATASET_FILES = ("dataset_dict.json", "state.json")


def is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in SAVED_DATASET_FILES)


def build_dataset_dict(
    raw: Path,
    split: str,
    eval_split: str | None,
    uri: str,
    work_dir: Path,
    *,
    partial: bool = False,
) -> Any:
    """Read `raw` and return DatasetDict({"train": ..., "eval": ...}) (eval only when asked).

    `partial`: `raw` holds only some shards of a Hub dataset (storage_init.hub_slices), so the
    split sizes its card states are not checked against them.
    """
    import datasets

    if not sys.stderr.isatty():
        datasets.disable_progress_bars()  # redrawn bars become noise in `kubectl logs`
    splits = {"train": split} | ({"eval": eval_split} if eval_split else {})
    chosen = {}
    for name, expression in splits.items():
        try:
            chosen[name] = _read_split(raw, expression, work_dir, partial)
        except StorageError:
            raise
        except Exception as error:
            raise from_datasets(error, uri, expression) from error
        log.info("%s split %s: %d rows from %s", name, expression, len(chosen[name]), uri)
    return datasets.DatasetDict(chosen)


def _read_split(raw: Path, expression: str, work_dir: Path, partial: bool = False) -> Any:
    import datasets

    cache_dir = str(work_dir / "datasets-cache")
    if is_saved_dataset(raw):
        return _slice_saved(datasets.load_from_disk(str(raw)), expression)
    if raw.is_file():
        builder = DATA_FILE_SUFFIXES.get(raw.suffix.lower())
        if builder is None:
            known = ", ".join(sorted(DATA_FILE_SUFFIXES))
            raise InvalidSourceError(f"{raw.name}: unsupported data file type; use one of {known}")
        return datasets.load_dataset(
            builder, data_files=str(raw), split=expression, cache_dir=cache_dir
        )
    checks = {"verification_mode": "no_checks"} if partial else {}
    return datasets.load_dataset(str(raw), split=expression, cache_dir=cache_dir, **checks)


def _slice_saved(saved: Any, expression: str) -> Any:
    """Apply a split expression to a loaded Dataset or DatasetDict, as load_dataset would."""
    import datasets

    available = {"train": saved} if isinstance(saved, datasets.Dataset) else dict(saved)
    try:
        instruction = datasets.ReadInstruction.from_spec(expression)
        absolute = instruction.to_absolute({name: len(ds) for name, ds in available.items()})
    except (AssertionError, KeyError, ValueError) as error:
        names = ", ".join(sorted(available))
        raise BadSplitError(
            f"split {expression!r} does not match the saved dataset (splits: {names}): "
            f"{str(error).strip() or 'unknown split'}"
        ) from error
    parts = [available[part.splitname].select(range(part.from_, part.to)) for part in absolute]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
