"""Secrets from a cluster's secret store: the `secret_store` section of argocd/clusters.yaml, what
hpo check refuses, and the ExternalSecrets hpo render writes for it."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.commands.project import check_definition_text
from generator.loading.repo_config import load_repo_config
from tests.generator.conftest import MULTI_NODE_DEFINITION, REPO, VALID_DEFINITION
from tests.generator.test_repo_config import RESULTS

# A definition whose trials read a Secret too, so every trial template carries a reference.
WITH_TRIAL_SECRET = VALID_DEFINITION + "env_per_trial:\n  API_KEY: {secret: api-key, key: key}\n"
# The Trainer v2 cluster, given a store of its own for the tests that need one.
TRAINJOB_STORE = """\
    secret_store:
      kind: SecretStore
      name: team-store
      secrets:
        hf-token: {remote_key: hf}
        api-key: {remote_key: api, properties: {key: null}}
        hpo-forge-token: {remote_key: forge}
"""


def _problems(repo, clusters: str) -> list[str]:
    (repo.root / "argocd" / "clusters.yaml").write_text(clusters)
    return [str(p) for p in load_repo_config(repo.root).problems]


def _with_stores(repo) -> None:
    """gpu-cluster-1's store also maps api-key; gpu-cluster-2 gets TRAINJOB_STORE."""
    path = repo.root / "argocd" / "clusters.yaml"
    text = path.read_text()
    mapped = "        hf-token: {remote_key: llm-hpo/hf-token}\n"
    assert 1 == text.count(mapped)
    text = text.replace(mapped, mapped + "        api-key: {remote_key: llm-hpo/api}\n")
    runtime = "    training_runtime: hpo-torch-distributed\n"
    path.write_text(text.replace(runtime, runtime + TRAINJOB_STORE))


def _render(repo, text: str):
    report = check_definition_text(
        text, "experiments/demo-exp/experiment.yaml", None, repo.root, load_repo_config(repo.root)
    )
    assert [] == [str(p) for p in report.problems if p.is_error]
    return report.rendered.objects


