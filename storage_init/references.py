"""Model and dataset references: the one parser of `hf://`, `s3://` and local paths, and the one
place their URIs are written.

`hpo check`, `hpo pin`, the client (through `hpo check`) and the download Job all read a
reference here, so what a pull request's check accepts is what the cluster's download accepts,
and an unusable reference is an input error (exit 1) before anything touches the network.

The rules are the libraries' own, never a regex of ours, so they cannot drift from what the
library that makes the request would refuse:
- a Hub repo id is valid when `huggingface_hub.utils.validate_repo_id` says so (1 to 96
  characters of letters, digits, `-`, `_`, `.`; `NAME` or `ORG/NAME`; no `--` or `..`, no leading
  or trailing `-` or `.`, no `.git` at the end);
- a bucket name is valid when botocore's client-side check (`botocore.handlers.
  validate_bucket_name`, what boto3 refuses before sending) says so; S3 itself may refuse more;
- a key is what S3 stores: at least one byte and at most 1024 bytes of UTF-8. A leading `/` is
  refused as well: a key is read inside the bucket, and `s3://b//k` is nearly always a typo.

Standard library at import: huggingface_hub and botocore are imported inside the functions that
need them, so the generator and the trainer can import this module without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidReferenceError
from .sources import DATA_FILE_SUFFIXES

HUB_SCHEME = "hf://"
S3_SCHEME = "s3://"
# Paths a definition may name instead of a Hub repository: absolute or relative to the repo root.
LOCAL_PREFIXES = ("/", "./", "../")
MAX_KEY_BYTES = 1024  # S3's limit on an object key, in UTF-8 bytes


@dataclass(frozen=True)
class HubRepo:
    repo_id: str

    @property
    def uri(self) -> str:
        return hub_uri(self.repo_id)


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return s3_uri(self.bucket, self.key)

    @property
    def is_data_file(self) -> bool:
        return Path(self.key).suffix.lower() in DATA_FILE_SUFFIXES

    @property
    def prefix(self) -> str:
        """The key as a folder prefix, so `data` does not also match `data-old/`."""
        return self.key if self.key.endswith("/") else self.key + "/"


@dataclass(frozen=True)
class LocalPath:
    path: Path


Reference = HubRepo | S3Location | LocalPath


# Writing URIs. Pure string work, no validation: the results Job records the URIs of a definition
# that `hpo check` has already accepted, and needs neither huggingface_hub nor botocore for that.


def hub_uri(repo_id: str) -> str:
    return HUB_SCHEME + repo_id


def s3_uri(bucket: str, key: str) -> str:
    return f"{S3_SCHEME}{bucket}/{key}"


def is_local_path(reference: str) -> bool:
    return reference.startswith(LOCAL_PREFIXES)


def dataset_uri(repo_id: str) -> str:
    """A definition's dataset `repo_id` as a URI: a local path as written, a Hub repo id with its
    scheme whether it was written with it or not."""
    if is_local_path(repo_id) or repo_id.startswith(HUB_SCHEME):
        return repo_id
    return hub_uri(repo_id)


# Reading references. Each raises InvalidReferenceError (exit 1) naming the reference and the
# library's reason.


def parse_uri(uri: str) -> Reference:
    """A source URI as the download Job receives it: `hf://REPO_ID`, `s3://BUCKET/KEY`, or any
    other text without a scheme as a local path (absolute, or relative to the working folder)."""
    if uri.startswith(HUB_SCHEME):
        return parse_repo_id(uri[len(HUB_SCHEME) :], uri)
    if uri.startswith(S3_SCHEME):
        bucket, slash, key = uri[len(S3_SCHEME) :].partition("/")
        if not slash or not key:
            raise InvalidReferenceError(
                f"{uri} names no key or prefix inside the bucket: expected s3://BUCKET/KEY", "key"
            )
        return parse_s3(bucket, key, uri)
    if "://" in uri:
        scheme = uri.split("://", 1)[0]
        raise InvalidReferenceError(
            f"{uri}: scheme {scheme}:// is not supported; use hf://, s3:// or a path"
        )
    return LocalPath(Path(uri))


def parse_model_uri(model_uri: str) -> Reference:
    """A definition's `model_uri`: `hf://`, `s3://`, or a local path written with `/`, `./` or
    `../` (a bare `ORG/NAME` is refused, with the `hf://` it probably lacks as a hint)."""
    if is_local_path(model_uri) or "://" in model_uri:
        return parse_uri(model_uri)
    hint = ""
    try:
        parse_repo_id(model_uri, model_uri)
        hint = f"; did you mean '{hub_uri(model_uri)}'?"
    except InvalidReferenceError:
        pass
    raise InvalidReferenceError(
        f"'{model_uri}' must be hf://ORG/NAME, s3://BUCKET/PREFIX or a local path starting with "
        f"/, ./ or ../{hint}"
    )


def parse_dataset_repo_id(repo_id: str) -> HubRepo | LocalPath:
    """A definition's dataset `repo_id`: a Hub repo id (`NAME`, `ORG/NAME`, with or without
    `hf://`) or a local path written with `/`, `./` or `../`."""
    if is_local_path(repo_id):
        return LocalPath(Path(repo_id))
    if repo_id.startswith(S3_SCHEME):
        raise InvalidReferenceError(
            f"{repo_id} is not a Hub dataset: an S3 dataset is named by endpoint_url, "
            "bucket_name and file_key"
        )
    return parse_repo_id(repo_id.removeprefix(HUB_SCHEME), repo_id)


def parse_repo_id(repo_id: str, written: str | None = None) -> HubRepo:
    """A Hub repo id, judged by huggingface_hub's own rule; `written` is the reference as the
    person wrote it, for the message."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        reason = str(error).strip().splitlines()[0]
        raise InvalidReferenceError(
            f"{written or repo_id}: the Hub refuses this repo id: {reason}", "repo_id"
        ) from error
    return HubRepo(repo_id)


def parse_s3(bucket: str, key: str, written: str | None = None) -> S3Location:
    """A bucket name by botocore's own check, and a key by S3's limits."""
    from botocore.exceptions import ParamValidationError
    from botocore.handlers import VALID_BUCKET, validate_bucket_name

    shown = written or s3_uri(bucket, key)
    try:
        validate_bucket_name({"Bucket": bucket})
    except ParamValidationError as error:
        raise InvalidReferenceError(
            f"{shown}: '{bucket}' is not a bucket name boto3 accepts: it must match "
            f"{VALID_BUCKET.pattern} or be an S3 access point ARN",
            "bucket",
        ) from error
    if not key:
        raise InvalidReferenceError(f"{shown}: the key is empty; name an object or a prefix", "key")
    if key.startswith("/"):
        raise InvalidReferenceError(
            f"{shown}: the key is read inside the bucket: no leading '/'", "key"
        )
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise InvalidReferenceError(
            f"{shown}: the key is {size} bytes of UTF-8; S3 keys are at most {MAX_KEY_BYTES}",
            "key",
        )
    return S3Location(bucket, key)
