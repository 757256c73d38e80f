"""The validated definition as later stages receive it: serialised without a warning, read back
to the same spec, refused with a located reason when damaged."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import pytest

from generator.loading.definition import DefinitionRecord, DefinitionRecordError, load_definition

REPOSITORY = Path(__file__).resolve().parents[2]
DEFINITIONS = sorted(REPOSITORY.glob("experiments/*/experiment.yaml"))


class TestRoundTrip:
    """Every committed definition (Hub, S3 and local sources) survives its serialisation."""

    @pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.parent.name)
    def test_record_reads_back_to_the_same_spec_without_warnings(self, path):
        loaded = load_definition(path)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # pydantic's serializer warnings included
            text = loaded.record.to_json()
            again = DefinitionRecord.from_json(text, "definition.json")
        assert loaded.spec == again.spec
        assert text == again.to_json()

    def test_the_digest_is_that_of_the_files_bytes(self):
        path = REPOSITORY / "experiments" / "llama-3-2-1b-reviews-s3" / "experiment.yaml"
        record = load_definition(path).record
        assert hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256

    def test_only_keys_the_definition_sets_are_carried(self):
        """An explicit value can mean more than its default (existing_claim refuses a size)."""
        path = REPOSITORY / "experiments" / "minilm-imdb-demo" / "experiment.yaml"
        spec = json.loads(load_definition(path).record.to_json())["spec"]
        assert "storage_config" not in spec
        assert {"cpu": "1", "memory": "4Gi"} == spec["resources_per_trial"]


class TestDamagedRecords:
    """A record that is not one fails with the file's name and the reason."""

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("[]", "not a rendered definition: "),
            ("{}", "not a rendered definition: missing definition_sha256, spec"),
            ('{"definition_sha256": "0", "spec": {"name": "x"}}', "validation error"),
        ],
    )
    def test_refused_with_the_reason(self, text, reason):
        with pytest.raises(DefinitionRecordError, match=f"^record.json: .*{reason}"):
            DefinitionRecord.from_json(text, "record.json")
