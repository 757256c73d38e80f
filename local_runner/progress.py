"""What the person at the terminal sees: a live table on a TTY, one line per event otherwise.

Both views get the same events from the scheduler: a trial started, a trial finished (with the
best trial so far), and a periodic update with the running trials.
"""

from __future__ import annotations

import sys
from typing import IO


def describe(assignments: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in assignments.items())


def metric_text(name: str, value: float | None) -> str:
    return f"{name}={value:.6g}" if value is not None else f"{name}=-"


class PlainProgress:
    """Log lines for CI and pipes: no cursor movement, one line per event."""

    def __init__(self, objective: str, stream: IO[str] | None = None):
        self.objective = objective
        self.stream = stream or sys.stdout
        self.budget: str | None = None  # spent / budget, kept current by the scheduler

    def message(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def started(self, running) -> None:
        self.message(f"started   {running.name}  {describe(running.assignments)}")

    def finished(self, record, note: str, best) -> None:
        value = record.metrics.get(self.objective)
        line = f"finished  {record.name}  {record.status:<18} {metric_text(self.objective, value)}"
        line += f"  ({record.seconds:.1f}s)"
        if note:
            line += f"  {note}"
        self.message(line)
        if best is not None:
            best_value = best.metrics[self.objective]
            self.message(f"best      {best.name}  {metric_text(self.objective, best_value)}")
        if self.budget is not None:
            self.message(f"budget    {self.budget}")

    def update(self, running, finished, best) -> None:
        pass  # events are enough for a log

    def close(self) -> None:
        pass


class LiveProgress(PlainProgress):
    """A rich table of running and recent trials, redrawn in place."""

    def __init__(self, objective: str, title: str, console=None):
        super().__init__(objective)
        from rich.console import Console
        from rich.live import Live

        self.title = title
        self.console = console or Console()
        self._running: list = []
        self._finished: list = []
        self._best = None
        self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def message(self, text: str) -> None:
        self.live.console.print(text, markup=False, highlight=False)

    def finished(self, record, note: str, best) -> None:
        self._best = best
        self._finished.append(record)
        value = record.metrics.get(self.objective)
        extra = f"  {note}" if note else ""
        self.message(
            f"{record.name}  {record.status}  {metric_text(self.objective, value)}"
            f"  ({record.seconds:.1f}s){extra}"
        )
        self.live.update(self._table())

    def started(self, running) -> None:
        self.live.update(self._table())

    def update(self, running, finished, best) -> None:
        self._running, self._best = list(running), best
        self._finished = [t for t in finished if not t.interrupted]
        self.live.update(self._table())

    def _title(self) -> str:
        counts: dict[str, int] = {}
        for record in self._finished:
            counts[record.status] = counts.get(record.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no trial finished"
        best = (
            f"best {self._best.name} "
            f"{metric_text(self.objective, self._best.metrics[self.objective])}"
            if self._best is not None
            else "no best trial yet"
        )
        budget = f"; budget {self.budget}" if self.budget is not None else ""
        return f"{self.title}: {summary}; {best}{budget}"

    def _table(self):
        from rich.table import Table

        table = Table(title=self._title(), title_justify="left")
        for column in ("trial", "state", "parameters", self.objective, "seconds"):
            table.add_column(column)
        for running in self._running:
            state = running.stopped_as and f"stopping ({running.stopped_as})" or "Running"
            table.add_row(
                running.name,
                state,
                describe(running.assignments),
                metric_text(self.objective, running.metrics.latest(self.objective)).split("=")[1],
                f"{running.process.seconds:.0f}",
            )
        return table

    def close(self) -> None:
        from rich.text import Text

        self.live.update(Text(self._title()))  # the table of running trials is empty by now
        self.live.stop()


def make_progress(objective: str, title: str, stream: IO[str] | None = None):
    target = stream or sys.stdout
    if target.isatty():
        return LiveProgress(objective, title)
    return PlainProgress(objective, target)