def _wave(obj: dict) -> int:
    return int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def _secrets_read(node: object) -> set[str]:
    """Every Secret name an object reads: secretKeyRefs, and secret volumes or projections."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("secretKeyRef")
        if isinstance(ref, dict):
            found.add(ref["name"])
        volume = node.get("secret")
        if isinstance(volume, dict):
            found.add(volume.get("name") or volume["secretName"])
        for value in node.values():
            found |= _secrets_read(value)
    elif isinstance(node, list):
        for item in node:
            found |= _secrets_read(item)
    return found


class TestStoreSection:
    """The section is read strictly: each mistake at its own line, with a hint where one helps."""

    def test_shipped_clusters(self):
        """gpu-cluster-1 takes its Secrets from a store; gpu-cluster-2 has them made by hand."""
        clusters = load_repo_config(REPO).clusters
        store = clusters["gpu-cluster-1"].secret_store
        assert ("ClusterSecretStore", "platform-secrets") == (store.kind, store.name)
        assert {"hf-token", "s3-credentials", "hpo-forge-token"} == set(store.secrets)
        assert {"token": "github-token"} == store.secrets["hpo-forge-token"].properties
        assert clusters["gpu-cluster-2"].secret_store is None

    def test_every_mistake_at_its_own_line(self, repo):
        problems = _problems(
            repo,
            "clusters:\n"
            "  - name: a\n"
            "    gpu_quota: 1\n"
            "    secret_store:\n"
            "      kind: VaultStore\n"
            "      name: Platform_Store\n"
            "      secrets:\n"
            "        hf-token: {remote_kye: x}\n"
            "        Bad_Name: {remote_key: y}\n"
            '        s3: {remote_key: "", properties: {ok: ""}}\n',
        )
        prefix = "argocd/clusters.yaml"
        store = "clusters[0].secret_store"
        assert [
            f"{prefix}:5:13: error: {store}.kind: Input should be 'SecretStore' or "
            "'ClusterSecretStore'",
            f"{prefix}:6:13: error: {store}.name: 'Platform_Store' is not a DNS-1123 subdomain "
            "(lowercase letters, digits, '-', '.')",
            f"{prefix}:8:9: error: {store}.secrets.hf-token: missing required key 'remote_key'",
            f"{prefix}:8:20: error: {store}.secrets.hf-token: unknown key 'remote_kye'; did you "
            "mean 'remote_key'?",
            f"{prefix}:9:9: error: {store}.secrets.Bad_Name: 'Bad_Name' is not a valid Secret "
            "name (lowercase DNS-1123 subdomain)",
            f"{prefix}:10:26: error: {store}.secrets.s3.remote_key: String should have at least "
            "1 character",
            f"{prefix}:10:47: error: {store}.secrets.s3.properties.ok: String should have at "
            "least 1 character",
        ] == problems

    def test_results_secrets_must_be_mapped_at_their_lines(self, repo):
        """The results Job's token and SSH key come from the store too: each one it does not
        map is an error at its own line of argocd/clusters.yaml."""
        problems = _problems(
            repo,
            "clusters:\n  - name: a\n    gpu_quota: 1\n"
            "    secret_store:\n      kind: SecretStore\n      name: s\n"
            "      secrets: {hpo-git-ssh: {remote_key: git-ssh}}\n"
            + RESULTS
            + "      ssh_key: {secret: hpo-git-ssh, key: id_ed25519}\n"
            "      ssh_known_hosts: {secret: hpo-git-hosts, key: known_hosts}\n",
        )
        assert [
            "argocd/clusters.yaml:14:23: error: clusters[0].results.token: Secret "
            "'hpo-forge-token' is not in the secret_store of cluster 'a' (SecretStore s): map it "
            "under secret_store.secrets in argocd/clusters.yaml",
            "argocd/clusters.yaml:16:33: error: clusters[0].results.ssh_known_hosts: Secret "
            "'hpo-git-hosts' is not in the secret_store of cluster 'a' (SecretStore s): map it "
            "under secret_store.secrets in argocd/clusters.yaml; did you mean 'hpo-git-ssh'?",
        ] == problems


class TestCheckRefusesUnmappedSecrets:
    """A definition on a store cluster may only reference Secrets the store maps."""

    def test_at_the_references_line(self, repo, capsys):
        text = WITH_TRIAL_SECRET.replace("{secret: hf-token,", "{secret: hf-tokn,")
        repo.write(text)
        assert 1 == main(["check"])
        *problems, summary = capsys.readouterr().err.splitlines()
        mapping = "map it under secret_store.secrets in argocd/clusters.yaml"
        assert [
            "experiments/demo-exp/experiment.yaml:9:26: error: "
            "model_provider_parameters.access_token.secret: Secret 'hf-tokn' is not in the "
            "secret_store of cluster 'gpu-cluster-1' (ClusterSecretStore platform-secrets): "
            f"{mapping}; did you mean 'hf-token'?",
            "experiments/demo-exp/experiment.yaml:30:21: error: env_per_trial.API_KEY.secret: "
            "Secret 'api-key' is not in the secret_store of cluster 'gpu-cluster-1' "
            f"(ClusterSecretStore platform-secrets): {mapping}",
        ] == [p for p in problems if ": error: " in p]
        assert "hpo check: failed: 1 file(s), 2 error(s)" in summary

    def test_a_cluster_without_a_store_takes_any_secret(self, repo):
        """Secrets made by hand may have any name: nothing to cover."""
        text = WITH_TRIAL_SECRET.replace("cluster: gpu-cluster-1", "cluster: gpu-cluster-2")
        objects = _render(repo, text)
        assert [] == [obj for obj in objects if obj["kind"] == "ExternalSecret"]
        assert {"hf-token", "api-key", "hpo-forge-token"} == _secrets_read(objects)


class TestExternalSecrets:
    """What hpo render writes for a store cluster, and what the other objects then read."""

    def test_one_per_secret_with_every_key_it_reads(self, repo):
        objects = _render(repo, (REPO / "experiments/llama-3-2-1b-reviews-s3/experiment.yaml")
                          .read_text())  # fmt: skip
        external = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ExternalSecret"}
        exp = "llama-3-2-1b-reviews-s3"
        assert [f"{exp}.hf-token", f"{exp}.hpo-forge-token", f"{exp}.s3-credentials"] == sorted(
            external
        )
        s3 = external[f"{exp}.s3-credentials"]
        assert {
            "name": f"{exp}.s3-credentials",
            "namespace": "kubeflow",
            "labels": {
                "app.kubernetes.io/name": "llm-hpo",
                "app.kubernetes.io/instance": exp,
                "app.kubernetes.io/component": "credentials",
                "app.kubernetes.io/managed-by": "hpo-generator",
            },
            "annotations": {"argocd.argoproj.io/sync-wave": "0"},
        } == s3["metadata"]
        assert {"kind": "ClusterSecretStore", "name": "platform-secrets"} == s3["spec"][
            "secretStoreRef"
        ]
        assert [
            {
                "secretKey": "access-key-id",
                "remoteRef": {"key": "llm-hpo/s3-credentials", "property": "access-key-id"},
            },
            {
                "secretKey": "secret-access-key",
                "remoteRef": {"key": "llm-hpo/s3-credentials", "property": "secret-access-key"},
            },
        ] == s3["spec"]["data"]
        target = s3["spec"]["target"]
        assert (f"{exp}.s3-credentials", "Owner") == (target["name"], target["creationPolicy"])
        # A property named in the mapping replaces the key's own name.
        forge = {"key": "llm-hpo/forge", "property": "github-token"}
        assert [{"secretKey": "token", "remoteRef": forge}] == external[f"{exp}.hpo-forge-token"][
            "spec"
        ]["data"]

    def test_the_secret_is_not_labelled_as_the_applications_own(self, repo):
        """Without a template ESO copies the ExternalSecret's labels onto the Secret; Argo CD's
        label tracking would then prune the Secret as an object Git lacks, again and again."""
        for obj in _render(repo, VALID_DEFINITION):
            if obj["kind"] == "ExternalSecret":
                labels = obj["spec"]["target"]["template"]["metadata"]["labels"]
                assert "app.kubernetes.io/instance" not in labels
                assert "demo-exp" == labels["app.kubernetes.io/part-of"]
                assert "annotations" not in obj["spec"]["target"]["template"]["metadata"]

    def test_a_property_of_null_reads_the_whole_value(self, repo):
        _with_stores(repo)
        text = WITH_TRIAL_SECRET.replace("cluster: gpu-cluster-1", "cluster: gpu-cluster-2")
        objects = _render(repo, text)
        api = next(o for o in objects if o["metadata"]["name"] == "demo-exp.api-key")
        assert {"kind": "SecretStore", "name": "team-store"} == api["spec"]["secretStoreRef"]
        assert [{"secretKey": "key", "remoteRef": {"key": "api"}}] == api["spec"]["data"]

    @pytest.mark.parametrize(
        ("text", "cluster", "trial"),
        [
            (WITH_TRIAL_SECRET, "gpu-cluster-1", "Job"),
            (MULTI_NODE_DEFINITION + WITH_TRIAL_SECRET[len(VALID_DEFINITION) :], "gpu-cluster-1",
             "PyTorchJob"),
            (WITH_TRIAL_SECRET, "gpu-cluster-2", "TrainJob"),
        ],
    )  # fmt: skip
    def test_every_reference_reads_the_experiments_own_secret(self, repo, text, cluster, trial):
        """The download Job, the trials (whichever their API) and the results Job read exactly
        the Secrets the ExternalSecrets create, and no Secret of the definition's own name."""
        _with_stores(repo)
        objects = _render(repo, text.replace("cluster: gpu-cluster-1", f"cluster: {cluster}"))
        created = {o["spec"]["target"]["name"] for o in objects if o["kind"] == "ExternalSecret"}
        assert {"demo-exp.hf-token", "demo-exp.api-key", "demo-exp.hpo-forge-token"} == created
        others = [o for o in objects if o["kind"] != "ExternalSecret"]
        assert created == _secrets_read(others)
        experiment = next(o for o in others if o["kind"] == "Experiment")
        trial_spec = experiment["spec"]["trialTemplate"]["trialSpec"]
        assert (trial, {"demo-exp.api-key"}) == (trial_spec["kind"], _secrets_read(trial_spec))
        results = next(o for o in others if o["metadata"]["name"] == "demo-exp-results"
                       and o["kind"] == "Job")  # fmt: skip
        assert {"demo-exp.hpo-forge-token"} == _secrets_read(results)

    def test_created_in_a_wave_before_anything_that_reads_them(self, repo):
        """Argo CD starts a wave once the one before is Healthy, and an ExternalSecret is
        Healthy once ESO has written its Secret: nothing reads a Secret that is not there yet."""
        _with_stores(repo)
        objects = _render(repo, WITH_TRIAL_SECRET)
        external = [_wave(o) for o in objects if o["kind"] == "ExternalSecret"]
        others = [o for o in objects if o["kind"] != "ExternalSecret"]
        readers = [o for o in others if _secrets_read(o)]
        assert (3, {"Job", "Experiment"}) == (len(external), {o["kind"] for o in readers})
        assert max(external) < min(_wave(o) for o in readers)
        assert max(external) < min(_wave(o) for o in others)  # the volume too: it waits as well

    def test_listed_first_in_the_rendered_order(self, repo):
        kinds = [o["kind"] for o in _render(repo, VALID_DEFINITION)]
        assert ["ExternalSecret", "ExternalSecret"] == kinds[:2]
        assert "ExternalSecret" not in kinds[2:]


