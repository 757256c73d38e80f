"""Storage initializer: fetch a model or dataset once into the experiment's cache volume.

`python -m storage_init` is the download Job's entrypoint; `fetch` is the same thing for the local
runner; `storage_init.cache` (standard library only) is what the generator and trainer import.
SDKs (huggingface_hub, datasets, boto3) are imported only inside the functions that use them.
"""

from .cache import MARKER_NAME, Source, cache_folder, cache_key, current_folder, verified, verify
from .errors import StorageError
from .fetch import fetch
from .retry import RetryPolicy

__all__ = [
    "MARKER_NAME",
    "RetryPolicy",
    "Source",
    "StorageError",
    "cache_folder",
    "cache_key",
    "current_folder",
    "fetch",
    "verified",
    "verify",
]
