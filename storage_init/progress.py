"""Bytes and rate while downloading.

On a terminal one line is redrawn in place; in a pod (no TTY) a plain log line is written every
`interval` seconds, so `kubectl logs` shows steady progress without control characters. Counts come
either from callbacks (`add`, used by S3) or from a `sample` function polled by the reporter thread
(used for the Hub, whose downloads write into the hub cache).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

log = logging.getLogger("storage_init")
DEFAULT_LOG_INTERVAL = 10.0
TTY_INTERVAL = 0.5


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def log_interval() -> float:
    """Seconds between plain progress lines; STORAGE_INIT_PROGRESS_SECONDS overrides."""
    try:
        return max(0.05, float(os.environ.get("STORAGE_INIT_PROGRESS_SECONDS", "")))
    except ValueError:
        return DEFAULT_LOG_INTERVAL


class Progress:
    """Context manager that reports `label: done [/ total (pct)] at rate` until closed."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        sample: Callable[[], int] | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self._sample = sample
        self._stream = stream or sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interval = TTY_INTERVAL if self._tty else log_interval()
        self._done = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._report_until_stopped, daemon=True)
        self._started = 0.0

    def add(self, count: int) -> None:
        with self._lock:
            self._done += count

    @property
    def done(self) -> int:
        if self._sample is not None:
            return self._sample()
        with self._lock:
            return self._done

    def line(self) -> str:
        done = self.done
        elapsed = max(time.monotonic() - self._started, 1e-6)
        text = f"{self.label}: {human_bytes(done)}"
        if self.total:
            text += f" of {human_bytes(self.total)} ({100 * done / self.total:.0f}%)"
        return f"{text} at {human_bytes(done / elapsed)}/s"

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._tty:
            self._stream.write("\r\033[K")
            self._stream.flush()
        elapsed = time.monotonic() - self._started
        if exc_info[0] is None:
            log.info("%s: done, %s in %.1fs", self.label, human_bytes(self.done), elapsed)

    def _report_until_stopped(self) -> None:
        while not self._stop.wait(self._interval):
            if self._tty:
                self._stream.write("\r\033[K" + self.line())
                self._stream.flush()
            else:
                log.info("%s", self.line())


def folder_size(path: str | os.PathLike[str]) -> int:
    """Bytes in the files directly under `path` (partial downloads included); 0 if absent."""
    try:
        with os.scandir(path) as entries:
            return sum(entry.stat().st_size for entry in entries if entry.is_file())
    except OSError:
        return 0
