"""What one run cost and reached, from when each line of the trainer's output arrived.

The trainer prints `name=value` lines as things happen (trainer/report.py): `trainable_params`
just before training starts, `train_loss`, `epoch`, `step=N` after step N is logged, and
`eval_loss`, the task's metrics, `epoch`, `step=N` after evaluating at step N. The Trainer logs a
step before it evaluates, so with a log after every step (logging_steps 1) an evaluation lasts
from the one line to the other, and training is everything between the start and the last step
that is not an evaluation. The trainer needs no timing code of its own for this.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Timeline:
    """Arrival times of the trainer's lines, in seconds since the timeline was made (just
    before the process starts)."""

    clock: Callable[[], float] = time.monotonic
    started: float = 0.0
    train_start: float | None = None
    logged: dict[int, float] = field(default_factory=dict)  # step -> its log line
    evaluated: dict[int, tuple[float, dict[str, float]]] = field(default_factory=dict)
    _group: tuple[str, float, dict[str, float]] | None = None  # lines up to the next `step=`

    def __post_init__(self) -> None:
        self.started = self.clock()

    def feed(self, line: str) -> None:
        now = self.clock() - self.started
        name, sep, text = line.strip().partition("=")
        if not sep:
            return
        if name == "trainable_params":
            # Printed again with the costs at the end: the first one marks the start.
            if self.train_start is None:
                self.train_start = now
        elif name == "train_loss":
            self._group = ("log", now, {})
        elif name == "eval_loss":
            self._group = ("eval", now, {name: float(text)})
        elif self._group is not None and name.startswith("eval_"):
            self._group[2][name] = float(text)
        elif self._group is not None and name == "step":
            kind, at, values = self._group
            step = int(text)
            if kind == "log":
                # The end of training logs train_loss at the last step once more.
                self.logged.setdefault(step, at)
            else:
                self.evaluated.setdefault(step, (at, values))
            self._group = None


@dataclass(frozen=True)
class Curve:
    startup_seconds: float  # process start to training start (imports, model and data load)
    seconds_per_step: float  # training seconds per optimizer step, evaluations left out
    eval_seconds: float  # mean seconds of one evaluation
    points: dict[int, dict[str, float]]  # step -> the eval metrics printed there


def curve(timeline: Timeline) -> Curve:
    """What a finished run (or one that failed part way) cost and reached; nan where unknown."""
    start = timeline.train_start if timeline.train_start is not None else math.nan
    previous, training, evaluations = start, 0.0, []
    for step in sorted(timeline.logged):
        at = timeline.logged[step]
        training += at - previous
        previous = at
        if step in timeline.evaluated:
            ended = timeline.evaluated[step][0]
            evaluations.append(ended - at)
            previous = ended
    steps = max(timeline.logged, default=0)
    return Curve(
        startup_seconds=start,
        seconds_per_step=training / steps if steps else math.nan,
        eval_seconds=sum(evaluations) / len(evaluations) if evaluations else math.nan,
        points={step: values for step, (_, values) in sorted(timeline.evaluated.items())},
    )
