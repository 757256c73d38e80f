"""Small synthetic learning-curve tables in the recorded table's format, for the replay's tests.

A configuration's loss falls from 2.0 towards its final value, faster for a larger learning
rate, so early rungs favour large learning rates and the best final run has a middling one.
"""

from __future__ import annotations

import math
from pathlib import Path

HEADER = (
    "task,config,learning_rate,r,step,total_steps,seconds_per_step,startup_seconds,"
    "eval_seconds,objective"
)
LEARNING_RATES = ("1e-05", "0.0001", "0.001", "0.01")
RANKS = ("4", "16")


def final_loss(task_index: int, learning_rate: str, r: str) -> float:
    distance = math.log10(float(learning_rate)) + 3.5 + 0.5 * task_index
    return 0.4 + 0.1 * distance**2 + (0.01 if r == "4" else 0.0)


def rows(task: str, task_index: int, total_steps: int, lrs, ranks) -> list[str]:
    lines = []
    config = 0
    for learning_rate in lrs:
        for r in ranks:
            final = final_loss(task_index, learning_rate, r)
            speed = 2.0 + math.log10(float(learning_rate)) + 5.0
            seconds_per_step = 0.5 if r == "4" else 0.75
            for k in range(1, 10):
                step = math.ceil(k * total_steps / 9)
                loss = final + (2.0 - final) * math.exp(-speed * step / total_steps)
                lines.append(
                    f"{task},c{config},{learning_rate},{r},{step},{total_steps},"
                    f"{seconds_per_step},20.0,3.0,{loss:.6f}"
                )
            config += 1
    return lines


def write_table(
    path: Path, tasks=("alpha", "beta"), total_steps=90, lrs=LEARNING_RATES, ranks=RANKS
) -> Path:
    lines = [HEADER]
    for index, task in enumerate(tasks):
        lines += rows(task, index, total_steps, lrs, ranks)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_curves(
    path: Path,
    curves: dict[str, list[float]],
    total_steps: int = 90,
    seconds_per_step: float = 1.0,
    startup: float = 10.0,
    evaluation: float = 2.0,
) -> Path:
    """A one-task table ("t") over one parameter, `x`: each value's nine evaluations (nan where
    a diverged run never got to), and an accuracy column the replay does not read."""
    lines = [HEADER.replace("learning_rate,r", "x") + ",eval_accuracy"]
    for index, (x, objectives) in enumerate(curves.items()):
        for k, objective in enumerate(objectives, start=1):
            step = math.ceil(k * total_steps / len(objectives))
            lines.append(
                f"t,c{index},{x},{step},{total_steps},{seconds_per_step},{startup},"
                f"{evaluation},{objective},0.5"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
