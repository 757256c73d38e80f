"""The learning-curve table: a grid of configurations, each trained once in full, its objective
at evaluation points, and what its steps cost.

`benchmarks/data/learning_curves.csv`, one row per task, configuration and evaluation:

    task,config,<parameter>,...,step,total_steps,seconds_per_step,startup_seconds,eval_seconds,objective[,...]

Every column between `config` and `step` is a searched parameter, its values the strings Katib
would substitute (`2e-05`, `16`); columns after `objective` (other metrics) are not read. Per
task the configurations form a full grid: every combination of the parameters' values exactly
once. `step` is the optimizer step of an evaluation, `objective` its value (eval_loss,
minimised), `nan` where a run that diverged never got to; the last evaluation is at
`total_steps`. `seconds_per_step`, `startup_seconds` (process start, model and data load) and
`eval_seconds` (one evaluation) are the configuration's costs, the same on each of its rows.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from storage_init.exits import ExitCode, HpoError
from suggestion.space import Parameter

LEADING = ("task", "config")
TRAILING = (
    "step",
    "total_steps",
    "seconds_per_step",
    "startup_seconds",
    "eval_seconds",
    "objective",
)
COSTS = TRAILING[1:5]  # the configuration's, on each of its rows


class TableError(HpoError):
    """The table does not have the shape the replay reads; the message says where."""

    exit_code = ExitCode.PROBLEMS


@dataclass(frozen=True)
class Curve:
    """One configuration trained in full: where it was evaluated, what it scored, its costs."""

    config: str
    steps: tuple[int, ...]
    objectives: tuple[float, ...]  # nan from where a run diverged
    total_steps: int
    seconds_per_step: float
    startup_seconds: float
    eval_seconds: float

    @property
    def final(self) -> float:
        """The objective of the full run, at its last step (nan when it diverged)."""
        return self.objectives[-1]

    def failure(self, start: int, stop: int) -> int | None:
        """The first evaluation after `start`, up to `stop`, that a diverged run never reached."""
        for step, value in zip(self.steps, self.objectives, strict=True):
            if start < step <= stop and math.isnan(value):
                return step
        return None

    def at(self, step: int) -> float:
        return self.objectives[self.steps.index(step)]

    def series(self, stop: int) -> list[float]:
        """The objective as reported up to step `stop`, evaluation by evaluation."""
        return [v for s, v in zip(self.steps, self.objectives, strict=True) if s <= stop]

    def seconds(self, start: int, stop: int) -> float:
        """A trial that starts (or resumes) at step `start` and stops at `stop`: its start-up,
        its own steps, and the evaluations it passes."""
        evaluations = sum(start < s <= stop for s in self.steps)
        return (
            self.startup_seconds
            + (stop - start) * self.seconds_per_step
            + evaluations * self.eval_seconds
        )


@dataclass(frozen=True)
class Task:
    name: str
    parameters: tuple[Parameter, ...]  # discrete or categorical: the grid's values
    curves: Mapping[tuple[str, ...], Curve]  # by the parameters' values, in their order

    def curve(self, assignments: Mapping[str, str]) -> Curve:
        return self.curves[tuple(assignments[p.name] for p in self.parameters)]

    @property
    def best(self) -> float:
        """The lowest objective of a full run: what the searches are measured against."""
        return min(c.final for c in self.curves.values() if not math.isnan(c.final))

    @property
    def full_seconds(self) -> float:
        """What one full run costs, on average over the grid: the unit of the budgets."""
        runs = [c.seconds(0, c.total_steps) for c in self.curves.values()]
        return sum(runs) / len(runs)


def load(path: Path) -> dict[str, Task]:
    """Every task of the table, by name; TableError, with the file and line, for a bad table."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise TableError(f"{path}: empty file")
        names = _parameter_names(path, header)
        rows: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = {}
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise TableError(f"{path}:{line}: {len(row)} values, the header has {len(header)}")
            named = dict(zip(header, row, strict=True))
            rows.setdefault((named["task"], named["config"]), []).append((line, named))
    tasks: dict[str, dict[tuple[str, ...], Curve]] = {}
    for (task, config), found in rows.items():
        values, curve = _curve(path, config, found, names)
        grid = tasks.setdefault(task, {})
        if values in grid:
            line = found[0][0]
            raise TableError(
                f"{path}:{line}: task {task}: configurations {grid[values].config} and {config} "
                f"have the same parameters {', '.join(values)}"
            )
        grid[values] = curve
    if not tasks:
        raise TableError(f"{path}: no rows")
    return {name: _task(path, name, names, curves) for name, curves in sorted(tasks.items())}


