"""Launch environments: torchrun, and PyTorchJob pods that start `python -m trainer` directly.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE. A PyTorchJob without torchrun
starts one process per pod and sets only MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE; the
Trainer would then miss the process group and train each pod alone, so the local variables are
filled in for that one process.
"""

from __future__ import annotations

from collections.abc import Mapping


def single_process_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Variables to add when a multi-process launch did not say which local process this is."""
    if "RANK" in environ and "WORLD_SIZE" in environ and "LOCAL_RANK" not in environ:
        return {"LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1"}
    return {}


def world_size(environ: Mapping[str, str]) -> int:
    return int(environ.get("WORLD_SIZE", "1"))


def local_world_size(environ: Mapping[str, str]) -> int:
    return int(environ.get("LOCAL_WORLD_SIZE", "1"))
