"""One trial (or download step) as a child process whose output is logged and read as it comes.

Each process leads its own session, so Ctrl-C in the terminal reaches only `hpo`, which then
stops the children in order (SIGTERM to the whole group, SIGKILL after a grace period): a trial
launched with torchrun takes its workers with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

GRACE_SECONDS = 10.0


class ChildProcess:
    """A running command; stdout and stderr go to `log_file` and, line by line, to `on_line`."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        log_file: Path,
        on_line: Callable[[str], None] | None = None,
    ):
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file = log_file
        self.started = time.monotonic()
        self.ended: float | None = None
        self._kill_at: float | None = None  # when a requested stop turns into SIGKILL
        self._on_line = on_line
        self._log = log_file.open("w", encoding="utf-8")
        self._log.write("$ " + " ".join(argv) + "\n")
        self._log.flush()
        try:
            self._popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                start_new_session=True,
            )
        except OSError:
            self._log.close()
            raise
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._popen.stdout is not None
        for line in self._popen.stdout:
            self._log.write(line)
            self._log.flush()
            if self._on_line is not None:
                self._on_line(line)
        self._log.close()

    def poll(self) -> int | None:
        """The exit code once the process has ended and all its output has been read."""
        code = self._popen.poll()
        if code is None:
            if self._kill_at is not None and time.monotonic() >= self._kill_at:
                self._signal(signal.SIGKILL)
            return None
        self._reader.join()
        if self.ended is None:
            self.ended = time.monotonic()
        return code

    def wait(self) -> int:
        self._popen.wait()
        code = self.poll()
        assert code is not None
        return code

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def request_stop(self, grace: float = GRACE_SECONDS) -> None:
        """SIGTERM the process group now; `poll` sends SIGKILL once `grace` seconds have passed.

        Asking again can only shorten the grace period.
        """
        if self._popen.poll() is not None:
            return
        if self._kill_at is None:
            self._signal(signal.SIGTERM)
            self._kill_at = time.monotonic() + grace
        else:
            self._kill_at = min(self._kill_at, time.monotonic() + grace)

    def stop(self, grace: float = GRACE_SECONDS) -> int:
        """SIGTERM the process group, SIGKILL it after `grace` seconds; return the exit code."""
        if self._popen.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self._popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._popen.wait()
        return self.wait()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # ended between poll() and the signal
            os.killpg(self._popen.pid, signum)

    def tail(self, lines: int = 3) -> list[str]:
        """The last lines of the log, for a failure message."""
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        output = text.splitlines()[1:]  # the first line is the command
        return [line for line in output if line.strip()][-lines:]
