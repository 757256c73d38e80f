"""Metrics from a trial's output, read the way Katib's StdOut collector reads them.

The collector matches `name=value` anywhere in a log line with Katib's default filter and keeps
the metrics the Experiment names; each metric's reported value is the one its strategy picks
(`min`, `max` or `latest`) over everything the trial printed.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable

# Katib's default StdOut filter (pkg/metricscollector/v1beta1/common/const.go).
METRIC_PATTERN = re.compile(r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")


def parse_line(line: str, wanted: Iterable[str]) -> list[tuple[str, float]]:
    """(name, value) for each wanted metric on one line, in order of appearance."""
    names = set(wanted)
    found = []
    for match in METRIC_PATTERN.finditer(line):
        name, text = match.group(1), match.group(2)
        if name not in names or text in ("", "+", "-", "."):
            continue
        try:
            value = float(text)
        except ValueError:
            continue
        if math.isfinite(value):
            found.append((name, value))
    return found


def pick(values: list[float], strategy: str) -> float:
    if strategy == "min":
        return min(values)
    if strategy == "max":
        return max(values)
    return values[-1]


class TrialMetrics:
    """Every value of every wanted metric one trial printed; written by its reader thread."""

    def __init__(self, names: Iterable[str], strategies: dict[str, str]):
        self.names = tuple(names)
        self.strategies = strategies
        self._series: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def feed(self, line: str) -> None:
        found = parse_line(line, self.names)
        if found:
            with self._lock:
                for name, value in found:
                    self._series.setdefault(name, []).append(value)

    def series(self, name: str) -> list[float]:
        with self._lock:
            return list(self._series.get(name, ()))

    def observed(self) -> dict[str, float]:
        """Each reported metric's value by its strategy (what Katib stores as the observation)."""
        with self._lock:
            return {
                name: pick(values, self.strategies.get(name, "latest"))
                for name, values in sorted(self._series.items())
            }

    def extremes(self) -> dict[str, list[float]]:
        """[latest, min, max] of each reported metric, as Katib's observation keeps them."""
        with self._lock:
            return {
                name: [values[-1], min(values), max(values)]
                for name, values in sorted(self._series.items())
            }

    def latest(self, name: str) -> float | None:
        series = self.series(name)
        return series[-1] if series else None
