"""S3 and S3-compatible storage (MinIO, Ceph, moto) through boto3.

Credentials come only from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY filled
from a Secret). botocore's own retries are switched off so that `retry.with_retries` counts every
attempt, including those of a listing that fails halfway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .cache import listing_digest
from .errors import InvalidSourceError, NotFoundError, StorageError, from_s3
from .progress import Progress
from .references import S3Location
from .retry import RetryPolicy, with_retries
from .sources import has_weights, select_model_files

log = logging.getLogger("storage_init")


@dataclass(frozen=True)
class S3Object:
    key: str
    relative: str
    size: int
    etag: str


def make_client(endpoint_url: str | None, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=10,
        read_timeout=60,
        # S3-compatible servers behind a custom endpoint rarely resolve bucket subdomains.
        s3={"addressing_style": "path"} if endpoint_url else None,
        user_agent_extra="hpo-storage-init",
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config
    )


def list_objects(client: Any, location: S3Location, policy: RetryPolicy) -> list[S3Object]:
    """The object itself for a data-file key, else every object under the key as a prefix."""
    single = location.is_data_file
    prefix = location.key if single else location.prefix

    def listing() -> list[S3Object]:
        found = []
        try:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=location.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"]
                    if key.endswith("/") or (single and key != location.key):
                        continue
                    relative = PurePosixPath(key).name if single else key[len(prefix) :]
                    found.append(S3Object(key, relative, item["Size"], item["ETag"].strip('"')))
        except Exception as error:
            raise from_s3(error, location.bucket, prefix) from error
        return found

    objects = with_retries(policy, f"listing s3://{location.bucket}/{prefix}", listing)
    if not objects:
        what = "object" if single else "objects under the prefix"
        raise NotFoundError(
            f"no {what} s3://{location.bucket}/{prefix}; check bucket_name, file_key and "
            "endpoint_url in the definition"
        )
    for item in objects:
        parts = PurePosixPath(item.relative).parts
        if not parts or ".." in parts or item.relative.startswith("/"):
            raise InvalidSourceError(f"refusing to write object key {item.key!r} outside the cache")
    return objects


def pinned_version(client: Any, bucket: str, item: S3Object, policy: RetryPolicy) -> str | None:
    """The object's VersionId (None when the bucket is not versioned), checking that the object
    is still the one listed: its ETag would differ had it been overwritten since."""

    def head() -> dict:
        try:
            return client.head_object(Bucket=bucket, Key=item.key)
        except Exception as error:
            raise from_s3(error, bucket, item.key) from error

    answer = with_retries(policy, f"reading s3://{bucket}/{item.key}", head)
    etag = str(answer.get("ETag", "")).strip('"')
    if etag and etag != item.etag:
        raise StorageError(
            f"s3://{bucket}/{item.key} changed while it was being fetched (ETag {item.etag} "
            f"listed, {etag} now); run the download again"
        )
    version = answer.get("VersionId")
    return None if version in (None, "", "null") else str(version)


def download(
    client: Any, bucket: str, objects: list[S3Object], destination: Path, policy: RetryPolicy
) -> list[dict[str, Any]]:
    """Download `objects` below `destination`, keeping their relative paths; returns what was
    fetched of each: key, size, ETag and, in a versioned bucket, the VersionId read."""
    from boto3.s3.transfer import TransferConfig

    transfer = TransferConfig(multipart_threshold=64 << 20, max_concurrency=8)
    total = sum(item.size for item in objects)
    fetched = []
    with Progress(f"s3://{bucket}: {len(objects)} files", total) as progress:
        for item in objects:
            target = destination / item.relative
            target.parent.mkdir(parents=True, exist_ok=True)
            version = pinned_version(client, bucket, item, policy)
            # Pinned to the version read, so an overwrite during the download cannot mix in.
            extra = {"VersionId": version} if version else None

            def one_object(
                item: S3Object = item, target: Path = target, extra: dict | None = extra
            ) -> None:
                received = 0

                def count(chunk: int) -> None:
                    nonlocal received
                    received += chunk
                    progress.add(chunk)

                try:
                    client.download_file(
                        bucket,
                        item.key,
                        str(target),
                        ExtraArgs=extra,
                        Callback=count,
                        Config=transfer,
                    )
                except Exception as error:
                    progress.add(-received)  # the retry downloads these bytes again
                    target.unlink(missing_ok=True)
                    raise from_s3(error, bucket, item.key) from error

            with_retries(policy, f"downloading s3://{bucket}/{item.key}", one_object)
            fetched.append(
                {"key": item.key, "size": item.size, "etag": item.etag, "version_id": version}
            )
    return fetched


def revision_of(objects: list[S3Object]) -> str:
    """`etags:sha256:<hex>` over key, size and ETag: changes whenever any object changes."""
    return "etags:sha256:" + listing_digest(
        sorted([item.key, item.size, item.etag] for item in objects)
    )


def model_objects(location: S3Location, client: Any, policy: RetryPolicy) -> list[S3Object]:
    """The objects of a model prefix that from_pretrained needs."""
    listed = list_objects(client, location, policy)
    wanted = set(select_model_files([item.relative for item in listed]))
    if not has_weights(sorted(wanted)):
        raise InvalidSourceError(
            f"s3://{location.bucket}/{location.prefix} has no model weights "
            "(*.safetensors or pytorch_model*.bin) at its top level"
        )
    return [item for item in listed if item.relative in wanted]


def dataset_path(location: S3Location, raw_dir: Path, objects: list[S3Object]) -> Path:
    """Where the downloaded data is read from: the object itself, or the prefix's folder."""
    return raw_dir / objects[0].relative if location.is_data_file else raw_dir
