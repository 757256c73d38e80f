"""The Argo CD manifests under argocd/: their shape, their limits, and their agreement."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from katib.watch import FIELD_MANAGER
from tests.argocd import manifests
from tests.argocd.lua_health import HEALTH_DIR

RENDERED_KINDS = {
    ("", "PersistentVolumeClaim"),
    ("batch", "Job"),
    ("kubeflow.org", "Experiment"),
    ("", "ConfigMap"),
    ("", "ServiceAccount"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("external-secrets.io", "ExternalSecret"),  # on clusters with a secret store
}
HEALTH_KEYS = {
    "resource.customizations.health.kubeflow.org_Experiment": "experiment.lua",
    "resource.customizations.health.kubeflow.org_PyTorchJob": "pytorchjob.lua",
    "resource.customizations.health.trainer.kubeflow.org_TrainJob": "trainjob.lua",
}


class TestArgoCdFolder:
    """Every Kubernetes manifest in argocd/ is a single, well-formed Argo CD object."""

    def test_the_folder_holds_the_expected_objects(self):
        found = {}
        for path in sorted(manifests.ARGOCD_DIR.glob("*.yaml")):
            if path.name == "clusters.yaml":
                continue
            documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
            assert 1 == len(documents), f"{path.name}: one object per file"
            found[path.name] = (documents[0]["apiVersion"], documents[0]["kind"])
        assert {
            "appproject.yaml": ("argoproj.io/v1alpha1", "AppProject"),
            "applicationset.yaml": ("argoproj.io/v1alpha1", "ApplicationSet"),
            "argocd-cm-patch.yaml": ("v1", "ConfigMap"),
            "katib-config-patch.yaml": ("config.kubeflow.org/v1beta1", "KatibConfig"),
            "training-runtime.yaml": ("trainer.kubeflow.org/v1alpha1", "ClusterTrainingRuntime"),
        } == found

    @pytest.mark.parametrize("name", ["appproject.yaml", "applicationset.yaml"])
    def test_objects_live_in_the_argocd_namespace(self, name):
        metadata = manifests.load_one(name)["metadata"]
        assert "argocd" == metadata["namespace"]
        assert metadata["name"]


class TestHealthPatch:
    """The argocd-cm patch carries exactly the tested Lua scripts, byte for byte."""

    def test_patch_targets_argocd_cm(self):
        patch = manifests.health_patch()
        assert ("argocd-cm", "argocd") == (
            patch["metadata"]["name"],
            patch["metadata"]["namespace"],
        )

    def test_patch_holds_only_the_three_health_checks(self):
        assert set(HEALTH_KEYS) == set(manifests.health_patch()["data"])

    def test_every_script_in_the_health_folder_is_in_the_patch(self):
        assert {path.name for path in HEALTH_DIR.glob("*.lua")} == set(HEALTH_KEYS.values())

    @pytest.mark.parametrize("key", sorted(HEALTH_KEYS))
    def test_embedded_script_equals_its_file(self, key):
        lua_file = HEALTH_DIR / HEALTH_KEYS[key]
        assert lua_file.read_text() == manifests.health_patch()["data"][key], (
            f"argocd/argocd-cm-patch.yaml differs from {lua_file.name}: copy the file into the "
            "patch, indented under its key"
        )

    def test_scripts_need_no_standard_libraries(self):
        """Argo CD runs them without string/math unless useOpenLibs is set; it is not."""
        data = manifests.health_patch()["data"]
        assert [] == [key for key in data if ".useOpenLibs." in key]
        for name in HEALTH_KEYS.values():
            text = (HEALTH_DIR / name).read_text()
            code = "\n".join(line.split("--")[0] for line in text.splitlines())
            assert [] == [lib for lib in ("string.", "math.", "os.", "io.") if lib in code]


class TestAppProject:
    """The project allows the rendered kinds, in the experiment namespaces, and nothing else."""

    def test_namespaced_kinds_are_exactly_the_rendered_ones(self):
        whitelist = manifests.appproject()["spec"]["namespaceResourceWhitelist"]
        listed = [(entry["group"], entry["kind"]) for entry in whitelist]
        assert len(listed) == len(set(listed)), "no duplicates"
        assert RENDERED_KINDS == set(listed)

    def test_no_cluster_scoped_writes(self):
        assert [] == manifests.appproject()["spec"]["clusterResourceWhitelist"]

    def test_one_destination_per_listed_cluster_without_wildcards(self):
        destinations = manifests.appproject()["spec"]["destinations"]
        assert {c["name"] for c in manifests.clusters()} == {d["name"] for d in destinations}
        for destination in destinations:
            assert "*" not in destination["namespace"]
            assert "server" not in destination, "clusters are named, as in the ApplicationSet"

    def test_only_this_repository_is_a_source(self):
        repos = manifests.appproject()["spec"]["sourceRepos"]
        assert [manifests.applicationset()["spec"]["template"]["spec"]["source"]["repoURL"]] == (
            repos
        )


class TestApplicationSet:
    """The ApplicationSet fields that keep experiments safe and reproducible."""

    def test_go_template_with_missing_keys_as_errors(self):
        spec = manifests.applicationset()["spec"]
        assert spec["goTemplate"] is True
        assert ["missingkey=error"] == spec["goTemplateOptions"]

    def test_project_is_fixed_and_is_the_appproject(self):
        project = manifests.applicationset()["spec"]["template"]["spec"]["project"]
        assert "{{" not in project
        assert manifests.appproject()["metadata"]["name"] == project

    def test_deleting_an_application_keeps_its_resources(self):
        spec = manifests.applicationset()["spec"]
        assert spec["syncPolicy"]["preserveResourcesOnDeletion"] is True
        assert "finalizers" not in spec["template"]["metadata"]

    def test_matrix_reads_each_clusters_own_folder(self):
        [generator] = manifests.applicationset()["spec"]["generators"]
        clusters, git = generator["matrix"]["generators"]
        assert {"hpo.example.org/gpu-cluster": "true"} == clusters["clusters"]["selector"][
            "matchLabels"
        ]
        assert [{"path": "rendered/{{.name}}/*"}] == git["git"]["directories"]

    def test_repository_and_branch_agree_everywhere(self):
        spec = manifests.applicationset()["spec"]
        [generator] = spec["generators"]
        git = generator["matrix"]["generators"][1]["git"]
        source = spec["template"]["spec"]["source"]
        assert git["repoURL"] == source["repoURL"]
        assert git["revision"] == source["targetRevision"]
        for cluster in manifests.clusters():
            assert (source["repoURL"], source["targetRevision"]) == (
                cluster["results"]["git_url"],
                cluster["results"]["base_branch"],
            ), f"{cluster['name']}: results PRs must target the branch Argo CD deploys"

    def test_automated_server_side_sync_with_retry_and_backoff(self):
        policy = manifests.applicationset()["spec"]["template"]["spec"]["syncPolicy"]
        assert policy["automated"]["selfHeal"] is True
        assert "ServerSideApply=true" in policy["syncOptions"]
        retry = policy["retry"]
        assert retry["limit"] > 0
        assert {"duration", "factor", "maxDuration"} <= set(retry["backoff"])
        assert retry["backoff"]["factor"] > 1


class TestBudgetsSurviveSync:
    """A budget's lowered trial counts stay: Argo CD ignores, and leaves alone, the fields the
    results Job wrote as its field manager, and nothing else."""

    def test_fields_of_the_results_job_are_ignored_and_respected(self):
        spec = manifests.applicationset()["spec"]["template"]["spec"]
        assert [
            {
                "group": "kubeflow.org",
                "kind": "Experiment",
                "managedFieldsManagers": [FIELD_MANAGER],
            }
        ] == spec["ignoreDifferences"]
        assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]


class TestRenderedObjectsFitTheProject:
    """Every rendered object is something the AppProject lets Argo CD apply on its cluster."""

    @staticmethod
    def write(root: Path, relative: str, obj: dict) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(obj))

    def test_allowed_objects_pass(self, tmp_path):
        self.write(
            tmp_path,
            "gpu-cluster-1/exp-a/persistentvolumeclaim-exp-a.yaml",
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "exp-a", "namespace": "kubeflow"},
            },
        )
        self.write(
            tmp_path,
            "gpu-cluster-1/exp-a/experiment-exp-a.yaml",
            {
                "apiVersion": "kubeflow.org/v1beta1",
                "kind": "Experiment",
                "metadata": {"name": "exp-a", "namespace": "kubeflow"},
            },
        )
        assert [] == manifests.project_violations(tmp_path, manifests.appproject())

    def test_forbidden_kind_namespace_and_cluster_scope_are_each_reported(self, tmp_path):
        self.write(
            tmp_path,
            "gpu-cluster-1/exp-a/clusterrole-exp-a.yaml",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "exp-a"},
            },
        )
        self.write(
            tmp_path,
            "gpu-cluster-1/exp-a/job-exp-a.yaml",
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "exp-a", "namespace": "team-x"},
            },
        )
        assert [
            "gpu-cluster-1/exp-a/clusterrole-exp-a.yaml: ClusterRole: kind not in the project's "
            "namespaceResourceWhitelist",
            "gpu-cluster-1/exp-a/clusterrole-exp-a.yaml: ClusterRole: no namespace "
            "(cluster-scoped or defaulted)",
            "gpu-cluster-1/exp-a/job-exp-a.yaml: Job: namespace team-x is not a destination on "
            "gpu-cluster-1",
        ] == manifests.project_violations(tmp_path, manifests.appproject())

    def test_the_committed_rendered_tree(self):
        assert [] == manifests.project_violations(
            manifests.REPO_ROOT / "rendered", manifests.appproject()
        )
