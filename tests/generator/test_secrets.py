"""Credentials by what they look like: found in definitions, rendered objects and manifests,
reported at their place with what to do, and never printed."""

# ruff: noqa: SIM300
from __future__ import annotations

import pytest
import yaml

from generator.checks.secrets import (
    AWS_SECRET,
    RANDOM_SECRET,
    URL_PASSWORD,
    redact,
    scan,
    shannon_entropy,
)
from generator.cli import main
from tests.generator.conftest import REPO, VALID_DEFINITION
from tests.support import credentials
from tests.support.credentials import LOOK_ALIKES, SECRETS

PLACES = {
    "definition value": lambda v: {"trainer_parameters": {"training_parameters": {"x": v}}},
    "env_per_trial value": lambda v: {"env_per_trial": {"MY_SETTING": v}},
    "container env value": lambda v: {"env": [{"name": "MY_SETTING", "value": v}]},
    "list item": lambda v: {"args": ["--model", v]},
}


def _never_printed(secret: str, text: str, window: int = 8) -> None:
    """No run of `window` characters of the secret appears in the text."""
    parts = {secret[i : i + window] for i in range(max(1, len(secret) - window + 1))}
    assert [] == sorted(p for p in parts if p in text)


class TestScannerCorpus:
    """Every true credential is found wherever it stands; every look-alike passes."""

    @pytest.mark.parametrize("place", PLACES)
    @pytest.mark.parametrize("credential", SECRETS, ids=[c.name for c in SECRETS])
    def test_found(self, credential, place):
        hits = scan(PLACES[place](credential.value))
        assert hits, credential.name
        assert any(credential.kind in hit.kind for hit in hits)

    @pytest.mark.parametrize("place", PLACES)
    @pytest.mark.parametrize(("name", "value"), LOOK_ALIKES, ids=[n for n, _ in LOOK_ALIKES])
    def test_look_alike_passes(self, name, value, place):
        assert [] == scan(PLACES[place](value))

    def test_a_credential_as_a_key(self):
        [hit] = scan({"env_per_trial": {credentials.HF_TOKEN: "1"}})
        assert (("env_per_trial", credentials.HF_TOKEN), True) == (hit.path, hit.in_key)

    def test_aws_secret_beside_its_key_id(self):
        """A 40-character secret access key counts beside an access key id, or under a name
        that says secret; alone and unnamed it is just text."""
        pair = {"ID": credentials.AWS_KEY_ID, "OTHER": credentials.AWS_SECRET}
        assert AWS_SECRET in {h.kind for h in scan({"env_per_trial": pair})}
        named = [{"name": "AWS_SECRET_ACCESS_KEY", "value": credentials.AWS_SECRET}]
        assert [AWS_SECRET] == [h.kind for h in scan({"env": named})]
        assert [AWS_SECRET] == [h.kind for h in scan({"secret_key": credentials.AWS_SECRET})]
        assert [] == scan({"note": credentials.AWS_SECRET})

    @pytest.mark.parametrize("seed", range(40))
    def test_generated_keys_in_env_values(self, seed):
        """Random 32 and 40-character keys (any seed) are found in an env value, not elsewhere."""
        for length in (32, 40):
            key = credentials._random_text(length, seed)
            assert [RANDOM_SECRET] == [h.kind for h in scan({"env_per_trial": {"K": key}})]
            assert [] == scan({"description": key})

    def test_entropy_of_words_is_low(self):
        """Why names pass: words repeat letters, random keys do not."""
        assert shannon_entropy("distilbert-base-uncased-finetuned-sst-2-english") < 4.0
        assert shannon_entropy(credentials._random_text(40, 1)) > 4.3

    @pytest.mark.parametrize("credential", SECRETS, ids=[c.name for c in SECRETS])
    def test_redact(self, credential):
        text = f"model_uri '{credential.value}' must be hf://ORG/NAME"
        _never_printed(credential.secret, redact(text))
        assert "must be hf://ORG/NAME" in redact(text)


