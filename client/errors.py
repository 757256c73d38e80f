"""The notebook client's error: what `KatibClient` raises for anything it cannot do."""

from __future__ import annotations

from generator.errors import HpoError


class ClientError(HpoError):
    """tune() cannot write a definition from these arguments, or a read or wait failed."""
