"""Per backend, the two steps of a fetch: resolve what the source is now, then fetch exactly that.

`resolve` is cheap (the Hub's revision API, one S3 listing, hashing local files) and returns the
identity that names the content folder, so an unchanged source is never downloaded again and a
changed one always is. `fetch_into` downloads what was resolved, pinned to it (the Hub commit,
each S3 object's VersionId), and returns the identity with its details for the marker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import hub, local, s3
from .cache import Source
from .datasets_io import build_dataset_dict
from .errors import InvalidSourceError
from .hub_slices import fetch_sliced
from .references import HubRepo, LocalPath, Reference, S3Location
from .retry import RetryPolicy

log = logging.getLogger("storage_init")


@dataclass(frozen=True)
class Resolved:
    revision: str  # the identity: Hub commit, `etags:sha256:…`, `sha256:…`
    details: dict[str, Any] = field(default_factory=dict)


class Plan:
    """resolve() then fetch_into(staging, work); a subclass per backend."""

    def __init__(self, kind: str, source: Source, cache_dir: Path, policy: RetryPolicy) -> None:
        self.kind, self.source, self.cache_dir, self.policy = kind, source, cache_dir, policy

    def resolve(self) -> str | None:
        raise NotImplementedError

    def fetch_into(self, staging: Path, work: Path) -> Resolved:
        raise NotImplementedError

    def _save_dataset(self, raw: Path, staging: Path, work: Path, **read: Any) -> None:
        split = read.pop("split", self.source.split)
        eval_split = read.pop("eval_split", self.source.eval_split)
        assert split is not None  # check_source guarantees it for datasets
        dataset_dict = build_dataset_dict(raw, split, eval_split, self.source.uri, work, **read)
        dataset_dict.save_to_disk(str(staging))


class HubPlan(Plan):
    def __init__(self, location: HubRepo, *args: Any) -> None:
        super().__init__(*args)
        self.repo_id = location.repo_id
        self.hub_cache = hub.hub_cache_dir(self.cache_dir)
        self.commit: str | None = None

    def resolve(self) -> str | None:
        self.commit = hub.resolve_commit(
            self.repo_id, self.kind, self.source.revision, self.hub_cache, self.policy
        )
        return self.commit

    def fetch_into(self, staging: Path, work: Path) -> Resolved:
        # Pinned to the commit resolved, so a branch that moves meanwhile cannot mix in.
        revision = self.commit or self.source.revision
        if self.kind == "model":
            commit = hub.fetch_model(self.repo_id, revision, staging, self.hub_cache, self.policy)
            return Resolved(commit, {"commit": commit})
        expressions = {"train": self.source.split or "train"}
        if self.source.eval_split:
            expressions["eval"] = self.source.eval_split
        sliced = None
        if self.commit is not None:
            sliced = fetch_sliced(
                self.repo_id, self.commit, expressions, self.hub_cache, work, self.policy
            )
        if sliced is not None:
            self._save_dataset(
                sliced.folder,
                staging,
                work,
                split=sliced.expressions["train"],
                eval_split=sliced.expressions.get("eval"),
                partial=True,
            )
            return Resolved(self.commit or "", {"commit": self.commit, "files": sliced.files})
        raw, commit = hub.fetch_dataset(self.repo_id, revision, self.hub_cache, self.policy)
        self._save_dataset(raw, staging, work)
        return Resolved(commit, {"commit": commit})


class S3Plan(Plan):
    def __init__(self, location: S3Location, region: str | None, *args: Any) -> None:
        super().__init__(*args)
        self.location = location
        try:
            self.client = s3.make_client(self.source.endpoint_url, region)
        except Exception as error:
            raise InvalidSourceError(f"cannot create an S3 client: {error}") from error
        self.objects: list[s3.S3Object] = []

    def resolve(self) -> str:
        if self.kind == "model":
            self.objects = s3.model_objects(self.location, self.client, self.policy)
        else:
            self.objects = s3.list_objects(self.client, self.location, self.policy)
        return s3.revision_of(self.objects)

    def fetch_into(self, staging: Path, work: Path) -> Resolved:
        bucket = self.location.bucket
        target = staging if self.kind == "model" else work
        fetched = s3.download(self.client, bucket, self.objects, target, self.policy)
        if self.kind == "dataset":
            self._save_dataset(s3.dataset_path(self.location, work, self.objects), staging, work)
        return Resolved(s3.revision_of(self.objects), {"objects": fetched})


class LocalPlan(Plan):
    def __init__(self, location: LocalPath, *args: Any) -> None:
        super().__init__(*args)
        self.path = location.path
        self.fingerprint = ""

    def resolve(self) -> str:
        self.fingerprint = local.fingerprint(self.kind, self.path)
        return self.fingerprint

    def fetch_into(self, staging: Path, work: Path) -> Resolved:
        if self.kind == "model":
            local.copy_model(self.path, staging)
        else:
            self._save_dataset(local.dataset_path(self.path), staging, work)
        return Resolved(self.fingerprint)


def make_plan(
    kind: str,
    location: Reference,
    source: Source,
    cache_dir: Path,
    region: str | None,
    policy: RetryPolicy,
) -> Plan:
    common = (kind, source, cache_dir, policy)
    if isinstance(location, HubRepo):
        return HubPlan(location, *common)
    if isinstance(location, S3Location):
        return S3Plan(location, region, *common)
    return LocalPlan(location, *common)
