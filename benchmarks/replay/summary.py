"""Many replayed runs as one table per task, and as the raw per-seed CSV.

A run that never came within the target, or had no full run by the budget, ranks after every
run that did (an infinite value): a median or quartile that falls on such runs reads "never".
Quartiles interpolate linearly between the ranked runs (numpy's default), so with 50 seeds the
interquartile range is the middle 25 runs.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.replay.simulate import Outcome

COLUMNS = (
    "task",
    "arm",
    "seed",
    "seconds_to_target",
    "trials_to_target",
    "regret_at_budget",
    "trials",
    "trial_seconds",
)


@dataclass(frozen=True)
class Result:
    task: str
    arm: str
    seed: int
    outcome: Outcome


def quantile(values: Sequence[float | None], q: float) -> float:
    """The q-quantile, None ranking as infinity; infinite when it touches one."""
    ranked = sorted(math.inf if v is None else v for v in values)
    position = q * (len(ranked) - 1)
    low, high = math.floor(position), math.ceil(position)
    if math.inf in (ranked[low], ranked[high]):
        return math.inf
    return ranked[low] + (ranked[high] - ranked[low]) * (position - low)


def spread(values: Sequence[float | None], shape: str) -> str:
    """'median (first quartile-third quartile)'."""
    median, first, third = (quantile(values, q) for q in (0.5, 0.25, 0.75))
    text = [shape.format(v) if math.isfinite(v) else "never" for v in (median, first, third)]
    return f"{text[0]} ({text[1]}-{text[2]})"


def table(results: Sequence[Result], task: str, arms: Sequence[str], bases: dict[str, str]) -> str:
    """The Markdown table of one task; `bases` names, per arm, the arm it is compared with."""
    by_arm = {arm: [r.outcome for r in results if r.task == task and r.arm == arm] for arm in arms}
    lines = [
        "| arm | reached | trial-seconds to target, median (IQR) | vs. no stopping | "
        "regret at budget, median (IQR) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for arm in arms:
        outcomes = by_arm[arm]
        seconds = [o.seconds_to_target for o in outcomes]
        reached = sum(s is not None for s in seconds)
        ratio = "-"
        if arm in bases:
            mine = quantile(seconds, 0.5)
            theirs = quantile([o.seconds_to_target for o in by_arm[bases[arm]]], 0.5)
            if math.isfinite(mine) and math.isfinite(theirs):
                ratio = f"{mine / theirs:.2f}"
        regret = spread([o.regret for o in outcomes], "{:.4f}")
        lines.append(
            f"| {arm} | {reached}/{len(outcomes)} | {spread(seconds, '{:.0f}')} | {ratio} | "
            f"{regret} |"
        )
    return "\n".join(lines)


def csv_text(results: Sequence[Result]) -> str:
    """The raw results, one row per task, arm and seed, in the order given; empty cells where a
    run never reached the target or had no full run by the budget."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in results:
        o = r.outcome
        writer.writerow(
            [
                r.task,
                r.arm,
                r.seed,
                "" if o.seconds_to_target is None else f"{o.seconds_to_target:.1f}",
                "" if o.trials_to_target is None else o.trials_to_target,
                "" if o.regret is None else f"{o.regret:.6f}",
                o.trials,
                f"{o.trial_seconds:.1f}",
            ]
        )
    return out.getvalue()
