"""The Hub's HTTP answers, from a local server speaking its wire format, through the real CLI.

Each case runs `python -m storage_init` with HF_ENDPOINT pointing at the server and
HF_HUB_OFFLINE=0, so huggingface_hub raises its own exception types from real responses and the
translation in storage_init/errors.py is what a user would see.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storage_init import MARKER_NAME, current_folder, verify
from storage_init.exits import ExitCode

from .conftest import HF_TOKEN_VALUE, run_cli
from .hubserver import FakeHub

FILES = {
    "config.json": b'{"model_type": "bert"}',
    "model.safetensors": b"safetensors bytes",
    "pytorch_model.bin": b"pickled bytes",
    "README.md": b"# card",
}
SECRET_HINT = "the Secret named in access_token (HF_TOKEN)"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Any:
    server = FakeHub("acme/tiny", FILES)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("STORAGE_INIT_RETRY_ATTEMPTS", "3")
    monkeypatch.setenv("STORAGE_INIT_RETRY_BASE_SECONDS", "0.01")
    yield server
    server.stop()


def fetch_model(cache: Path, *extra: str) -> Any:
    return run_cli("model", "--uri", "hf://acme/tiny", *extra, "--cache-dir", str(cache))


class TestHubDownloads:
    """A real download: the files from_pretrained needs, pinned to the commit, fetched once."""

    def test_download_then_only_the_revision_is_asked(
        self, hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The token goes to the Hub and nowhere else; a second run asks what main is now and
        downloads nothing."""
        monkeypatch.setenv("HF_TOKEN", HF_TOKEN_VALUE)
        first = fetch_model(tmp_path, "--revision", "main")
        assert 0 == first.returncode, first.stderr
        folder = Path(first.stdout.splitlines()[-1])
        marker = verify(folder, checksums=True)
        assert (hub.commit, {"commit": hub.commit}) == (
            marker["resolved_revision"],
            marker["resolved"],
        )
        assert ["config.json", "model.safetensors"] == sorted(marker["files"])
        assert {f"Bearer {HF_TOKEN_VALUE}"} == {auth for _, auth in hub.requests}
        marker_text = (current_folder(folder) / MARKER_NAME).read_text()
        assert HF_TOKEN_VALUE not in first.stderr + marker_text

        sent = len(hub.requests)
        second = fetch_model(tmp_path, "--revision", "main")
        assert (0, first.stdout) == (second.returncode, second.stdout)
        assert ["/api/models/acme/tiny/revision/main"] == [p for p, _ in hub.requests[sent:]]

    def test_a_pinned_commit_is_not_asked_again(self, hub: FakeHub, tmp_path: Path) -> None:
        """A full commit sha cannot move: once cached, a rerun sends no request at all."""
        first = fetch_model(tmp_path, "--revision", hub.commit)
        assert 0 == first.returncode, first.stderr
        sent = len(hub.requests)
        second = fetch_model(tmp_path, "--revision", hub.commit)
        assert (0, first.stdout, sent) == (second.returncode, second.stdout, len(hub.requests))

    def test_moved_branch_is_fetched_again(self, hub: FakeHub, tmp_path: Path) -> None:
        """main moves: a new content folder with the new files, the pointer follows, and the
        copy a running trial may read stays as it was."""
        first = fetch_model(tmp_path)
        reference = Path(first.stdout.splitlines()[-1])
        old = current_folder(reference)
        moved = hub.publish(FILES | {"model.safetensors": b"retrained weights"})
        second = fetch_model(tmp_path)
        assert (0, first.stdout) == (second.returncode, second.stdout), second.stderr
        new = current_folder(reference)
        assert (moved, b"retrained weights") == (
            verify(reference)["resolved_revision"],
            (new / "model.safetensors").read_bytes(),
        )
        assert b"safetensors bytes" == (old / "model.safetensors").read_bytes()
        assert sorted([old.name, new.name]) == sorted(
            p.name for p in reference.iterdir() if p.is_dir()
        )

    def test_503s_are_retried(self, hub: FakeHub, tmp_path: Path) -> None:
        """Two 503s from the Hub, then the download succeeds; both retries are logged."""
        hub.fail_next(2)
        result = fetch_model(tmp_path)
        assert 0 == result.returncode, result.stderr
        assert 2 == result.stderr.count("503 from the Hub for model acme/tiny; retrying in")
        assert hub.commit == verify(result.stdout.splitlines()[-1])["resolved_revision"]


class TestHubOutage:
    """The Hub failing after the first download does not stop an experiment."""

    @pytest.mark.parametrize("outage", ["503", "no server"])
    def test_cached_copy_is_used_with_a_warning(
        self, hub: FakeHub, tmp_path: Path, outage: str
    ) -> None:
        """Exit 0 with the same folder; one warning names the reference, the commit of the copy
        used and when it was fetched."""
        first = fetch_model(tmp_path, "--revision", "main")
        folder = Path(first.stdout.splitlines()[-1])
        marker = verify(folder)
        if outage == "503":
            hub.error = (503, "")
        else:
            hub.stop()
        second = fetch_model(tmp_path, "--revision", "main")
        assert (0, first.stdout) == (second.returncode, second.stdout), second.stderr
        [warning] = [line for line in second.stderr.splitlines() if "warning:" in line]
        reason = "503 from the Hub for model acme/tiny@main" if outage == "503" else "could not"
        assert warning.startswith(
            f"storage-init: warning: hf://acme/tiny@main could not be verified: {reason}"
        )
        assert warning.endswith(
            f"(gave up after 3 attempts); using the copy cached in {current_folder(folder)}: "
            f"{hub.commit}, fetched at {marker['fetched_at']}"
        )

    def test_no_cached_copy_still_fails(self, hub: FakeHub, tmp_path: Path) -> None:
        """Without a copy of the same reference the outage is an error, as before."""
        fetch_model(tmp_path, "--revision", "main")
        hub.error = (503, "")
        result = fetch_model(tmp_path, "--revision", "v2")
        assert ExitCode.UNAVAILABLE == result.returncode
        assert "warning:" not in result.stderr


class TestHubErrors:
    """401/403/404/503 become one line that names the Secret, the repo or the revision."""

    @pytest.mark.parametrize(
        ("status", "code", "exit_code", "message"),
        [
            (
                401,
                "RepoNotFound",
                ExitCode.AUTH,
                f"401 from the Hub: {SECRET_HINT} is missing or has no access to acme/tiny, or "
                "no model repo of that name exists",
            ),
            (
                403,
                "GatedRepo",
                ExitCode.AUTH,
                f"403 from the Hub: model acme/tiny is gated and {SECRET_HINT} is missing or its "
                "account has not been granted access; accept the terms on the repo's page",
            ),
            (
                404,
                "RevisionNotFound",
                ExitCode.NOT_FOUND,
                "404 from the Hub: revision 'v9' does not exist in model acme/tiny; pin an "
                "existing branch, tag or commit",
            ),
            (
                503,
                "",
                ExitCode.UNAVAILABLE,
                "503 from the Hub for model acme/tiny@v9 (gave up after 3 attempts)",
            ),
        ],
    )
    def test_error_line(
        self, hub: FakeHub, tmp_path: Path, status: int, code: str, exit_code: int, message: str
    ) -> None:
        """The exit code names the class; no folder is left behind."""
        hub.error = (status, code)
        result = fetch_model(tmp_path, "--revision", "v9")
        assert exit_code == result.returncode
        assert f"error: {message}" == result.stderr.splitlines()[-1]
        assert not (tmp_path / "models").exists()