class TestNoFalsePositivesInTheRepository:
    """The repository's own experiments, rendered objects and Argo CD files hold no hit."""

    @pytest.mark.parametrize(
        "path",
        sorted(
            p.relative_to(REPO).as_posix()
            for folder in ("experiments", "rendered", "argocd")
            for p in (REPO / folder).rglob("*.y*ml")
        ),
    )
    def test_file(self, path):
        for document in yaml.safe_load_all((REPO / path).read_text()):
            assert [] == scan(document)


def _s3_definition(endpoint: str) -> str:
    return VALID_DEFINITION.replace(
        "  repo_id: stanfordnlp/imdb\n",
        f"  endpoint_url: {endpoint}\n  bucket_name: data\n  file_key: imdb.csv\n",
    )


class TestDefinitions:
    """hpo check refuses a credential in a definition, at the value, naming the field."""

    @pytest.mark.parametrize("credential", SECRETS, ids=[c.name for c in SECRETS])
    def test_env_value_under_an_innocent_name(self, repo, capsys, credential):
        value = credential.value.replace("\n", "\\n")
        repo.write(VALID_DEFINITION + f'env_per_trial:\n  MY_SETTING: "{value}"\n')
        assert 1 == main(["check"])
        err = capsys.readouterr().err
        line = len(VALID_DEFINITION.splitlines()) + 2
        [located] = [e for e in err.splitlines() if f"experiment.yaml:{line}:15: error:" in e]
        assert "env_per_trial.MY_SETTING: this looks like" in located
        assert credential.kind in located
        assert "reference it as {secret: NAME, key: KEY}" in located
        _never_printed(credential.secret, err)

    def test_credentials_in_an_endpoint_url(self, repo, capsys):
        endpoint = f"https://{credentials.AWS_KEY_ID}:{credentials.AWS_SECRET}@minio.example.com"
        repo.write(_s3_definition(endpoint))
        assert 1 == main(["check"])
        err = capsys.readouterr().err
        assert (
            "experiments/demo-exp/experiment.yaml:11:17: error: "
            "dataset_provider_parameters.endpoint_url: this looks like an AWS access key id and "
            "a password in a URL (user:password@host); take user:password out of the "
            "URL, put the credential in a Secret and reference it as {secret: NAME, key: KEY}"
        ) in err
        _never_printed(credentials.AWS_SECRET, err)
        _never_printed(credentials.AWS_KEY_ID, err, window=6)

    def test_a_key_that_is_a_credential_is_not_named(self, repo, capsys):
        repo.write(VALID_DEFINITION + f"env_per_trial: {{{credentials.GITHUB_TOKEN}: x}}\n")
        assert 1 == main(["check"])
        err = capsys.readouterr().err
        assert "error: a key of env_per_trial: this looks like a GitHub token" in err
        _never_printed(credentials.GITHUB_TOKEN, err)

    def test_named_credentials_are_reported_once(self, repo, capsys):
        """A value refused by its field (access_token) is not reported again by its shape."""
        repo.write(
            VALID_DEFINITION.replace("{secret: hf-token, key: token}", f'"{credentials.HF_TOKEN}"')
        )
        assert 1 == main(["check"])
        errors = [e for e in capsys.readouterr().err.splitlines() if ": error: " in e]
        assert 1 == len(errors)
        assert "access_token: a literal credential is not allowed here" in errors[0]

    def test_look_alikes_pass(self, repo, capsys):
        # Katib would refuse a ${trialParameters...} it does not declare, credential or not.
        values = "".join(
            f'  LOOK_{i}: "{value}"\n'
            for i, (_, value) in enumerate(LOOK_ALIKES)
            if "${" not in value
        )
        repo.write(VALID_DEFINITION + "env_per_trial:\n" + values)
        assert 0 == main(["check"]), capsys.readouterr().err


