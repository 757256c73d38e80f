"""How many trials fit on this machine at once, and which GPUs and threads each one gets.

A slot is a place for one running trial: its own GPUs (CUDA_VISIBLE_DEVICES) and a share of the
CPU cores (OMP_NUM_THREADS), so parallel trials never share a device or oversubscribe the cores.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from local_runner.errors import LocalRunError


@dataclass(frozen=True)
class Slot:
    index: int
    gpus: tuple[str, ...]  # device ids for CUDA_VISIBLE_DEVICES; empty: CPU only
    threads: int

    def split(self, parts: int) -> list[Slot]:
        """This slot's GPUs and threads shared among `parts` processes (a trial's nodes)."""
        share = len(self.gpus) // parts
        threads = max(1, self.threads // parts)
        return [
            Slot(self.index, self.gpus[i * share : (i + 1) * share], threads) for i in range(parts)
        ]

    def env(self) -> dict[str, str]:
        threads = str(self.threads)
        return {
            "CUDA_VISIBLE_DEVICES": ",".join(self.gpus),
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
        }


def visible_gpus(env: Mapping[str, str]) -> list[str]:
    """The GPU ids trials may use: CUDA_VISIBLE_DEVICES when set, else what nvidia-smi lists."""
    if "CUDA_VISIBLE_DEVICES" in env:
        return [d.strip() for d in env["CUDA_VISIBLE_DEVICES"].split(",") if d.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listing.splitlines() if line.strip()]


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def plan_slots(
    parallel_trial_count: int,
    gpus_per_trial: int,
    cpus_per_trial: float,
    gpus: list[str],
    cores: int,
) -> list[Slot]:
    """Slots for min(parallel_trial_count, what the GPUs and cores allow) trials."""
    wanted_cores = max(1, math.ceil(cpus_per_trial))
    by_cpu = max(1, cores // wanted_cores)
    if gpus_per_trial and gpus:
        if gpus_per_trial > len(gpus):
            raise LocalRunError(
                f"each trial asks for {gpus_per_trial} GPUs but this machine has {len(gpus)} "
                f"({','.join(gpus)}): lower resources_per_trial.gpu"
            )
        by_gpu = len(gpus) // gpus_per_trial
    else:
        by_gpu = by_cpu  # no GPUs wanted, or none here: the trial runs on the CPU
    count = max(1, min(parallel_trial_count, by_cpu, by_gpu))
    threads = max(1, cores // count)
    slots = []
    for index in range(count):
        own = gpus[index * gpus_per_trial : (index + 1) * gpus_per_trial] if gpus else []
        slots.append(Slot(index, tuple(own), threads))
    return slots
