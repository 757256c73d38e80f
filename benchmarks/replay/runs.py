"""Every task, arm and seed of a replay, spread over processes, in a fixed order.

Each process reads the table once and runs torch on one thread, so hpo-gp draws the same points
whichever process runs a job: the same table and seeds give the same results, in the same order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from pathlib import Path

from benchmarks.replay import summary, table
from benchmarks.replay.simulate import Arm, replay

SAMPLERS = ("random", "hpo-tpe", "hpo-gp")
STOPPINGS = ("none", "medianstop", "asha")
_tasks: dict[str, table.Task] = {}


def arms(samplers: Sequence[str] = SAMPLERS) -> list[Arm]:
    return [Arm(sampler, stopping) for sampler in samplers for stopping in STOPPINGS]


def bases(compared: Sequence[Arm]) -> dict[str, str]:
    """Each stopping arm's label -> the label of the same sampler without stopping."""
    return {a.label: Arm(a.algorithm).label for a in compared if a.stopping != "none"}


def _load(path: str) -> None:
    import torch

    torch.set_num_threads(1)
    _tasks.update(table.load(Path(path)))


def _run(job: tuple[str, Arm, int, dict]) -> summary.Result:
    task, arm, seed, limits = job
    return summary.Result(task, arm.label, seed, replay(_tasks[task], arm, seed, **limits))


def run_all(
    path: Path, compared: Sequence[Arm], seeds: Sequence[int], processes: int = 2, **limits
) -> tuple[list[str], list[summary.Result]]:
    """The task names and every run's result (simulate's keywords in `limits`)."""
    tasks = table.load(path)  # a bad table is refused before any process starts
    jobs = [(task, arm, seed, limits) for task in tasks for arm in compared for seed in seeds]
    os.environ["OMP_NUM_THREADS"] = "1"  # before the processes import torch
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_load, initargs=(str(path),)) as pool:
        return list(tasks), pool.map(_run, jobs, chunksize=1)
