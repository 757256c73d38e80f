"""`hpo pin`: Hub revisions become commit shas in the definition, and nothing else changes.

The Hub is a loopback server speaking the revision API (tests/storage_init/hubserver.py) with a
model and a dataset repo; HF_ENDPOINT points at it, as it would at a Hub mirror.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import constants

from generator.cli import main
from storage_init.errors import HUB_SECRET_HINT
from storage_init.exits import ExitCode
from tests.generator.conftest import REPO, VALID_DEFINITION
from tests.storage_init.hubserver import FakeHub

MODEL = "meta-llama/Llama-3.2-1B"
DATASET = "stanfordnlp/imdb"
PINNED = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "hf_pintokenvalue"
UNPINNED = VALID_DEFINITION.replace(
    f"  revision: {PINNED}\n", "  revision: main    # follows the branch, for now\n"
)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Any:
    server = FakeHub(MODEL, {"config.json": b"{}", "model.safetensors": b"w"})
    server.add(DATASET, {"data/train.parquet": b"rows"}, repo_type="dataset", refs=("main", "v1"))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    # huggingface_hub reads HF_HUB_OFFLINE once, at import; another test may have set it.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("STORAGE_INIT_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("STORAGE_INIT_RETRY_BASE_SECONDS", "0.01")
    yield server
    server.stop()


def pin(capsys: pytest.CaptureFixture, path: str = "experiments/demo-exp") -> tuple[int, str, str]:
    code = main(["pin", path])
    out, err = capsys.readouterr()
    return code, out, err


class TestPinning:
    """Each unpinned Hub revision is resolved and written in place."""

    def test_model_revision_and_missing_dataset_revision(self, repo, hub, capsys) -> None:
        """`revision: main` is replaced where it stands, its comment kept; the dataset gets a
        `revision:` line after repo_id; every other byte is as it was."""
        path = repo.write(UNPINNED)
        code, out, err = pin(capsys)
        model, dataset = hub.commit_of(MODEL), hub.commit_of(DATASET)
        expected = UNPINNED.replace(
            "  revision: main    # follows", f"  revision: {model}    # follows"
        ).replace(f"  repo_id: {DATASET}\n", f"  repo_id: {DATASET}\n  revision: {dataset}\n")
        assert (0, "") == (code, err)
        assert expected == path.read_text(encoding="utf-8")
        shown = "experiments/demo-exp/experiment.yaml"
        assert [
            f"{shown}: model {MODEL}: revision main -> {model}",
            f"{shown}: dataset {DATASET}: revision (none, main) -> {dataset}",
            f"{shown}: written",
        ] == out.splitlines()

    def test_comments_and_line_endings_kept_byte_for_byte(self, repo, hub, capsys) -> None:
        """A CRLF file with comments everywhere and a flow mapping: only the revisions change."""
        text = "# header comment\r\n" + UNPINNED.replace("\n", "\r\n").replace(
            f"  repo_id: {DATASET}\r\n  split: train[:1000]\r\n",
            "",
        ).replace(
            "dataset_provider_parameters:\r\n",
            f"dataset_provider_parameters: {{repo_id: {DATASET}, split: 'train[:1000]'}}"
            "  # flow\r\n",
        )
        path = repo.write(text)
        path.write_bytes(text.encode("utf-8"))
        code, _, err = pin(capsys)
        model, dataset = hub.commit_of(MODEL), hub.commit_of(DATASET)
        expected = text.replace("revision: main ", f"revision: {model} ").replace(
            f"{{repo_id: {DATASET},", f"{{repo_id: {DATASET}, revision: {dataset},"
        )
        assert (0, "") == (code, err)
        assert expected.encode("utf-8") == path.read_bytes()

    def test_quoted_tag_keeps_its_quotes(self, repo, hub, capsys) -> None:
        """`revision: "v1"` resolves the tag and stays a double-quoted scalar."""
        text = VALID_DEFINITION.replace(
            f"  repo_id: {DATASET}\n", f'  repo_id: {DATASET}\n  revision: "v1"  # a tag\n'
        )
        path = repo.write(text)
        code, _, _ = pin(capsys)
        commit = hub.commit_of(DATASET, "v1")
        assert (0, text.replace('"v1"', f'"{commit}"')) == (code, path.read_text())

    def test_token_is_sent_when_set(self, repo, hub, capsys, monkeypatch) -> None:
        """HF_TOKEN reaches the Hub as a bearer token and is never printed."""
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        repo.write(UNPINNED)
        code, out, err = pin(capsys)
        assert 0 == code
        assert {f"Bearer {TOKEN}"} == {auth for _, auth in hub.requests}
        assert TOKEN not in out + err

    def test_the_file_itself_may_be_named(self, repo, hub, capsys) -> None:
        """`hpo pin experiments/demo-exp/experiment.yaml` is the same as naming the folder."""
        path: Path = repo.write(UNPINNED)
        assert 0 == pin(capsys, str(path))[0]
        assert hub.commit_of(MODEL) in path.read_text()


class TestNothingToPin:
    """Commits and non-Hub inputs are left alone, and the file is not rewritten."""

    def test_already_pinned(self, repo, hub, capsys) -> None:
        """A sha needs no request; the dataset is pinned too: nothing written."""
        text = VALID_DEFINITION.replace(
            f"  repo_id: {DATASET}\n", f"  repo_id: {DATASET}\n  revision: {PINNED}\n"
        )
        path = repo.write(text)
        written = path.stat().st_mtime_ns
        code, out, _ = pin(capsys)
        assert (0, [], written) == (code, hub.requests, path.stat().st_mtime_ns)
        assert out.splitlines()[-1] == (
            "experiments/demo-exp/experiment.yaml: nothing to pin; not written"
        )


class TestHubErrors:
    """Hub errors end with one line and the project's exit code; the file stays as it was."""

    @pytest.mark.parametrize(
        ("status", "code", "exit_code", "message"),
        [
            (
                401,
                "GatedRepo",
                ExitCode.AUTH,
                f"hpo: error: 401 from the Hub: model {MODEL} is gated and HF_TOKEN is missing or "
                "its account has not been granted access; accept the terms on the repo's page",
            ),
            (
                403,
                "",
                ExitCode.AUTH,
                f"hpo: error: 403 from the Hub: HF_TOKEN is missing or has no access to {MODEL}",
            ),
            (
                503,
                "",
                ExitCode.UNAVAILABLE,
                f"hpo: error: 503 from the Hub for model {MODEL}@main (gave up after 2 attempts)",
            ),
        ],
    )
    def test_error(self, repo, hub, capsys, status, code, exit_code, message) -> None:
        """A gated repo, a forbidden one, an outage."""
        hub.errors[MODEL] = (status, code)
        path = repo.write(UNPINNED)
        result, _, err = pin(capsys)
        assert (exit_code, message) == (result, err.splitlines()[-1])
        assert UNPINNED == path.read_text()

    @pytest.mark.parametrize(
        ("status", "code"), [(401, "RepoNotFound"), (403, "GatedRepo"), (404, "RevisionNotFound")]
    )
    def test_the_download_job_reads_the_same_answer_alike(
        self, repo, hub, capsys, monkeypatch, tmp_path, status, code
    ) -> None:
        """One translator of the Hub's errors: the same answer gives the download Job's line and
        exit code, with HF_TOKEN named where the Job names its Secret."""
        hub.error = (status, code)
        repo.write(UNPINNED)
        pinned, _, err = pin(capsys)
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
        monkeypatch.setenv("PYTHONPATH", str(REPO))
        download = subprocess.run(
            [sys.executable, "-m", "storage_init", "model", "--uri", f"hf://{MODEL}"]
            + ["--revision", "main", "--cache-dir", str(tmp_path / "cache")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        job_line = download.stderr.splitlines()[-1]
        assert (download.returncode, job_line.replace(HUB_SECRET_HINT, "HF_TOKEN")) == (
            pinned,
            err.splitlines()[-1].replace("hpo: ", "", 1),
        )

    def test_missing_revision(self, repo, hub, capsys) -> None:
        """A branch the repo does not have is NOT_FOUND, naming it."""
        path = repo.write(UNPINNED.replace("revision: main ", "revision: release "))
        result, _, err = pin(capsys)
        assert ExitCode.NOT_FOUND == result
        assert (
            f"hpo: error: 404 from the Hub: revision 'release' does not exist in model {MODEL}; "
            "pin an existing branch, tag or commit"
        ) == err.splitlines()[-1]
        assert "revision: release " in path.read_text()


class TestChecked:
    """The pinned definition is checked as `hpo check` checks a file."""

    def test_invalid_definition_is_refused_before_any_request(self, repo, hub, capsys) -> None:
        """A definition that does not load is reported, and the Hub is not asked."""
        path = repo.write(UNPINNED.replace("num_labels: 2", "num_labels: two"))
        result, _, err = pin(capsys)
        assert (ExitCode.PROBLEMS, []) == (result, hub.requests)
        assert "experiments/demo-exp/experiment.yaml:8:15: error:" in err
        assert err.splitlines()[-1].endswith(
            "fix the definition first (hpo check experiments/demo-exp/experiment.yaml)"
        )
        assert "num_labels: two" in path.read_text()

    def test_pinned_file_passes_hpo_check_without_the_revision_warning(
        self, repo, hub, capsys
    ) -> None:
        """Before: the unpinned-revision warning; after: none."""
        repo.write(UNPINNED)
        assert 0 == main(["check", "experiments/demo-exp"])
        before = capsys.readouterr().err
        assert 0 == pin(capsys)[0]
        assert 0 == main(["check", "experiments/demo-exp"])
        after = capsys.readouterr().err
        assert "not pinned to a commit" in before
        assert "not pinned to a commit" not in after
