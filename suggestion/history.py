"""What the sampler learns from: the objectives, and the trials seen so far.

`Objective` is the one model of an objective: the generator makes it from the definition, the
sampler optimises it, the results rank trials by it and write it into results.yaml.

Both doors describe their trials the same way, as `Observation`s: the service from the Trials in
Katib's request, the local runner from its study. Two algorithm settings carry what Katib's
Experiment has no field for, written by the generator and read here:

- `objectives`: `metric:minimize,metric:maximize,...` when an experiment optimises several
  (the Experiment's own objective is the first of them);
- `warm_start_trials`: earlier experiments' trials as compact JSON,
  `{"parameters": [names], "metrics": [names], "trials": [[value, ..., metric, ...], ...]}`,
  parameter values as Katib's strings, metrics as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from suggestion.settings import OBJECTIVES, WARM_START_TRIALS

OBJECTIVE_TYPES = ("minimize", "maximize")
# Trial states as the sampler sees them.
COMPLETE, PRUNED, FAILED, RUNNING = "complete", "pruned", "failed", "running"
# Katib's Experiment object lives in etcd; this keeps the warm start a small part of it.
MAX_WARM_START_BYTES = 64 * 1024


@dataclass(frozen=True)
class Objective:
    """A metric the trainer reports, which way is better (Katib's `type`), and the value that
    ends the experiment once reached (Katib's `goal`; the first objective's only)."""

    metric: str
    type: str  # minimize | maximize
    goal: float | None = None

    def __post_init__(self) -> None:
        if self.type not in OBJECTIVE_TYPES:
            raise ValueError(f"objective type must be minimize or maximize, not {self.type!r}")


@dataclass(frozen=True)
class Observation:
    """One trial: its assignments (Katib strings), its state, the metrics it reported."""

    assignments: Mapping[str, str]
    state: str
    metrics: Mapping[str, float] = field(default_factory=dict)

    def key(self) -> str:
        """A stable order for histories that arrive in any order (Katib's list is unordered)."""
        return json.dumps([dict(self.assignments), self.state, dict(self.metrics)], sort_keys=True)


class HistoryError(ValueError):
    """A setting the generator writes does not parse: the message names it."""


def encode_objectives(objectives: Sequence[Objective]) -> str:
    return ",".join(f"{o.metric}:{o.type}" for o in objectives)


def objectives_of(settings: Mapping[str, str], metric: str, type_: str) -> list[Objective]:
    """The objectives setting when there is one, else the Experiment's single objective."""
    text = settings.get(OBJECTIVES)
    if text is None:
        return [Objective(metric, type_)]
    objectives = []
    for item in text.split(","):
        name, _, way = item.partition(":")
        if not name or way not in OBJECTIVE_TYPES:
            raise HistoryError(
                f"{OBJECTIVES} must read metric:minimize|maximize[,...], got '{text}'"
            )
        objectives.append(Objective(name, way))
    if objectives[0] != Objective(metric, type_):
        raise HistoryError(
            f"{OBJECTIVES} must start with the Experiment's objective {metric}:{type_}, "
            f"got '{text}'"
        )
    if len({o.metric for o in objectives}) != len(objectives):
        raise HistoryError(f"{OBJECTIVES} names a metric twice: '{text}'")
    return objectives


def encode_warm_start(
    parameters: Sequence[str], metrics: Sequence[str], trials: Sequence[Observation]
) -> str:
    """The compact setting text; HistoryError past MAX_WARM_START_BYTES."""
    rows = [
        [t.assignments[p] for p in parameters] + [t.metrics[m] for m in metrics] for t in trials
    ]
    text = json.dumps(
        {"parameters": list(parameters), "metrics": list(metrics), "trials": rows},
        separators=(",", ":"),
    )
    size = len(text.encode("utf-8"))
    if size > MAX_WARM_START_BYTES:
        raise HistoryError(
            f"{WARM_START_TRIALS} would take {size} bytes of the Experiment, more than "
            f"{MAX_WARM_START_BYTES}: warm-start from fewer experiments"
        )
    return text


def warm_start_of(settings: Mapping[str, str]) -> list[Observation]:
    """The earlier trials the setting carries, as finished observations ([] without it)."""
    text = settings.get(WARM_START_TRIALS)
    if text is None:
        return []
    try:
        data = json.loads(text)
        parameters, metrics, rows = data["parameters"], data["metrics"], data["trials"]
        observations = []
        for row in rows:
            wanted = len(parameters) + len(metrics)
            if len(row) != wanted:
                raise ValueError(f"a trial has {len(row)} values, not {wanted}")
            values, scores = row[: len(parameters)], row[len(parameters) :]
            if not all(isinstance(v, str) for v in values):
                raise ValueError("parameter values must be strings")
            observations.append(
                Observation(
                    dict(zip(parameters, values, strict=True)),
                    COMPLETE,
                    {m: float(s) for m, s in zip(metrics, scores, strict=True)},
                )
            )
    except (ValueError, KeyError, TypeError) as e:
        raise HistoryError(f"{WARM_START_TRIALS} is not the generator's format: {e}") from None
    return observations
