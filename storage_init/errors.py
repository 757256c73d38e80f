"""Every error the storage initializer raises, and the one place SDK errors become them.

The classes are plain Python (under the project's root, `storage_init.exits`) so
`storage_init.cache` (imported by the generator and the trainer) stays standard-library only.
The `from_*` translators import SDK exception classes lazily, inside
the function, and turn them into one-line messages that say what to do: name the Secret, the repo,
the bucket, the folder. Messages never contain a credential: `redact` scrubs any value of the
credential variables that an SDK might have echoed back.
"""

from __future__ import annotations

import errno
import os

from .exits import ExitCode, HpoError

CREDENTIAL_VARIABLES = (
    "HF_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
HUB_SECRET_HINT = "the Secret named in access_token (HF_TOKEN)"
S3_SECRET_HINT = (
    "the Secret named in access_key/secret_key (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
)


class StorageError(HpoError):
    """Root of the storage stage. `transient` errors are worth retrying; the rest are final."""

    exit_code = ExitCode.STAGE_FAILED
    transient = False


class InvalidSourceError(StorageError):
    """The URI, flags or the content found there cannot be used (bad scheme, no weights...)."""

    exit_code = ExitCode.PROBLEMS


class InvalidReferenceError(InvalidSourceError):
    """A model or dataset reference that no fetch could use: a repo id the Hub refuses, a bucket
    name boto3 refuses, an empty or oversized key, an unknown scheme (storage_init.references).
    `part` says which part is refused, so a checker can point at the field that holds it."""

    def __init__(self, message: str, part: str = "reference") -> None:
        super().__init__(message)
        self.part = part  # "reference", "repo_id", "bucket" or "key"


class AuthError(StorageError):
    """401/403: a credential is missing, wrong, or has no access."""

    exit_code = ExitCode.AUTH


class NotFoundError(StorageError):
    """404: the repo, revision, object, prefix or local path does not exist."""

    exit_code = ExitCode.NOT_FOUND


class BadSplitError(StorageError):
    """The split expression names no split of the dataset or cannot be parsed."""

    exit_code = ExitCode.PROBLEMS


class DiskFullError(StorageError):
    """The cache volume has no room left."""

    exit_code = ExitCode.STAGE_FAILED


class TransientError(StorageError):
    """5xx, throttling, timeouts, resets: retried with backoff before it is reported."""

    exit_code = ExitCode.UNAVAILABLE
    transient = True


class CacheIncompleteError(StorageError):
    """A cache folder is missing, has no completion marker, or no longer matches it."""

    exit_code = ExitCode.STAGE_FAILED


def redact(text: str) -> str:
    """Replace the value of every credential variable found in `text` with ***."""
    for name in CREDENTIAL_VARIABLES:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def one_line(text: object, limit: int = 300) -> str:
    """First line of an SDK message, redacted and shortened, for use inside our own message."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    first = lines[0] if lines else ""
    first = redact(first)
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _is_network_failure(exc: BaseException) -> bool:
    """Connection refused/reset and timeouts, whichever HTTP library raised them."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(
        names
        & {
            "ConnectError",
            "ConnectTimeout",
            "ReadTimeout",
            "TimeoutException",
            "NetworkError",
            "RemoteProtocolError",
            "ReadError",
            "ProtocolError",
        }
    )


def from_os_error(exc: OSError, where: str) -> StorageError:
    """Disk problems while writing `where` (a folder of the cache volume)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(
            f"no space left on the cache volume while writing {where}: raise the experiment's "
            "storage size, or delete unused folders under the cache directory"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageError(
            f"cannot write {where} ({os.strerror(exc.errno)}): the cache volume must be writable "
            "by uid 1000 (set the pod's fsGroup) and mounted read-write"
        )
    return StorageError(f"cannot write {where}: {one_line(exc)}")


def from_s3(exc: Exception, bucket: str, key: str) -> StorageError:
    """boto3/botocore errors for s3://bucket/key."""
    import botocore.exceptions as bex

    target = f"s3://{bucket}/{key}"
    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound") or status == 404:
            what = "bucket" if code == "NoSuchBucket" else "object"
            return NotFoundError(
                f"404 from S3 ({code or 'Not Found'}): {what} {target} does not exist; check "
                "bucket_name, file_key and endpoint_url in the definition"
            )
        if status in (401, 403) or code in (
            "AccessDenied",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "InvalidToken",
            "403",
        ):
            return AuthError(
                f"{status or 403} from S3 ({code}) on {target}: {S3_SECRET_HINT} is missing, "
                f"wrong, or has no read access to bucket {bucket}"
            )
        if status in (429, 500, 502, 503, 504) or code in (
            "SlowDown",
            "Throttling",
            "ThrottlingException",
            "RequestTimeout",
            "InternalError",
            "ServiceUnavailable",
            "503",
        ):
            return TransientError(f"{status} from S3 ({code}) on {target}")
        return StorageError(f"S3 refused {target}: {code} {one_line(error.get('Message', ''))}")
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return AuthError(f"no S3 credentials for {target}: set {S3_SECRET_HINT}")
    if isinstance(
        exc,
        bex.EndpointConnectionError
        | bex.ConnectTimeoutError
        | bex.ReadTimeoutError
        | bex.ConnectionClosedError
        | bex.ResponseStreamingError
        | bex.IncompleteReadError,
    ) or _is_network_failure(exc):
        return TransientError(f"network failure talking to S3 for {target}: {one_line(exc)}")
    if isinstance(exc, OSError):
        return from_os_error(exc, target)
    return StorageError(f"S3 download of {target} failed: {type(exc).__name__}: {one_line(exc)}")


