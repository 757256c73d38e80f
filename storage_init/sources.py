"""Which files of a model folder `from_pretrained` needs, and which files hold data.

Where a URI points is read by `storage_init.references`; each backend (hub, s3, local) asks this
module which of the files it finds to fetch.
"""

from __future__ import annotations

from fnmatch import fnmatch

# Everything from_pretrained reads for a model, tokenizer or processor: configs, vocabularies,
# sentencepiece/tiktoken models and chat templates. Only top-level files: subfolders hold ONNX,
# OpenVINO or sentence-transformers modules that transformers does not load.
METADATA_PATTERNS = ("*.json", "*.txt", "*.model", "*.tiktoken", "*.jinja")
SAFETENSORS_PATTERNS = ("*.safetensors",)
# Pickled weights are taken only when a repo has no safetensors (older checkpoints).
PICKLE_PATTERNS = ("pytorch_model*.bin", "adapter_model*.bin")
SUBFOLDER_PATTERN = "*/*"
DATA_FILE_SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}


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
