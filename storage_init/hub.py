"""Hugging Face Hub models and datasets through huggingface_hub.snapshot_download.

Files land in the hub cache first (resumable, shared between fetches, and the only place
HF_HUB_OFFLINE can read from), then the chosen files are hard-linked into the cache folder, so a
model costs its size once on the volume. The snapshot folder's name is the commit that `revision`
resolved to, which the marker records.

`resolve_commit` asks the Hub what a revision points at before anything is downloaded, so an
unchanged revision costs one small request and a moved branch is fetched again.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
from pathlib import Path

from .errors import HUB_SECRET_HINT, InvalidSourceError, from_hub, from_os_error
from .progress import Progress, folder_size
from .retry import RetryPolicy, with_retries
from .sources import (
    METADATA_PATTERNS,
    PICKLE_PATTERNS,
    SAFETENSORS_PATTERNS,
    SUBFOLDER_PATTERN,
    has_weights,
    select_model_files,
)

log = logging.getLogger("storage_init")
HUB_CACHE_FOLDER = ".hf-hub"
# Loading scripts are refused by datasets >= 4; without them the data files are read directly.
DATASET_IGNORE_PATTERNS = ["*.py", ".gitattributes"]
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def repo_folder(hub_cache: Path, repo_id: str, repo_type: str) -> Path:
    prefix = "datasets" if repo_type == "dataset" else "models"
    return hub_cache / f"{prefix}--{repo_id.replace('/', '--')}"


def resolve_commit(
    repo_id: str,
    repo_type: str,
    revision: str | None,
    hub_cache: Path | None,
    policy: RetryPolicy,
    credential: str = HUB_SECRET_HINT,
) -> str | None:
    """The commit `revision` (default: main) points at now; the one question the download Job
    and `hpo pin` ask the Hub before anything else.

    A full commit sha is its own answer and costs no request. With HF_HUB_OFFLINE the hub
    cache's refs answer, as they do for huggingface_hub itself; None when they cannot (or there
    is no `hub_cache`), and the caller reports what is missing. HF_ENDPOINT is read at the call,
    not when huggingface_hub was imported, so a process that set it late still asks its mirror.
    """
    if revision is not None and COMMIT.match(revision):
        return revision
    from huggingface_hub import HfApi, constants

    if constants.HF_HUB_OFFLINE:
        if hub_cache is None:
            return None
        ref = repo_folder(hub_cache, repo_id, repo_type) / "refs" / (revision or "main")
        return ref.read_text(encoding="utf-8").strip() if ref.is_file() else None
    endpoint = (os.environ.get("HF_ENDPOINT") or "").rstrip("/") or None

    def attempt() -> str:
        try:
            info = HfApi(endpoint=endpoint).repo_info(
                repo_id, repo_type=repo_type, revision=revision or "main"
            )
            return str(info.sha)
        except Exception as error:
            raise from_hub(error, repo_id, repo_type, revision, credential) from error

    at = f"hf://{repo_id}@{revision or 'main'}"
    return with_retries(policy, f"resolving {at}", attempt)


def hub_cache_dir(cache_dir: Path) -> Path:
    """HF_HUB_CACHE or HF_HOME/hub when set, else a folder on the cache volume itself.

    On the volume by default because a pod's own disk is small and hard links need one filesystem.
    """
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path(cache_dir) / HUB_CACHE_FOLDER


def snapshot(
    repo_id: str,
    repo_type: str,
    revision: str | None,
    hub_cache: Path,
    policy: RetryPolicy,
    allow_patterns: list[str] | None = None,
    ignore_patterns: list[str] | None = None,
) -> Path:
    """Download (or find in the hub cache) the matching files; returns snapshots/<commit>."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()  # our own Progress reports bytes and rate instead
    blobs = repo_folder(hub_cache, repo_id, repo_type) / "blobs"
    baseline = folder_size(blobs)

    def attempt() -> Path:
        try:
            folder = snapshot_download(
                repo_id,
                repo_type=repo_type,
                revision=revision,
                cache_dir=str(hub_cache),
                allow_patterns=allow_patterns,
                ignore_patterns=ignore_patterns,
            )
        except Exception as error:
            raise from_hub(error, repo_id, repo_type, revision) from error
        return Path(folder)

    with Progress(f"hf://{repo_id}", sample=lambda: max(0, folder_size(blobs) - baseline)):
        return with_retries(policy, f"downloading hf://{repo_id}", attempt)


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link a hub cache blob into the cache folder; copy across filesystems."""
    real = source.resolve()
    try:
        os.link(real, target)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise from_os_error(error, str(target)) from error
        try:
            shutil.copyfile(real, target)
        except OSError as copy_error:
            raise from_os_error(copy_error, str(target)) from copy_error


def fetch_model(
    repo_id: str, revision: str | None, destination: Path, hub_cache: Path, policy: RetryPolicy
) -> str:
    """Fetch what from_pretrained needs; returns the resolved commit."""
    metadata_and_safetensors = list(METADATA_PATTERNS + SAFETENSORS_PATTERNS)
    folder = snapshot(
        repo_id, "model", revision, hub_cache, policy, metadata_and_safetensors, [SUBFOLDER_PATTERN]
    )
    commit = folder.name
    present = [p.name for p in folder.iterdir() if p.is_file()]
    if not any(name.endswith(".safetensors") for name in present):
        # Second pass pinned to the same commit, so a branch that moves in between cannot mix files.
        log.info("hf://%s has no safetensors; fetching pytorch_model*.bin", repo_id)
        folder = snapshot(
            repo_id, "model", commit, hub_cache, policy, list(PICKLE_PATTERNS), [SUBFOLDER_PATTERN]
        )
        present = [p.name for p in folder.iterdir() if p.is_file()]
    chosen = select_model_files(present)
    if not has_weights(chosen):
        raise InvalidSourceError(
            f"hf://{repo_id}@{commit} has no PyTorch weights (*.safetensors or pytorch_model*.bin)"
        )
    for name in chosen:
        link_or_copy(folder / name, destination / name)
    return commit


def fetch_dataset(
    repo_id: str, revision: str | None, hub_cache: Path, policy: RetryPolicy
) -> tuple[Path, str]:
    """Fetch the whole dataset repo; returns (snapshot folder to read, resolved commit)."""
    folder = snapshot(
        repo_id, "dataset", revision, hub_cache, policy, None, DATASET_IGNORE_PATTERNS
    )
    return folder, folder.name