def from_hub(
    exc: Exception,
    repo_id: str,
    repo_type: str,
    revision: str | None,
    credential: str = HUB_SECRET_HINT,
) -> StorageError:
    """huggingface_hub errors for a model or dataset repo: the one translator of the Hub's
    answers, for the download Job and `hpo pin` alike. `credential` names where the token comes
    from: the Secret in a pod, HF_TOKEN on a laptop."""
    from huggingface_hub import constants
    from huggingface_hub import errors as hub

    at = f"{repo_id}@{revision}" if revision else repo_id
    kind = "dataset" if repo_type == "dataset" else "model"
    if isinstance(exc, hub.GatedRepoError):
        return AuthError(
            f"{_status(exc) or 403} from the Hub: {kind} {repo_id} is gated and {credential} is "
            "missing or its account has not been granted access; accept the terms on the repo's "
            "page"
        )
    if isinstance(exc, hub.RepositoryNotFoundError):
        status = _status(exc) or 401
        return AuthError(
            f"{status} from the Hub: {credential} is missing or has no access to "
            f"{repo_id}, or no {kind} repo of that name exists"
        )
    if isinstance(exc, hub.RevisionNotFoundError):
        return NotFoundError(
            f"404 from the Hub: revision {revision!r} does not exist in {kind} {repo_id}; pin an "
            "existing branch, tag or commit"
        )
    if isinstance(exc, hub.LocalEntryNotFoundError):
        cause = exc.__cause__
        if constants.HF_HUB_OFFLINE or isinstance(cause, hub.OfflineModeIsEnabled):
            return NotFoundError(
                f"{kind} {at} is not (completely) in the Hugging Face cache and HF_HUB_OFFLINE "
                "forbids downloading it: unset HF_HUB_OFFLINE or fill the cache first"
            )
        if cause is not None and isinstance(cause, Exception):
            return from_hub(cause, repo_id, repo_type, revision, credential)
        return TransientError(f"could not reach the Hub for {kind} {at}: {one_line(exc)}")
    if isinstance(exc, hub.HfHubHTTPError):
        status = _status(exc)
        if status in (401, 403):
            return AuthError(
                f"{status} from the Hub: {credential} is missing or has no access to {repo_id}"
            )
        if status == 404:
            return NotFoundError(f"404 from the Hub: {kind} {at} or one of its files is missing")
        if status == 429 or (status is not None and status >= 500):
            return TransientError(f"{status} from the Hub for {kind} {at}")
        return StorageError(f"the Hub refused {kind} {at}: {one_line(exc)}")
    if _is_network_failure(exc):
        return TransientError(f"could not reach the Hub for {kind} {at}: {one_line(exc)}")
    if isinstance(exc, OSError):
        return from_os_error(exc, f"the download of {kind} {at}")
    return StorageError(f"download of {kind} {at} failed: {type(exc).__name__}: {one_line(exc)}")


def from_datasets(exc: Exception, uri: str, split_expr: str) -> StorageError:
    """Errors raised while reading data files or slicing splits with the datasets library."""
    message = one_line(exc)
    lowered = message.lower()
    if isinstance(exc, ValueError) and any(
        word in lowered for word in ("split", "slice", "instruction")
    ):
        return BadSplitError(
            f"split {split_expr!r} cannot be read from {uri}: {message} (use a split name with "
            "an optional slice, e.g. train[:1000] or train[:90%])"
        )
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return from_os_error(exc, f"the dataset from {uri}")
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"DataFilesNotFoundError", "EmptyDatasetError", "DatasetNotFoundError"}:
        return NotFoundError(f"no readable data files in {uri}: {message}")
    return InvalidSourceError(f"cannot read a dataset from {uri}: {type(exc).__name__}: {message}")


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)