class TestClustersWithoutAStore:
    """A cluster without a store renders exactly what it rendered before stores existed."""

    def test_the_shipped_experiments_render_as_committed_without_the_store(
        self, tmp_path: Path, monkeypatch
    ):
        """Removing gpu-cluster-1's store gives the committed rendered/ minus its
        ExternalSecrets, every `<experiment>.<secret>` read back as `<secret>`: byte for byte."""
        for item in ("templates", "images.yaml", "experiments", "argocd"):
            (shutil.copytree if (REPO / item).is_dir() else shutil.copy)(
                REPO / item, tmp_path / item
            )
        clusters = tmp_path / "argocd" / "clusters.yaml"
        document = yaml.safe_load(clusters.read_text())
        for cluster in document["clusters"]:
            cluster.pop("secret_store", None)
        clusters.write_text(yaml.safe_dump(document))
        monkeypatch.chdir(tmp_path)
        assert 0 == main(["render"])

        expected = {}
        for path in sorted((REPO / "rendered").rglob("*.yaml")):
            if path.name.startswith("externalsecret-"):
                continue
            text = path.read_text()
            for external in path.parent.glob("externalsecret-*.yaml"):
                name = yaml.safe_load(external.read_text())["metadata"]["name"]
                text = text.replace(f"name: {name}\n", f"name: {name.split('.', 1)[1]}\n")
            expected[path.relative_to(REPO).as_posix()] = text
        assert any(name.startswith("externalsecret-")
                   for name in (p.name for p in (REPO / "rendered").rglob("*")))  # fmt: skip
        rendered = {
            p.relative_to(tmp_path).as_posix(): p.read_text()
            for p in sorted((tmp_path / "rendered").rglob("*.yaml"))
        }
        assert expected == rendered

    def test_a_local_run_ignores_the_store(self, repo):
        """hpo tune --local reads Secrets from its own environment by the definition's names."""
        report = check_definition_text(
            WITH_TRIAL_SECRET,
            "experiments/demo-exp/experiment.yaml",
            None,
            repo.root,
            load_repo_config(repo.root).without_secret_stores(),
        )
        assert [] == [str(p) for p in report.problems if p.is_error]
        objects = report.rendered.objects
        assert "ExternalSecret" not in {o["kind"] for o in objects}
        assert {"hf-token", "api-key", "hpo-forge-token"} == _secrets_read(objects)
