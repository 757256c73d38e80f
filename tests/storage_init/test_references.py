"""One parser of model and dataset references (storage_init.references): the libraries' rules,
and a refused reference is an input error (exit 1) before anything is asked of the network."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from storage_init.errors import InvalidReferenceError
from storage_init.exits import ExitCode
from storage_init.references import (
    HubRepo,
    LocalPath,
    S3Location,
    dataset_uri,
    parse_dataset_repo_id,
    parse_model_uri,
    parse_s3,
    parse_uri,
    s3_uri,
)
from tests.support.references import BUCKETS, DATASET_REPO_IDS, KEYS, MODEL_URIS

from .conftest import run_cli
from .hubserver import FakeHub


def _accepted(parse: Any, *args: str) -> bool:
    try:
        parse(*args)
    except InvalidReferenceError:
        return False
    return True


def _hub_accepts(repo_id: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        return False
    return True


def _botocore_accepts(bucket: str) -> bool:
    from botocore.exceptions import ParamValidationError
    from botocore.handlers import validate_bucket_name

    try:
        validate_bucket_name({"Bucket": bucket})
    except ParamValidationError:
        return False
    return True


class TestHubRepoIds:
    """A Hub reference is accepted exactly when huggingface_hub accepts its repo id."""

    @pytest.mark.parametrize(("uri", "valid"), MODEL_URIS, ids=[u[:40] for u, _ in MODEL_URIS])
    def test_parser_gives_the_written_answer(self, uri: str, valid: bool) -> None:
        """Both the download Job's reading (parse_uri) and a definition's (parse_model_uri)."""
        assert (valid, valid) == (_accepted(parse_uri, uri), _accepted(parse_model_uri, uri))

    @pytest.mark.parametrize(("uri", "valid"), MODEL_URIS, ids=[u[:40] for u, _ in MODEL_URIS])
    def test_the_library_still_gives_it(self, uri: str, valid: bool) -> None:
        """When a huggingface_hub release changes its rule, this fails and the table is updated."""
        assert valid == _hub_accepts(uri.removeprefix("hf://"))

    def test_the_org_alone_is_not_a_repo(self) -> None:
        """`hf://org/` was once read as the repo `org`; now it is refused with the Hub's words."""
        with pytest.raises(InvalidReferenceError) as raised:
            parse_uri("hf://meta-llama/")
        assert raised.value.exit_code == ExitCode.PROBLEMS
        assert str(raised.value).startswith("hf://meta-llama/: the Hub refuses this repo id: ")
        assert "repo_id" == raised.value.part

    def test_a_valid_reference_keeps_its_repo_id_and_uri(self) -> None:
        reference = parse_uri("hf://meta-llama/Llama-3.2-1B")
        assert HubRepo("meta-llama/Llama-3.2-1B") == reference
        assert "hf://meta-llama/Llama-3.2-1B" == reference.uri


class TestDefinitionForms:
    """A definition's model_uri needs a scheme or a local prefix; a dataset repo_id may omit hf://."""

    @pytest.mark.parametrize(("written", "repo_id"), DATASET_REPO_IDS)
    def test_dataset_repo_ids(self, written: str, repo_id: str | None) -> None:
        if repo_id is None:
            with pytest.raises(InvalidReferenceError, match="the Hub refuses this repo id"):
                parse_dataset_repo_id(written)
        else:
            assert HubRepo(repo_id) == parse_dataset_repo_id(written)
            assert f"hf://{repo_id}" == dataset_uri(written)

    def test_local_paths_are_written_as_they_stand(self) -> None:
        """The cache key hashes the URI as written, so `./data` stays `./data`."""
        assert ("./data", LocalPath(Path("./data"))) == (
            dataset_uri("./data"),
            parse_dataset_repo_id("./data"),
        )
        assert LocalPath(Path("/models/llama")) == parse_model_uri("/models/llama")

    def test_bare_model_repo_gets_the_scheme_as_a_hint(self) -> None:
        with pytest.raises(InvalidReferenceError) as raised:
            parse_model_uri("meta-llama/Llama-3.2-1B")
        assert str(raised.value).endswith("; did you mean 'hf://meta-llama/Llama-3.2-1B'?")

    def test_no_hint_when_the_hint_would_be_refused_too(self) -> None:
        with pytest.raises(InvalidReferenceError) as raised:
            parse_model_uri("meta--llama/Llama-3.2-1B")
        assert "did you mean" not in str(raised.value)

    def test_an_s3_uri_is_not_a_dataset_repo_id(self) -> None:
        with pytest.raises(InvalidReferenceError, match="bucket_name and file_key"):
            parse_dataset_repo_id("s3://hpo-data/reviews.csv")

    def test_other_schemes_are_refused(self) -> None:
        with pytest.raises(InvalidReferenceError, match="scheme gs:// is not supported"):
            parse_model_uri("gs://bucket/model")