def _parameter_names(path: Path, header: Sequence[str]) -> list[str]:
    """The columns between `config` and `step`, once the header is the table's."""
    wanted = ",".join(LEADING) + ",<parameters>," + ",".join(TRAILING)
    if tuple(header[:2]) != LEADING or "step" not in header:
        raise TableError(f"{path}:1: the header must read {wanted}[,other metrics]")
    step = header.index("step")
    if tuple(header[step : step + len(TRAILING)]) != TRAILING:
        raise TableError(f"{path}:1: the header must read {wanted}[,other metrics]")
    names = list(header[2:step])
    if not names:
        raise TableError(f"{path}:1: no parameter columns between config and step")
    return names


def _curve(path, config, found, names) -> tuple[tuple[str, ...], Curve]:
    """One configuration's rows as its parameter values and its curve."""
    first_line, first = found[0]
    fixed = [first[n] for n in (*names, *COSTS)]
    points = []
    for line, row in found:
        if [row[n] for n in (*names, *COSTS)] != fixed:
            raise TableError(
                f"{path}:{line}: configuration {config} changes its parameters or costs "
                f"from line {first_line}"
            )
        try:
            step, objective = int(row["step"]), float(row["objective"])
        except ValueError as e:
            raise TableError(f"{path}:{line}: {e}") from None
        if math.isinf(objective):
            raise TableError(f"{path}:{line}: objective {row['objective']} is not finite")
        points.append((step, objective))
    points.sort()
    steps = tuple(s for s, _ in points)
    try:
        total, costs = int(first["total_steps"]), [float(first[n]) for n in COSTS[1:]]
    except ValueError as e:
        raise TableError(f"{path}:{first_line}: {e}") from None
    if not all(math.isfinite(c) and c >= 0 for c in costs):
        raise TableError(
            f"{path}:{first_line}: configuration {config} has a cost that is not a number >= 0"
        )
    if len(set(steps)) != len(steps) or steps[0] <= 0 or steps[-1] != total:
        raise TableError(
            f"{path}:{first_line}: configuration {config} must be evaluated at distinct steps "
            f"from 1, the last at total_steps {total}; got {', '.join(map(str, steps))}"
        )
    objectives = tuple(v for _, v in points)
    curve = Curve(config, steps, objectives, total, *costs)
    return tuple(fixed[: len(names)]), curve


def _task(path, name, names, curves) -> Task:
    """The task's grid: each parameter's values, and a curve for every combination of them."""
    columns = list(zip(*curves, strict=True))
    parameters = tuple(_parameter(n, column) for n, column in zip(names, columns, strict=True))
    for point in itertools.product(*(p.values for p in parameters)):
        if point not in curves:
            missing = ", ".join(f"{n}={v}" for n, v in zip(names, point, strict=True))
            raise TableError(f"{path}: task {name} is not a full grid: no curve for {missing}")
    if all(math.isnan(c.final) for c in curves.values()):
        raise TableError(f"{path}: task {name} has no run that reached total_steps")
    return Task(name, parameters, curves)


def _parameter(name: str, values: Sequence[str]) -> Parameter:
    """Katib's discrete (numbers, in order) or categorical (anything else, sorted) parameter."""
    distinct = set(values)
    try:
        ordered = sorted(distinct, key=float)
    except ValueError:
        return Parameter(name, "categorical", values=tuple(sorted(distinct)))
    return Parameter(name, "discrete", values=tuple(ordered))
