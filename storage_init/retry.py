"""Retries with exponential backoff and jitter for transient storage errors.

One policy for every backend, so S3 throttling, a Hub 503 and a reset connection are treated the
same way. The SDKs' own retry loops are switched off where they can be, so attempts are counted
in one place and the log says what is being retried.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import InvalidSourceError, StorageError

log = logging.getLogger("storage_init")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all; the wait before try n+1 is about base_delay * 2**(n-1)."""

    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 30.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """STORAGE_INIT_RETRY_ATTEMPTS and STORAGE_INIT_RETRY_BASE_SECONDS override the defaults."""
        try:
            attempts = int(os.environ.get("STORAGE_INIT_RETRY_ATTEMPTS") or cls.attempts)
            base = float(os.environ.get("STORAGE_INIT_RETRY_BASE_SECONDS") or cls.base_delay)
        except ValueError as error:
            raise InvalidSourceError(f"bad STORAGE_INIT_RETRY_* value: {error}") from error
        return cls(attempts=max(1, attempts), base_delay=max(0.0, base))

    def delay(self, failed_attempts: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** (failed_attempts - 1))
        # Full jitter: parallel downloaders that failed together do not retry together.
        return random.uniform(ceiling / 2, ceiling)


def with_retries(policy: RetryPolicy, what: str, operation: Callable[[], T]) -> T:
    """Run `operation` (which raises StorageError only), retrying the transient ones."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return operation()
        except StorageError as error:
            if not error.transient or attempt == policy.attempts:
                if error.transient:
                    raise type(error)(f"{error} (gave up after {attempt} attempts)") from error
                raise
            wait = policy.delay(attempt)
            log.warning(
                "%s: %s; retrying in %.1fs (attempt %d of %d)",
                what,
                error,
                wait,
                attempt + 1,
                policy.attempts,
            )
            time.sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")