class TestRenderedObjects:
    """What reaches the rendered objects from outside the definition is scanned there."""

    def test_token_in_the_results_git_url(self, repo, capsys):
        clusters = repo.root / "argocd/clusters.yaml"
        url = f"https://builder:{credentials.GITHUB_TOKEN}@github.com/example-org/llm-hpo-gitops"
        clusters.write_text(
            clusters.read_text().replace(
                "git_url: https://github.com/example-org/llm-hpo-gitops.git",
                f"git_url: {url}.git",
                1,
            )
        )
        repo.write(VALID_DEFINITION)
        assert 1 == main(["check"])
        err = capsys.readouterr().err
        located = [
            e
            for e in err.splitlines()
            if e.startswith("rendered/gpu-cluster-1/demo-exp/job-demo-exp-results.yaml:1:1: error:")
        ]
        assert 1 == len(located), err
        assert (
            ".env[" in located[0]
            and "].value: this looks like a GitHub token and a " in (located[0])
        )
        assert "valueFrom.secretKeyRef (in a definition: {secret: NAME, key: KEY})" in located[0]
        _never_printed(credentials.GITHUB_TOKEN, err)


MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  note: plain text
  deploy-key: |
{key}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: fetch
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: fetch
          image: ghcr.io/example-org/fetch@{digest}
          command: [python, fetch.py, "{json64}"]
          env:
            - name: REVISION
              value: {commit}
            - name: MY_SETTING
              value: {token}
"""


class TestManifests:
    """hpo check FILE finds credentials in hand-written manifests, at the node."""

    def test_private_key_and_token(self, tmp_path, monkeypatch, capsys):
        key = "".join(f"    {line}\n" for line in credentials.PRIVATE_KEY.splitlines())
        manifest = tmp_path / "manifest.yaml"
        manifest.write_text(
            MANIFEST.format(
                key=key.rstrip("\n"),
                digest=credentials.DIGEST,
                json64="target_modules:json64=WyJxX3Byb2oiLCJ2X3Byb2oiXQ",
                commit=credentials.COMMIT,
                token=credentials.HF_TOKEN,
            )
        )
        monkeypatch.chdir(tmp_path)
        assert 1 == main(["check", str(manifest)])
        err = capsys.readouterr().err
        errors = [e for e in err.splitlines() if ": error: " in e]
        assert [
            f"{manifest}:7:15: error: data.deploy-key: this looks like a private key; a credential "
            "written here is committed to Git and copied into the cluster's objects: put it in a "
            "Secret (kubectl create secret generic NAME --from-literal=KEY=...) and reference it "
            "as valueFrom.secretKeyRef (in a definition: {secret: NAME, key: KEY})",
            f"{manifest}:28:22: error: spec.template.spec.containers[0].env[1].value: this looks "
            "like a Hugging Face access token; a credential written here is committed to Git and "
            "copied into the cluster's objects: put it in a Secret (kubectl create secret generic "
            "NAME --from-literal=KEY=...) and reference it as valueFrom.secretKeyRef (in a "
            "definition: {secret: NAME, key: KEY})",
        ] == errors
        _never_printed(credentials.PRIVATE_KEY, err)
        _never_printed(credentials.HF_TOKEN, err)

    def test_look_alikes_pass(self, tmp_path, monkeypatch, capsys):
        manifest = tmp_path / "manifest.yaml"
        manifest.write_text(
            MANIFEST.format(
                key="    no key here",
                digest=credentials.DIGEST,
                json64="target_modules:json64=WyJxX3Byb2oiLCJ2X3Byb2oiXQ",
                commit=credentials.COMMIT,
                token="3f1c2a9e-8d4b-4c1e-9a57-2b6f0d7e4c11",
            )
        )
        monkeypatch.chdir(tmp_path)
        main(["check", str(manifest)])
        assert ": error: " not in capsys.readouterr().err


class TestCorpusStaysSynthetic:
    """The test credentials exist only while the tests run: no source file of these tests or
    their support holds a token, key id or private key (URLs with a placeholder are fine)."""

    @pytest.mark.parametrize(
        "path",
        sorted(
            p.relative_to(REPO).as_posix()
            for folder in ("tests/generator", "tests/support")
            for p in (REPO / folder).glob("*.py")
        ),
    )
    def test_no_token_in_source(self, path):
        hits = scan((REPO / path).read_text(encoding="utf-8"))
        assert [] == [h.kind for h in hits if h.kind != URL_PASSWORD]
