"""Translation of disk errors and redaction of credentials (storage_init.errors)."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from storage_init import Source, fetch
from storage_init.errors import DiskFullError, TransientError, from_os_error, redact

from .conftest import ACCESS_KEY_ID, FAST_RETRY, SECRET_ACCESS_KEY


class TestDiskErrors:
    """A full or read-only volume says what to change."""

    def test_full_volume(self) -> None:
        """ENOSPC names the folder and the storage size to raise."""
        error = from_os_error(OSError(errno.ENOSPC, "No space left on device"), "/workspace/x")
        assert isinstance(error, DiskFullError)
        assert (
            "no space left on the cache volume while writing /workspace/x: raise the "
            "experiment's storage size, or delete unused folders under the cache directory"
        ) == str(error)

    def test_unwritable_volume(self) -> None:
        """EACCES points at the pod's fsGroup."""
        error = from_os_error(OSError(errno.EACCES, "Permission denied"), "/workspace/cache")
        assert "cannot write /workspace/cache (Permission denied): the cache volume must be " in (
            str(error)
        )
        assert "fsGroup" in str(error)


class TestRedaction:
    """Credential values never survive into a message."""

    def test_values_of_credential_variables_are_masked(self) -> None:
        """Both AWS values are replaced wherever they appear."""
        text = f"signed with {ACCESS_KEY_ID} and {SECRET_ACCESS_KEY}"
        assert "signed with *** and ***" == redact(text)


class TestUnreachableEndpoint:
    """A refused connection is transient: retried, then reported with the endpoint's target."""

    def test_closed_port(self, tmp_path: Path) -> None:
        """Nothing listens on the port: four attempts, one line, no folder."""
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        source = Source(
            uri="s3://hpo-data/reviews.csv", endpoint_url=f"http://127.0.0.1:{port}", split="train"
        )
        with pytest.raises(TransientError) as caught:
            fetch("dataset", source, tmp_path, retry=FAST_RETRY)
        assert str(caught.value).startswith(
            "network failure talking to S3 for s3://hpo-data/reviews.csv: "
        )
        assert str(caught.value).endswith("(gave up after 4 attempts)")
        assert not (tmp_path / "datasets").exists()
