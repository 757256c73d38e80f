"""`hpo check` and `hpo pin` read references with the download Job's parser: a reference is
refused at its field's line exactly when the storage initializer would refuse it."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

from typing import Any

import pytest
from huggingface_hub import constants

from generator.cli import main
from storage_init.errors import InvalidReferenceError
from storage_init.exits import ExitCode
from storage_init.references import parse_uri
from tests.generator.conftest import VALID_DEFINITION
from tests.storage_init.hubserver import FakeHub
from tests.support.references import BUCKETS, DATASET_REPO_IDS, KEYS, MODEL_URIS

SHOWN = "experiments/demo-exp/experiment.yaml"
MODEL = "meta-llama/Llama-3.2-1B"
S3_DATASET = (
    "  endpoint_url: https://s3.example.com\n  bucket_name: {bucket}\n  file_key: {key}\n"
    "  split: train\n"
)

# An empty bucket_name or file_key is refused by the definition's model before any check.
NAMED_BUCKETS = [(bucket, valid) for bucket, valid in BUCKETS if bucket]
NAMED_KEYS = [(key, valid) for key, valid in KEYS if key]


def _line_of(text: str, marker: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if marker in line)


def _check(repo, capsys, text: str) -> tuple[int, list[str]]:
    repo.write(text)
    code = main(["check"])
    return code, [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]


def _s3_definition(bucket: str, key: str) -> str:
    dataset = "  repo_id: stanfordnlp/imdb\n  split: train[:1000]\n"
    assert dataset in VALID_DEFINITION
    quoted = S3_DATASET.format(bucket=f"'{bucket}'", key=f"'{key}'")
    return VALID_DEFINITION.replace(dataset, quoted)


class TestCheckAgreesWithTheStorageInitializer:
    """For every reference of the table: hpo check refuses it, at its line, iff the parser does."""

    @pytest.mark.parametrize(("uri", "valid"), MODEL_URIS, ids=[u[:40] for u, _ in MODEL_URIS])
    def test_model_uri(self, repo, capsys, uri: str, valid: bool) -> None:
        text = VALID_DEFINITION.replace(f"hf://{MODEL}", f"'{uri}'")
        code, errors = _check(repo, capsys, text)
        try:
            parse_uri(uri)
            download_accepts = True
        except InvalidReferenceError:
            download_accepts = False
        assert (valid, valid) == (code == 0, download_accepts), errors
        if not valid:
            line = _line_of(text, "model_uri:")
            assert [
                f"{SHOWN}:{line}:14: error: model_uri: {uri}: the Hub refuses this repo id: "
            ] == [e[: e.index("repo id: ") + len("repo id: ")] for e in errors]

    @pytest.mark.parametrize(("written", "repo_id"), DATASET_REPO_IDS)
    def test_dataset_repo_id(self, repo, capsys, written: str, repo_id: str | None) -> None:
        text = VALID_DEFINITION.replace("repo_id: stanfordnlp/imdb", f"repo_id: '{written}'")
        code, errors = _check(repo, capsys, text)
        if repo_id is not None:
            assert (0, []) == (code, errors)
        else:
            line = _line_of(text, "repo_id:")
            assert 1 == code
            assert [f"{SHOWN}:{line}:12: error: repo_id: {written}: the Hub refuses"] == [
                e[: e.index(" refuses") + len(" refuses")] for e in errors
            ]

    @pytest.mark.parametrize(
        ("bucket", "valid"), NAMED_BUCKETS, ids=[b[:30] for b, _ in NAMED_BUCKETS]
    )
    def test_bucket_name(self, repo, capsys, bucket: str, valid: bool) -> None:
        text = _s3_definition(bucket, "reviews.csv")
        code, errors = _check(repo, capsys, text)
        if valid:
            assert (0, []) == (code, errors)
        else:
            line = _line_of(text, "bucket_name:")
            assert [f"{SHOWN}:{line}:16: error: bucket_name: s3://{bucket}/reviews.csv: "] == [
                e[: e.index(".csv: ") + len(".csv: ")] for e in errors
            ]

    @pytest.mark.parametrize(("key", "valid"), NAMED_KEYS, ids=[k[:20] for k, _ in NAMED_KEYS])
    def test_file_key(self, repo, capsys, key: str, valid: bool) -> None:
        text = _s3_definition("hpo-data", key)
        code, errors = _check(repo, capsys, text)
        if valid:
            assert (0, []) == (code, errors)
        else:
            line = _line_of(text, "file_key:")
            assert 1 == len(errors), errors
            assert errors[0].startswith(f"{SHOWN}:{line}:13: error: ")
            assert "file_key" in errors[0]


class TestPin:
    """hpo pin reads references with the same parser, before asking the Hub anything."""

    @pytest.fixture
    def hub(self, monkeypatch: pytest.MonkeyPatch) -> Any:
        server = FakeHub(MODEL, {"config.json": b"{}", "model.safetensors": b"w"})
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        # huggingface_hub reads HF_HUB_OFFLINE once, at import; another test may have set it.
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setenv("STORAGE_INIT_RETRY_ATTEMPTS", "2")
        monkeypatch.setenv("STORAGE_INIT_RETRY_BASE_SECONDS", "0.01")
        yield server
        server.stop()

    def test_a_refused_reference_is_reported_at_its_line_and_nothing_is_asked(
        self, repo, hub, capsys
    ) -> None:
        text = VALID_DEFINITION.replace(f"hf://{MODEL}", "hf://meta--llama/Llama-3.2-1B").replace(
            "  revision: 0123456789abcdef0123456789abcdef01234567\n", ""
        )
        path = repo.write(text)
        code = main(["pin", "experiments/demo-exp"])
        err = capsys.readouterr().err.splitlines()
        line = _line_of(text, "model_uri:")
        assert (ExitCode.PROBLEMS, []) == (code, hub.requests)
        assert err[0].startswith(
            f"{SHOWN}:{line}:14: error: model_uri: hf://meta--llama/Llama-3.2-1B: the Hub refuses"
        )
        assert text == path.read_text(encoding="utf-8")
