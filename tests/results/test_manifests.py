"""templates/results-job.libsonnet: valid Kubernetes objects, least privilege, restricted pods."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import json
from pathlib import Path

import _jsonnet
import kubernetes_validate
import pytest

from generator.validate.kube_schema import KUBERNETES_VERSION

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "results-job.libsonnet"
PARAMS = {
    "name": "llama-3-2-1b-imdb",
    "namespace": "kubeflow",
    "image": "ghcr.io/example/hpo-results:0.1.0",
    "syncWave": "3",
    "git": {
        "url": "https://github.com/example-org/hpo.git",
        "baseBranch": "main",
        "forge": "github",
        "forgeApiUrl": None,
        "repo": "example-org/hpo",
    },
    "tokenSecret": {"secret": "forge-token", "key": "token"},
    "definition": '{\n  "definition_sha256": "0f",\n  "spec": {}\n}\n',
}


def render(params: dict) -> dict:
    return json.loads(
        _jsonnet.evaluate_file(str(TEMPLATE), tla_codes={"params": json.dumps(params)})
    )


@pytest.fixture(scope="module")
def objects() -> dict:
    return render(PARAMS)


def _container(objects: dict) -> dict:
    [container] = objects["job"]["spec"]["template"]["spec"]["containers"]
    return container


class TestObjects:
    """Five objects, each valid against the project's Kubernetes schemas in strict mode."""

    def test_kinds_and_names(self, objects):
        expected = {
            "definition": ("ConfigMap", "llama-3-2-1b-imdb-results"),
            "job": ("Job", "llama-3-2-1b-imdb-results"),
            "serviceAccount": ("ServiceAccount", "llama-3-2-1b-imdb-results"),
            "role": ("Role", "llama-3-2-1b-imdb-results"),
            "roleBinding": ("RoleBinding", "llama-3-2-1b-imdb-results"),
        }
        assert expected == {k: (o["kind"], o["metadata"]["name"]) for k, o in objects.items()}
        assert {"kubeflow"} == {o["metadata"]["namespace"] for o in objects.values()}

    @pytest.mark.parametrize("key", ["definition", "job", "serviceAccount", "role", "roleBinding"])
    def test_validates_strictly(self, objects, key):
        kubernetes_validate.validate(objects[key], KUBERNETES_VERSION, strict=True)

    def test_the_job_reads_the_definition_from_its_config_map(self, objects):
        """The record reaches the container as a read-only file named by HPO_DEFINITION."""
        container = _container(objects)
        pod = objects["job"]["spec"]["template"]["spec"]
        [volume] = [v for v in pod["volumes"] if v.get("configMap")]
        [mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert "llama-3-2-1b-imdb-results" == volume["configMap"]["name"]
        assert (True, f"{mount['mountPath']}/definition.json") == (
            mount["readOnly"],
            env["HPO_DEFINITION"],
        )
        assert PARAMS["definition"] == objects["definition"]["data"]["definition.json"]


class TestLeastPrivilege:
    """The Job may read experiments and trials in its namespace, and patch its own Experiment
    (its trial counts under a budget, its sync options once it has finished), no other."""

    def test_role_reads_katib_objects_and_patches_only_its_own_experiment(self, objects):
        expected = [
            {
                "apiGroups": ["kubeflow.org"],
                "resources": ["experiments", "trials"],
                "verbs": ["get", "list", "watch"],
            },
            {
                "apiGroups": ["kubeflow.org"],
                "resources": ["experiments"],
                "resourceNames": ["llama-3-2-1b-imdb"],
                "verbs": ["patch"],
            },
        ]
        assert expected == objects["role"]["rules"]

    def test_binding_ties_the_role_to_the_jobs_service_account(self, objects):
        binding = objects["roleBinding"]
        assert ("Role", "llama-3-2-1b-imdb-results") == (
            binding["roleRef"]["kind"],
            binding["roleRef"]["name"],
        )
        assert [
            {"kind": "ServiceAccount", "name": "llama-3-2-1b-imdb-results", "namespace": "kubeflow"}
        ] == binding["subjects"]
        pod = objects["job"]["spec"]["template"]["spec"]
        assert "llama-3-2-1b-imdb-results" == pod["serviceAccountName"]

    def test_token_arrives_only_through_a_secret_key_ref(self, objects):
        env = {e["name"]: e for e in _container(objects)["env"]}
        assert {"secretKeyRef": {"name": "forge-token", "key": "token"}} == env["HPO_FORGE_TOKEN"][
            "valueFrom"
        ]
        literal = [e for e in env.values() if "value" in e and "token" in e["value"].lower()]
        assert [] == literal


class TestPod:
    """The pod meets the restricted Pod Security Standard and runs `hpo results <name>`."""

    def test_restricted_security_context(self, objects):
        pod = objects["job"]["spec"]["template"]["spec"]
        container = _container(objects)["securityContext"]
        assert (True, 1000) == (
            pod["securityContext"]["runAsNonRoot"],
            pod["securityContext"]["runAsUser"],
        )
        assert {"type": "RuntimeDefault"} == pod["securityContext"]["seccompProfile"]
        assert (False, ["ALL"], True, 1000) == (
            container["allowPrivilegeEscalation"],
            container["capabilities"]["drop"],
            container["runAsNonRoot"],
            container["runAsUser"],
        )

    def test_explicit_command_and_settings(self, objects):
        container = _container(objects)
        # python -m results: the results image needs none of the generator's validators.
        assert ["python", "-m", "results", "llama-3-2-1b-imdb"] == container["command"]
        values = {e["name"]: e.get("value") for e in container["env"]}
        assert {
            "HPO_GIT_URL": "https://github.com/example-org/hpo.git",
            "HPO_BASE_BRANCH": "main",
            "HPO_FORGE": "github",
            "HPO_REPO": "example-org/hpo",
        }.items() <= values.items()
        assert "HPO_FORGE_API_URL" not in values  # null: the public API

    def test_sync_wave_backoff_and_resources(self, objects):
        job = objects["job"]
        waves = {
            k: o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
            for k, o in objects.items()
        }
        assert (
            dict.fromkeys(["definition", "job", "serviceAccount", "role", "roleBinding"], "3")
            == waves
        )
        assert job["spec"]["backoffLimit"] <= 3
        resources = _container(objects)["resources"]
        assert {"cpu", "memory"} == set(resources["requests"]) == set(resources["limits"])

    def test_numeric_wave_and_gitlab_api_url(self):
        params = {
            **PARAMS,
            "syncWave": 5,
            "git": {
                **PARAMS["git"],
                "forge": "gitlab",
                "forgeApiUrl": "https://gitlab.example/api/v4",
            },
        }
        objects = render(params)
        assert "5" == objects["job"]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
        values = {e["name"]: e.get("value") for e in _container(objects)["env"]}
        assert "https://gitlab.example/api/v4" == values["HPO_FORGE_API_URL"]


class TestParams:
    """Missing or wrong parameters stop the render with a message naming them."""

    def test_missing_required_key(self):
        params = {k: v for k, v in PARAMS.items() if k != "image"}
        with pytest.raises(RuntimeError, match="must provide image"):
            render(params)

    def test_missing_nested_git_key(self):
        params = {**PARAMS, "git": {"url": "https://x/y.git", "forge": "github"}}
        with pytest.raises(RuntimeError, match="must provide git.repo"):
            render(params)

    def test_unknown_forge(self):
        with pytest.raises(RuntimeError, match="git.forge must be github or gitlab"):
            render({**PARAMS, "git": {**PARAMS["git"], "forge": "gitea"}})


VOLUME = {
    "claimName": "shared-hpo-cache",
    "mountPath": "/workspace",
    "cacheDir": "/workspace/cache",
}


class TestVolume:
    """The experiment's volume, read-only: the download's markers reach the provenance."""

    def test_claim_mounted_read_only_with_the_cache_dir(self):
        """The claim, read-only in the pod and in the mount; HPO_CACHE_DIR names its cache."""
        objects = render({**PARAMS, "volume": VOLUME})
        pod = objects["job"]["spec"]["template"]["spec"]
        [volume] = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        [mount] = [m for m in _container(objects)["volumeMounts"] if m["name"] == volume["name"]]
        values = {e["name"]: e.get("value") for e in _container(objects)["env"]}
        assert {"claimName": "shared-hpo-cache", "readOnly": True} == volume[
            "persistentVolumeClaim"
        ]
        assert ("/workspace", True) == (mount["mountPath"], mount["readOnly"])
        assert "/workspace/cache" == values["HPO_CACHE_DIR"]
        kubernetes_validate.validate(objects["job"], KUBERNETES_VERSION, strict=True)

    def test_without_a_volume_nothing_is_mounted(self, objects):
        """No volume parameter: no claim and no HPO_CACHE_DIR (provenance says so)."""
        pod = objects["job"]["spec"]["template"]["spec"]
        values = {e["name"] for e in _container(objects)["env"]}
        assert [] == [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        assert "HPO_CACHE_DIR" not in values

    @pytest.mark.parametrize(
        ("storage", "claim"),
        [
            ("", "demo-exp"),
            ("storage_config: {existing_claim: shared-hpo-cache}\n", "shared-hpo-cache"),
        ],
    )
    def test_the_rendered_job_mounts_the_download_jobs_claim(self, storage, claim):
        """Rendered from a definition: the results Job's claim and cache folder are the download
        Job's, for the experiment's own claim and for a shared one."""
        from generator.loading.definition import parse_definition
        from generator.loading.repo_config import load_repo_config
        from generator.rendering.render import render_experiments
        from tests.generator.conftest import VALID_DEFINITION

        root = TEMPLATE.parents[1]
        text = VALID_DEFINITION + storage
        record = parse_definition(text, "experiments/demo-exp/experiment.yaml").record
        [rendered] = render_experiments([record], root, load_repo_config(root))
        jobs = {o["metadata"]["name"]: o for o in rendered.objects if o["kind"] == "Job"}
        download = jobs["demo-exp-storage-init"]["spec"]["template"]["spec"]
        results = jobs["demo-exp-results"]["spec"]["template"]["spec"]
        claims = [
            [
                v["persistentVolumeClaim"]["claimName"]
                for v in pod["volumes"]
                if "persistentVolumeClaim" in v
            ]
            for pod in (download, results)
        ]
        cache_dirs = {
            "download": download["containers"][0]["args"][-1],
            "results": {e["name"]: e.get("value") for e in results["containers"][0]["env"]}[
                "HPO_CACHE_DIR"
            ],
        }
        assert [[claim], [claim]] == claims
        assert {"download": "/workspace/cache", "results": "/workspace/cache"} == cache_dirs

    def test_a_claim_only_one_pod_may_mount_is_left_to_the_trials(self):
        """ReadWriteOncePod: the results Job must not hold the volume the trials need."""
        from generator.loading.definition import parse_definition
        from generator.loading.repo_config import load_repo_config
        from generator.rendering.render import render_experiments
        from tests.generator.conftest import VALID_DEFINITION

        root = TEMPLATE.parents[1]
        text = VALID_DEFINITION + "storage_config: {access_modes: [ReadWriteOncePod]}\n"
        record = parse_definition(text, "experiments/demo-exp/experiment.yaml").record
        [rendered] = render_experiments([record], root, load_repo_config(root))
        [job] = [
            o
            for o in rendered.objects
            if o["metadata"]["name"] == "demo-exp-results" and o["kind"] == "Job"
        ]
        pod = job["spec"]["template"]["spec"]
        assert [] == [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        assert "HPO_CACHE_DIR" not in {e["name"] for e in pod["containers"][0]["env"]}
