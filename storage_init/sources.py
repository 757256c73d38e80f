"""Where a URI points, and which files of a model folder `from_pretrained` needs.

Routing is on the scheme alone (hf://, s3://, anything else is a local path), the way KServe's
storage initializer routes, so a new backend is one more branch here and one more module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from .errors import InvalidSourceError

# Everything from_pretrained reads for a model, tokenizer or processor: configs, vocabularies,
# sentencepiece/tiktoken models and chat templates. Only top-level files: subfolders hold ONNX,
# OpenVINO or sentence-transformers modules that transformers does not load.
METADATA_PATTERNS = ("*.json", "*.txt", "*.model", "*.tiktoken", "*.jinja")
SAFETENSORS_PATTERNS = ("*.safetensors",)
# Pickled weights are taken only when a repo has no safetensors (older checkpoints).
PICKLE_PATTERNS = ("pytorch_model*.bin", "adapter_model*.bin")
SUBFOLDER_PATTERN = "*/*"
DATA_FILE_SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}

_HUB_REPO = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class HubRepo:
    repo_id: str


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def is_data_file(self) -> bool:
        return Path(self.key).suffix.lower() in DATA_FILE_SUFFIXES

    @property
    def prefix(self) -> str:
        """The key as a folder prefix, so `data` does not also match `data-old/`."""
        return self.key if not self.key or self.key.endswith("/") else self.key + "/"


@dataclass(frozen=True)
class LocalPath:
    path: Path


Location = HubRepo | S3Location | LocalPath


def parse_uri(uri: str) -> Location:
    """hf://ORG/NAME, s3://BUCKET/KEY-OR-PREFIX, or a local path (absolute or relative)."""
    if uri.startswith("hf://"):
        repo_id = uri[len("hf://") :].strip("/")
        if not _HUB_REPO.match(repo_id):
            raise InvalidSourceError(f"{uri} is not a Hub repo: expected hf://ORG/NAME")
        return HubRepo(repo_id)
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not _BUCKET.match(bucket):
            raise InvalidSourceError(f"{uri} has no valid bucket name: expected s3://BUCKET/KEY")
        return S3Location(bucket, key)
    if "://" in uri:
        scheme = uri.split("://", 1)[0]
        raise InvalidSourceError(
            f"{uri}: scheme {scheme}:// is not supported; use hf://, s3:// or a path"
        )
    return LocalPath(Path(uri))


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(path, pattern) for pattern in patterns)


def select_model_files(paths: list[str]) -> list[str]:
    """The subset of a model folder's relative paths that from_pretrained needs, sorted."""
    top_level = [p for p in paths if "/" not in p]
    safetensors = [p for p in top_level if _matches(p, SAFETENSORS_PATTERNS)]
    weights = safetensors or [p for p in top_level if _matches(p, PICKLE_PATTERNS)]
    metadata = [p for p in top_level if _matches(p, METADATA_PATTERNS)]
    if safetensors:
        # The index of pickled shards would point from_pretrained at files we did not fetch.
        metadata = [p for p in metadata if not p.endswith(".bin.index.json")]
    return sorted(set(metadata) | set(weights))


def has_weights(paths: list[str]) -> bool:
    return any(_matches(p, SAFETENSORS_PATTERNS + PICKLE_PATTERNS) for p in paths)
