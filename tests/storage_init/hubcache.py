"""Write a Hugging Face hub cache folder the way huggingface_hub lays one out.

`<cache>/<type>s--ORG--NAME/` with `blobs/<etag>` (sha256 for LFS files, git blob sha1 for small
ones), `snapshots/<commit>/<path>` symlinks to the blobs, `refs/<branch>` holding the commit, and
`trees/<commit>.json`, the tree listing that lets snapshot_download tell a complete snapshot from a
partial one when it cannot reach the Hub. With HF_HUB_OFFLINE=1 the library resolves from it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

LFS_SUFFIXES = (".safetensors", ".bin", ".parquet", ".arrow")


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def add_repo(
    hub_cache: Path,
    repo_id: str,
    files: dict[str, bytes],
    *,
    repo_type: str = "model",
    refs: tuple[str, ...] = ("main",),
    cached: set[str] | None = None,
) -> str:
    """Add one commit of a repo; `cached` limits which files are present (default: all)."""
    folder = hub_cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    listing = {name: git_blob_id(data) for name, data in sorted(files.items())}
    commit = hashlib.sha1(json.dumps(listing, sort_keys=True).encode()).hexdigest()
    snapshot = folder / "snapshots" / commit
    tree = {}
    for name, data in sorted(files.items()):
        entry = {"size": len(data), "blob_id": listing[name]}
        etag = listing[name]
        if name.endswith(LFS_SUFFIXES):
            etag = hashlib.sha256(data).hexdigest()
            entry |= {"lfs_sha256": etag, "lfs_size": len(data)}
        tree[name] = entry
        if cached is not None and name not in cached:
            continue
        blob = folder / "blobs" / etag
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    snapshot.mkdir(parents=True, exist_ok=True)
    for ref in refs:
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        (folder / "refs" / ref).write_text(commit)
    (folder / "trees").mkdir(parents=True, exist_ok=True)
    (folder / "trees" / f"{commit}.json").write_text(
        json.dumps({"format_version": 1, "files": tree}, indent=1)
    )
    return commit


def read_folder(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
