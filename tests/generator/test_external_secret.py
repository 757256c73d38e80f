"""ExternalSecrets: the name rule of an experiment's Secrets, the schema written from the v1 API's
documented fields, and the operator's rules."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
import yaml

from generator.cli import main
from generator.rendering.external_secrets import MAX_NAME, rendered_secret_name
from generator.spec import DNS1123_SUBDOMAIN, MAX_NAME_LENGTH
from generator.validate.objects import validate_object
from tests.generator.conftest import REPO

RENDERED = sorted((REPO / "rendered").rglob("externalsecret-*.yaml"))


def _shipped() -> dict:
    return yaml.safe_load(RENDERED[0].read_text())


def _messages(obj: dict) -> list[str]:
    return [f"{'.'.join(map(str, f.path))}: {f.message}" for f in validate_object(obj)]


class TestNameRule:
    """`<experiment>.<secret>`, unique per pair, a valid Secret name, at most 63 characters."""

    def test_short_names_read_as_they_are(self):
        assert "llama-3-2-1b-imdb.hf-token" == rendered_secret_name("llama-3-2-1b-imdb", "hf-token")

    def test_the_dot_keeps_every_pair_apart(self):
        """Experiment names have no dots, so a dash-joined collision cannot happen."""
        assert rendered_secret_name("a-b", "c") != rendered_secret_name("a", "b-c")
        assert rendered_secret_name("a-b", "c.d") != rendered_secret_name("a", "b-c.d")

    def test_long_names_are_shortened_with_a_digest(self):
        experiment = "e" * MAX_NAME_LENGTH
        first = rendered_secret_name(experiment, "platform.credentials-of-the-team-one")
        second = rendered_secret_name(experiment, "platform.credentials-of-the-team-two")
        assert first != second
        assert (MAX_NAME, MAX_NAME) == (len(first), len(second))
        assert first.startswith(experiment + ".platform.")
        assert DNS1123_SUBDOMAIN.match(first) and DNS1123_SUBDOMAIN.match(second)

    @pytest.mark.parametrize("secret", ["x" * 21 + "-" + "y" * 30, "x" * 21 + "." + "y" * 30])
    def test_a_cut_never_ends_on_a_separator(self, secret):
        name = rendered_secret_name("e" * MAX_NAME_LENGTH, secret)
        assert DNS1123_SUBDOMAIN.match(name), name
        assert len(name) <= MAX_NAME


class TestSchema:
    """Every rendered ExternalSecret passes; a field the API does not have, or a wrong value,
    does not."""

    def test_the_shipped_example_renders_some(self):
        assert 5 == len(RENDERED)

    @pytest.mark.parametrize("path", RENDERED, ids=lambda p: p.name)
    def test_rendered_objects_are_valid(self, path):
        assert [] == _messages(yaml.safe_load(path.read_text()))

    @pytest.mark.parametrize(
        ("where", "value", "expected"),
        [
            (("spec", "target", "creationPolicy"), "Owned", "spec.target.creationPolicy: "),
            (("spec", "secretStoreRef", "kind"), "Vault", "spec.secretStoreRef.kind: "),
            (("spec", "refreshInterval"), "1 hour", "spec.refreshInterval: "),
            (("spec", "target", "name"), "Bad_Name", "spec.target.name: "),
        ],
    )
    def test_wrong_values(self, where, value, expected):
        obj = _shipped()
        node = obj
        for part in where[:-1]:
            node = node[part]
        node[where[-1]] = value
        [message] = _messages(obj)
        assert message.startswith(expected)

    def test_unknown_fields(self):
        obj = _shipped()
        obj["spec"]["secretStore"] = obj["spec"].pop("secretStoreRef")
        obj["spec"]["data"][0]["remoteRef"]["propery"] = "token"
        assert [
            "spec: unknown field: 'secretStore'",
            "spec.data.0.remoteRef: unknown field: 'propery'",
        ] == _messages(obj)

    def test_the_operators_rules(self):
        """Nothing to read, a Secret key written twice, a policy pair the operator refuses."""
        obj = _shipped()
        obj["spec"]["data"] = obj["spec"]["data"] * 2
        obj["spec"]["target"]["creationPolicy"] = "Merge"
        obj["spec"]["target"]["deletionPolicy"] = "Delete"
        assert [
            f"spec.data.1.secretKey: secretKey '{obj['spec']['data'][0]['secretKey']}' is "
            "written twice",
            "spec.target.deletionPolicy: deletionPolicy Delete is not allowed with "
            "creationPolicy Merge",
        ] == _messages(obj)
        obj["spec"]["data"] = []
        obj["spec"]["target"]["deletionPolicy"] = "Retain"
        assert ["spec: an ExternalSecret needs data or dataFrom"] == _messages(obj)

    def test_exported_for_kubeconform(self, tmp_path):
        """kubeconform looks the schema up as externalsecret-external-secrets-v1.json."""
        assert 0 == main(["schemas", "export", str(tmp_path)])
        schema = json.loads((tmp_path / "externalsecret-external-secrets-v1.json").read_text())
        for path in RENDERED:
            jsonschema.validate(yaml.safe_load(path.read_text()), schema)
        wrong = copy.deepcopy(_shipped())
        wrong["spec"]["target"]["template"]["metdata"] = {}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, schema)
