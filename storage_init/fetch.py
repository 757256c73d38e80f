"""Fetch one model or dataset into its content-addressed cache folder, exactly once.

The order matters: check the marker (no network when it is there), take the per-key lock, check
again (another process may have finished while we waited), download into a temporary sibling,
write the marker last, then rename the folder into place. A reader therefore sees either no folder
or a complete one, and a failed download leaves only temporary folders that the next run removes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from . import hub, local, s3
from .cache import KINDS, Source, cache_folder, verify, write_marker
from .datasets_io import build_dataset_dict
from .errors import CacheIncompleteError, InvalidSourceError, StorageError, from_os_error
from .retry import RetryPolicy
from .sources import HubRepo, LocalPath, Location, S3Location, parse_uri

log = logging.getLogger("storage_init")
TEMPORARY_MARKS = (".tmp-", ".work-", ".stale-")


def fetch(
    kind: str,
    source: Source,
    cache_dir: str | os.PathLike[str],
    *,
    region: str | None = None,
    retry: RetryPolicy | None = None,
) -> Path:
    """Make `<cache_dir>/<kind>s/<key>` a complete copy of `source` and return it."""
    location = check_source(kind, source)
    policy = retry or RetryPolicy.from_env()
    folder = cache_folder(cache_dir, kind, source)
    # A local source has no revision to pin, so its content decides whether the copy is current.
    local_revision = None
    if isinstance(location, LocalPath):
        local_revision = local.fingerprint(kind, location.path)
    if _is_current(folder, local_revision):
        log.info("%s %s is already cached in %s", kind, source.uri, folder)
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise from_os_error(error, str(folder.parent)) from error
    with _exclusive(folder.parent / f".{folder.name}.lock", folder.name):
        if _is_current(folder, local_revision):
            log.info("%s %s was fetched by another process into %s", kind, source.uri, folder)
            return folder
        _remove_leftovers(folder)
        log.info("fetching %s %s into %s", kind, source.uri, folder)
        staging = work = None
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
            work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.work-", dir=folder.parent))
            resolved = _fetch_into(
                kind, location, source, staging, work, Path(cache_dir), region, policy
            )
            write_marker(staging, kind, source, local_revision or resolved)
            staging.chmod(0o755)  # mkdtemp makes it private; trials may run as another user
            _publish(staging, folder)
        except OSError as error:
            raise from_os_error(error, str(folder)) from error
        finally:
            for leftover in (staging, work):
                if leftover is not None and leftover.exists():
                    shutil.rmtree(leftover, ignore_errors=True)
    log.info("fetched %s %s into %s", kind, source.uri, folder)
    return folder


def check_source(kind: str, source: Source) -> Location:
    """Reject combinations that cannot be fetched, before anything touches the network."""
    if kind not in KINDS:
        raise InvalidSourceError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "model" and (source.split or source.eval_split):
        raise InvalidSourceError("split and eval_split apply to datasets, not models")
    if kind == "dataset" and not source.split:
        raise InvalidSourceError("a dataset needs a split, e.g. train or train[:1000]")
    location = parse_uri(source.uri)
    if source.revision and not isinstance(location, HubRepo):
        raise InvalidSourceError(f"revision applies to hf:// sources only, not {source.uri}")
    if source.endpoint_url:
        if not isinstance(location, S3Location):
            raise InvalidSourceError(f"endpoint_url applies to s3:// sources, not {source.uri}")
        parts = urlsplit(source.endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidSourceError(f"endpoint_url {source.endpoint_url!r} is not an http(s) URL")
        if parts.username or parts.password:
            raise InvalidSourceError(
                "endpoint_url must not contain credentials; put them in the S3 Secret"
            )
    return location


def _fetch_into(
    kind: str,
    location: Location,
    source: Source,
    staging: Path,
    work: Path,
    cache_dir: Path,
    region: str | None,
    policy: RetryPolicy,
) -> str:
    """Put the model files, or the built DatasetDict, into `staging`; return the revision."""
    if isinstance(location, HubRepo):
        hub_cache = hub.hub_cache_dir(cache_dir)
        if kind == "model":
            return hub.fetch_model(location.repo_id, source.revision, staging, hub_cache, policy)
        raw, resolved = hub.fetch_dataset(location.repo_id, source.revision, hub_cache, policy)
    elif isinstance(location, S3Location):
        try:
            client = s3.make_client(source.endpoint_url, region)
        except Exception as error:
            raise InvalidSourceError(f"cannot create an S3 client: {error}") from error
        if kind == "model":
            return s3.fetch_model(location, staging, client, policy)
        raw, resolved = s3.fetch_dataset(location, work, client, policy)
    else:
        if kind == "model":
            local.copy_model(location.path, staging)
            return ""  # replaced by the fingerprint computed before the fetch
        raw, resolved = local.dataset_path(location.path), ""
    assert source.split is not None  # check_source guarantees it for datasets
    dataset_dict = build_dataset_dict(raw, source.split, source.eval_split, source.uri, work)
    dataset_dict.save_to_disk(str(staging))
    return resolved


def _is_current(folder: Path, local_revision: str | None) -> bool:
    try:
        marker = verify(folder)
    except CacheIncompleteError as error:
        if folder.exists():
            log.warning("%s; fetching again", error)
        return False
    if local_revision is not None and marker.get("resolved_revision") != local_revision:
        log.info("the local source of %s changed since it was cached; fetching again", folder)
        return False
    return True


@contextmanager
def _exclusive(lock_path: Path, key: str) -> Iterator[None]:
    """Hold an flock on `lock_path`: one fetch per key at a time, across processes and pods."""
    try:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise from_os_error(error, str(lock_path)) from error
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is fetching %s; waiting for it to finish", key)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock, also when the process dies


def _remove_leftovers(folder: Path) -> None:
    """Temporary folders of this key left by a crashed run (safe: we hold the key's lock)."""
    for entry in folder.parent.glob(f".{folder.name}.*"):
        if entry.is_dir() and any(mark in entry.name for mark in TEMPORARY_MARKS):
            shutil.rmtree(entry, ignore_errors=True)


def _publish(staging: Path, folder: Path) -> None:
    """Rename `staging` to `folder`, moving a stale or damaged folder out of the way first."""
    if not folder.exists():
        os.rename(staging, folder)
        return
    stale = folder.with_name(f".{folder.name}.stale-{os.getpid()}")
    os.rename(folder, stale)
    os.rename(staging, folder)
    shutil.rmtree(stale, ignore_errors=True)


__all__ = ["fetch", "check_source", "StorageError"]
