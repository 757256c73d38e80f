"""Cache folder names, the completion marker and the pointer to the current copy.

Standard library only (and the project's exception root, storage_init.exits, which is too): the
generator imports this module to put cache folders into trial commands, and the trainer calls
`verify` before it loads anything. Both must agree with the download Job byte for byte, so the
folder a trial names is a pure function of the source as the definition states it (a relative
local path is keyed as written, never resolved against a working directory).

That folder is the *reference* folder. What the source resolved to when it was fetched (a Hub
commit, S3 ETags, a digest of local files) is only known at download time, so each resolved
identity gets a *content* folder inside the reference folder, complete with its marker, and
`hpo-current.json`, written atomically last, names the content folder that is current:

    <cache_dir>/<kind>s/<reference key>/hpo-current.json       {"content": "<content key>"}
    <cache_dir>/<kind>s/<reference key>/<content key>/         the files and hpo-cache.json

A moved branch or an overwritten object gets a new content folder and the pointer moves; the old
content folder stays, since a trial that started earlier may still be reading it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import CacheIncompleteError, InvalidSourceError

MARKER_NAME = "hpo-cache.json"
POINTER_NAME = "hpo-current.json"
KINDS = ("model", "dataset")
# Part of every key: bump it when the folder content for the same source changes shape, so old
# folders are never read by new trainers. 2: reference folders holding content folders.
LAYOUT_VERSION = 2
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

    def describe(self) -> str:
        """The source as a person names it: `hf://org/name@main`, `s3://bucket/key`, a path."""
        return f"{self.uri}@{self.revision}" if self.revision else self.uri


def _short_digest(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def cache_key(kind: str, source: Source) -> str:
    """The reference key: short hex digest of the canonical JSON of the kind and every field."""
    if kind not in KINDS:
        raise InvalidSourceError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return _short_digest({"kind": kind, "layout": LAYOUT_VERSION, **asdict(source)})


def content_key(reference_key: str, resolved_revision: str) -> str:
    """The content folder's name: the reference key and what the source resolved to."""
    return _short_digest({"reference": reference_key, "resolved": resolved_revision})


def cache_folder(cache_dir: str | os.PathLike[str], kind: str, source: Source) -> Path:
    """`<cache_dir>/<kind>s/<key>`: the reference folder trial commands name."""
    return Path(cache_dir) / f"{kind}s" / cache_key(kind, source)


def listing_digest(listing: list[Any]) -> str:
    """sha256 hex of a JSON listing (no spaces): one rule for every identity made of files."""
    return hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode("utf-8")).hexdigest()


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


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_marker(
    folder: Path,
    kind: str,
    source: Source,
    resolved_revision: str,
    *,
    resolved: dict[str, Any] | None = None,
    fetched_at: str | None = None,
) -> dict[str, Any]:
    """Describe every file in `folder` and write the marker last, atomically.

    `resolved_revision` is the identity (Hub commit, `etags:sha256:…`, `sha256:…`); `resolved`
    holds its details (the commit, each S3 object's ETag and VersionId, the files taken).
    """
    key = cache_key(kind, source)
    marker = {
        "kind": kind,
        "key": key,
        "content": content_key(key, resolved_revision),
        "source": asdict(source),
        "resolved_revision": resolved_revision,
        "resolved": resolved or {},
        "fetched_at": fetched_at or utc_now(),
        "files": describe_files(folder),
    }
    _write_json(folder / MARKER_NAME, marker)
    return marker


def _write_json(path: Path, document: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The parsed marker, or None when there is none or it cannot be parsed."""
    try:
        marker = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or not isinstance(marker.get("files"), dict):
        return None
    return marker


def read_pointer(reference: Path) -> str | None:
    """The content folder name `hpo-current.json` names, or None when there is none."""
    try:
        pointer = json.loads((Path(reference) / POINTER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    content = pointer.get("content") if isinstance(pointer, dict) else None
    if not isinstance(content, str) or not content or "/" in content or content.startswith("."):
        return None
    return content


def write_pointer(reference: Path, content: str) -> None:
    """Make `<reference>/<content>` the current copy: one atomic rename, written last."""
    _write_json(Path(reference) / POINTER_NAME, {"content": content})


def current_folder(folder: str | os.PathLike[str]) -> Path:
    """The folder to read: the content folder a reference folder points at, or `folder` itself
    when it holds a marker (a content folder, or one written by hand)."""
    folder = Path(folder)
    rerun = "the storage-init Job has not completed; check its logs and rerun it"
    if not folder.is_dir():
        raise CacheIncompleteError(f"{folder} does not exist: {rerun}")
    if (folder / MARKER_NAME).is_file():
        return folder
    if not (folder / POINTER_NAME).is_file():
        raise CacheIncompleteError(f"{folder} has no {MARKER_NAME}: {rerun}")
    content = read_pointer(folder)
    if content is None:
        raise CacheIncompleteError(f"{folder}/{POINTER_NAME} is damaged: delete {folder} and rerun")
    return folder / content


def verified(
    folder: str | os.PathLike[str], *, checksums: bool = False
) -> tuple[Path, dict[str, Any]]:
    """(the folder to read, its marker): `folder` followed to its current content and checked.

    Sizes are always checked; `checksums=True` also re-hashes every file (slow for large models).
    Files that are not in the marker are allowed: readers may add their own caches beside them.
    """
    content = current_folder(folder)
    rerun = "the storage-init Job has not completed; check its logs and rerun it"
    if not content.is_dir():
        raise CacheIncompleteError(f"{content} does not exist: {rerun}")
    if not (content / MARKER_NAME).is_file():
        raise CacheIncompleteError(f"{content} has no {MARKER_NAME}: {rerun}")
    marker = read_marker(content)
    if marker is None:
        raise CacheIncompleteError(
            f"{content}/{MARKER_NAME} is damaged: delete {content} and rerun"
        )
    damaged = f"delete {content} and rerun the storage-init Job"
    for relative, expected in sorted(marker["files"].items()):
        path = content / relative
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
    return content, marker


def verify(folder: str | os.PathLike[str], *, checksums: bool = False) -> dict[str, Any]:
    """Check that `folder` (a reference or content folder) holds a completed download; return
    the marker of the copy it names. See `verified`."""
    return verified(folder, checksums=checksums)[1]