class TestS3:
    """Bucket names by botocore's own check; keys by S3's limits."""

    @pytest.mark.parametrize(("bucket", "valid"), BUCKETS, ids=[b[:30] for b, _ in BUCKETS])
    def test_bucket(self, bucket: str, valid: bool) -> None:
        assert (valid, valid) == (_accepted(parse_s3, bucket, "k.csv"), _botocore_accepts(bucket))

    @pytest.mark.parametrize(("key", "valid"), KEYS, ids=[k[:20] for k, _ in KEYS])
    def test_key(self, key: str, valid: bool) -> None:
        assert valid == _accepted(parse_s3, "hpo-data", key)

    def test_refusals_name_the_part(self) -> None:
        """So hpo check can point at bucket_name or file_key."""
        parts = []
        for bucket, key in (("hpo data", "k"), ("hpo-data", "/k")):
            with pytest.raises(InvalidReferenceError) as raised:
                parse_s3(bucket, key)
            parts.append(raised.value.part)
        assert ["bucket", "key"] == parts

    def test_uri_round_trip(self) -> None:
        location = parse_uri(s3_uri("hpo-data", "reviews/2026.csv"))
        assert S3Location("hpo-data", "reviews/2026.csv") == location
        assert "s3://hpo-data/reviews/2026.csv" == location.uri

    @pytest.mark.parametrize("uri", ["s3://hpo-data", "s3://hpo-data/"])
    def test_a_bucket_alone_is_refused(self, uri: str) -> None:
        with pytest.raises(InvalidReferenceError, match="names no key or prefix"):
            parse_uri(uri)


class TestRefusedBeforeTheNetwork:
    """`python -m storage_init` refuses a bad reference with exit 1 and asks nothing."""

    @pytest.fixture
    def hub(self, monkeypatch: pytest.MonkeyPatch) -> Any:
        """A Hub that records every request, online for huggingface_hub."""
        server = FakeHub("meta-llama/Llama-3.2-1B", {"config.json": b"{}", "m.safetensors": b""})
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setenv("STORAGE_INIT_RETRY_ATTEMPTS", "1")
        yield server
        server.stop()

    @pytest.mark.parametrize(
        "uri", [u for u, valid in MODEL_URIS if not valid], ids=lambda u: u[:40]
    )
    def test_invalid_hub_reference(self, hub: FakeHub, tmp_path: Path, uri: str) -> None:
        result = run_cli("model", "--uri", uri, "--cache-dir", str(tmp_path))
        assert ExitCode.PROBLEMS == result.returncode, result.stderr
        assert result.stderr.splitlines()[-1].startswith(f"error: {uri}: the Hub refuses ")
        assert [] == hub.requests
        assert [] == list(tmp_path.iterdir())

    def test_a_valid_reference_does_reach_the_server(self, hub: FakeHub, tmp_path: Path) -> None:
        """The control: the same setup sees requests when the reference is good."""
        result = run_cli(
            "model", "--uri", "hf://meta-llama/Llama-3.2-1B", "--cache-dir", str(tmp_path)
        )
        assert 0 == result.returncode, result.stderr
        assert [] != hub.requests

    @pytest.mark.parametrize("uri", ["s3://hpo data/reviews.csv", "s3://hpo-data//reviews.csv"])
    def test_invalid_s3_reference(self, tmp_path: Path, uri: str) -> None:
        """Nothing listens at the endpoint: any attempt would end in exit 6, not 1."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
        result = run_cli(
            "dataset", "--uri", uri, "--split", "train", "--endpoint-url", closed,
            "--cache-dir", str(tmp_path),
        )  # fmt: skip
        assert ExitCode.PROBLEMS == result.returncode, result.stderr
        assert result.stderr.splitlines()[-1].startswith(f"error: {uri}: ")
