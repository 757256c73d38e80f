"""The notebook client's former home: `from generator.client import KatibClient` still works."""

import client as _client
from client import *  # noqa: F403 - the whole public surface, as the package defines it

__all__ = _client.__all__
