"""Cache folder names and the completion marker.

Standard library only (and the project's exception root, generator.errors, which is too): the
generator imports this module to put cache folders into trial
commands, and the trainer calls `verify` before it loads anything. Both must agree with the
download Job byte for byte, so the key is a pure function of the source as the definition states
it (a relative local path is keyed as written, never resolved against a working directory).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import CacheIncompleteError, InvalidSourceError

MARKER_NAME = "hpo-cache.json"
KINDS = ("model", "dataset")
# Part of every key: bump it when the folder content for the same source changes shape, so old
# folders are never read by new trainers.
LAYOUT_VERSION = 1
KEY_LENGTH = 16
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """What to fetch, exactly as the definition states it. Never holds a credential."""

    uri: str
    revision: str | None = None
    endpoint_url: str | None = None
    split: str | None = None
    eval_split: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.uri, str) or not self.uri.strip():
            raise InvalidSourceError("a source needs a non-empty uri")
        for name in ("revision", "endpoint_url", "split", "eval_split"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InvalidSourceError(f"source field {name} must be a non-empty string or null")


def cache_key(kind: str, source: Source) -> str:
    """Short hex digest of the canonical JSON of the kind and every source field."""
    if kind not in KINDS:
        raise InvalidSourceError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    document = {"kind": kind, "layout": LAYOUT_VERSION, **asdict(source)}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def cache_folder(cache_dir: str | os.PathLike[str], kind: str, source: Source) -> Path:
    """`<cache_dir>/<kind>s/<key>`: where the fetched model or dataset lives."""
    return Path(cache_dir) / f"{kind}s" / cache_key(kind, source)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def describe_files(folder: Path) -> dict[str, dict[str, Any]]:
    """Relative POSIX path → {size, sha256} for every file under `folder` but the marker."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative == MARKER_NAME:
            continue
        files[relative] = {"size": path.stat().st_size, "sha256": sha256_of(path)}
    return files


def write_marker(folder: Path, kind: str, source: Source, resolved_revision: str) -> dict[str, Any]:
    """Describe every file in `folder` and write the marker last, atomically."""
    marker = {
        "kind": kind,
        "key": cache_key(kind, source),
        "source": asdict(source),
        "resolved_revision": resolved_revision,
        "files": describe_files(folder),
    }
    temporary = folder / f".{MARKER_NAME}.tmp"
    temporary.write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, folder / MARKER_NAME)
    return marker


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The parsed marker, or None when there is none or it cannot be parsed."""
    try:
        marker = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or not isinstance(marker.get("files"), dict):
        return None
    return marker


def verify(folder: str | os.PathLike[str], *, checksums: bool = False) -> dict[str, Any]:
    """Check that `folder` is a completed download and return its marker.

    Sizes are always checked; `checksums=True` also re-hashes every file (slow for large models).
    Files that are not in the marker are allowed: readers may add their own caches beside them.
    """
    folder = Path(folder)
    rerun = "the storage-init Job has not completed; check its logs and rerun it"
    if not folder.is_dir():
        raise CacheIncompleteError(f"{folder} does not exist: {rerun}")
    if not (folder / MARKER_NAME).is_file():
        raise CacheIncompleteError(f"{folder} has no {MARKER_NAME}: {rerun}")
    marker = read_marker(folder)
    if marker is None:
        raise CacheIncompleteError(f"{folder}/{MARKER_NAME} is damaged: delete {folder} and rerun")
    for relative, expected in sorted(marker["files"].items()):
        path = folder / relative
        damaged = f"delete {folder} and rerun the storage-init Job"
        if not path.is_file():
            raise CacheIncompleteError(f"{path} is listed in {MARKER_NAME} but missing: {damaged}")
        size = path.stat().st_size
        if size != expected.get("size"):
            raise CacheIncompleteError(
                f"{path} has {size} bytes, {MARKER_NAME} says {expected.get('size')}: {damaged}"
            )
        if checksums and sha256_of(path) != expected.get("sha256"):
            raise CacheIncompleteError(
                f"{path} does not match its sha256 in {MARKER_NAME}: {damaged}"
            )
    return marker
