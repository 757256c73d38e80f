"""Fetch one model or dataset into its cache folder: once per identity, and safe when run twice.

The order matters: resolve what the source is now (one small request, or hashing local files),
and stop when the content folder for that identity is complete (pointing at it if needed). Else
take the reference's lock, check again (another process may have finished while we waited),
download into a temporary sibling, write the marker last, rename the folder into place, then
switch the pointer. A reader therefore sees the old copy or the new one, never a partial one,
and a failed download leaves only temporary folders that the next run removes.

When the source cannot be reached (connection errors, 5xx after the retries), a complete copy
of the same reference is used, with a warning that says what could not be verified.
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

from .cache import (
    KINDS,
    Source,
    cache_folder,
    content_key,
    read_pointer,
    verified,
    verify,
    write_marker,
    write_pointer,
)
from .errors import (
    CacheIncompleteError,
    InvalidSourceError,
    StorageError,
    TransientError,
    from_os_error,
)
from .plans import Plan, make_plan
from .references import HubRepo, Reference, S3Location, parse_uri
from .retry import RetryPolicy

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
    """Make `<cache_dir>/<kind>s/<key>` point at a complete copy of `source`; return it."""
    location = check_source(kind, source)
    policy = retry or RetryPolicy.from_env()
    reference = cache_folder(cache_dir, kind, source)
    plan = make_plan(kind, location, source, Path(cache_dir), region, policy)
    try:
        identity = plan.resolve()
    except TransientError as error:
        return _cached_copy(reference, source, error, "could not be verified")
    if identity is not None and _is_current(reference, content_key(reference.name, identity)):
        log.info("%s %s is already cached in %s", kind, source.uri, reference)
        return reference
    try:
        reference.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise from_os_error(error, str(reference.parent)) from error
    with _exclusive(reference.parent / f".{reference.name}.lock", reference.name):
        if identity is not None:
            name = content_key(reference.name, identity)
            if _is_complete(reference / name):
                if read_pointer(reference) == name:
                    log.info(
                        "%s %s was fetched by another process into %s", kind, source.uri, reference
                    )
                else:
                    log.info(
                        "%s %s is now %s, cached before; switching to it",
                        kind,
                        source.uri,
                        identity,
                    )
                    _point(reference, name)
                return reference
        _remove_leftovers(reference)
        try:
            name = _download(plan, kind, source, reference)
        except TransientError as error:
            return _cached_copy(reference, source, error, "changed but could not be fetched")
        _point(reference, name)
    log.info("fetched %s %s into %s", kind, source.uri, reference / name)
    return reference


def check_source(kind: str, source: Source) -> Reference:
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


def _download(plan: Plan, kind: str, source: Source, reference: Path) -> str:
    """Fetch into a temporary folder, write the marker, rename it to its content folder."""
    log.info("fetching %s %s into %s", kind, source.uri, reference)
    staging = work = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{reference.name}.tmp-", dir=reference.parent))
        work = Path(tempfile.mkdtemp(prefix=f".{reference.name}.work-", dir=reference.parent))
        resolved = plan.fetch_into(staging, work)
        name = content_key(reference.name, resolved.revision)
        write_marker(staging, kind, source, resolved.revision, resolved=resolved.details)
        staging.chmod(0o755)  # mkdtemp makes it private; trials may run as another user
        _publish(staging, reference / name)
        return name
    except OSError as error:
        raise from_os_error(error, str(reference)) from error
    finally:
        for leftover in (staging, work):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


def _point(reference: Path, name: str) -> None:
    """Make `<reference>/<name>` the current copy (the pointer is written last, atomically)."""
    try:
        write_pointer(reference, name)
    except OSError as error:
        raise from_os_error(error, str(reference)) from error


def _cached_copy(reference: Path, source: Source, error: StorageError, what: str) -> Path:
    """The current copy of the same reference when the source cannot be reached, else `error`."""
    try:
        folder, marker = verified(reference)
    except CacheIncompleteError:
        raise error from None
    log.warning(
        "warning: %s %s: %s; using the copy cached in %s: %s, fetched at %s",
        source.describe(),
        what,
        error,
        folder,
        marker.get("resolved_revision"),
        marker.get("fetched_at", "an unknown time"),
    )
    return reference


def _is_complete(folder: Path) -> bool:
    try:
        verify(folder)
    except CacheIncompleteError as error:
        if folder.exists():
            log.warning("%s; fetching again", error)
        return False
    return True


def _is_current(reference: Path, name: str) -> bool:
    """The pointer names `name` and that folder is complete."""
    return read_pointer(reference) == name and _is_complete(reference / name)


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


def _remove_leftovers(reference: Path) -> None:
    """Temporary folders left by a crashed run (safe: we hold the reference's lock)."""
    for entry in reference.parent.glob(f".{reference.name}.*"):
        if entry.is_dir() and any(mark in entry.name for mark in TEMPORARY_MARKS):
            shutil.rmtree(entry, ignore_errors=True)


def _publish(staging: Path, folder: Path) -> None:
    """Rename `staging` to `folder`; a complete folder of that name stays (a trial may be reading
    it), a damaged one is moved out of the way first."""
    folder.parent.mkdir(exist_ok=True)  # the reference folder appears with its first copy
    if not folder.exists():
        os.rename(staging, folder)
        return
    if _is_complete(folder):
        return
    stale = folder.parent.parent / f".{folder.parent.name}.stale-{os.getpid()}"
    os.rename(folder, stale)
    os.rename(staging, folder)
    shutil.rmtree(stale, ignore_errors=True)


__all__ = ["fetch", "check_source", "StorageError"]
