"""Trainer v2 clusters: the same definition renders TrainJob trials, checked like the others."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import copy
import json

import pytest
import yaml

from generator.cli import main
from generator.commands.project import check_definition_text
from generator.loading.repo_config import load_repo_config
from generator.rendering.render import to_yaml
from generator.validate.objects import validate_object
from tests.generator.conftest import REPO, VALID_DEFINITION

RUNTIME_FILE = REPO / "argocd" / "training-runtime.yaml"
SEED = REPO / "experiments" / "llama-3-2-1b-imdb" / "experiment.yaml"
TRIAL = ("spec", "trialTemplate", "trialSpec")


def _render(text: str, cluster: str = "gpu-cluster-2"):
    text = text.replace("cluster: gpu-cluster-1", f"cluster: {cluster}")
    report = check_definition_text(
        text, "experiments/demo-exp/experiment.yaml", None, REPO, load_repo_config(REPO)
    )
    return report


def _experiment(text: str = VALID_DEFINITION, cluster: str = "gpu-cluster-2") -> dict:
    report = _render(text, cluster)
    assert [] == [str(p) for p in report.problems if p.is_error]
    return report.rendered.object_of_kind("Experiment")


def _messages(findings) -> list[str]:
    return [f"{'.'.join(map(str, f.path))}: {f.message}" for f in findings]


class TestSameDefinitionEitherCluster:
    """Nothing in the definition changes: the cluster's trial API picks the trial object."""

    def test_training_operator_cluster_gets_a_job(self):
        trial = _experiment(cluster="gpu-cluster-1")["spec"]["trialTemplate"]["trialSpec"]
        assert ("batch/v1", "Job") == (trial["apiVersion"], trial["kind"])

    def test_trainer_v2_cluster_gets_a_trainjob_on_its_runtime(self):
        template = _experiment()["spec"]["trialTemplate"]
        trial = template["trialSpec"]
        assert ("trainer.kubeflow.org/v1alpha1", "TrainJob") == (trial["apiVersion"], trial["kind"])
        assert {
            "apiGroup": "trainer.kubeflow.org",
            "kind": "ClusterTrainingRuntime",
            "name": "hpo-torch-distributed",
        } == trial["spec"]["runtimeRef"]
        trainer = trial["spec"]["trainer"]
        assert (["torchrun", "--module", "trainer"], 1, 2) == (
            trainer["command"],
            trainer["numNodes"],
            trainer["numProcPerNode"],
        )
        assert {"cpu": "4", "memory": "10G", "nvidia.com/gpu": 2} == (
            trainer["resourcesPerNode"]["limits"]
        )
        # What Katib needs to find the first node's pod and its training container.
        assert ("node", {
            "jobset.sigs.k8s.io/replicatedjob-name": "node",
            "batch.kubernetes.io/job-completion-index": "0",
        }) == (template["primaryContainerName"], template["primaryPodLabels"])  # fmt: skip

    def test_several_nodes(self):
        text = VALID_DEFINITION.replace("{gpu: 2,", "{num_workers: 3, gpu: 2,")
        trainer = _experiment(text)["spec"]["trialTemplate"]["trialSpec"]["spec"]["trainer"]
        assert (3, 2) == (trainer["numNodes"], trainer["numProcPerNode"])

    def test_every_pod_gets_the_volume_and_the_restricted_profile(self):
        trial = _experiment()["spec"]["trialTemplate"]["trialSpec"]
        [patch] = trial["spec"]["runtimePatches"]
        [job] = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
        pod = job["template"]["spec"]["template"]["spec"]
        assert "node" == job["name"]
        assert {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}.items() <= (
            pod["securityContext"].items()
        )
        assert [{"name": "workspace", "persistentVolumeClaim": {"claimName": "demo-exp"}}] == [
            v for v in pod["volumes"] if "persistentVolumeClaim" in v
        ]
        [container] = pod["containers"]
        assert ("node", "/workspace") == (
            container["name"],
            container["volumeMounts"][0]["mountPath"],
        )

    def test_the_seed_renders_valid_for_trainer_v2(self):
        report = _render(SEED.read_text())
        assert [] == [str(p) for p in report.problems if p.is_error]


class TestValidation:
    """TrainJob trials are checked against Trainer v2's own schema, restricted profile and shell."""

    @pytest.fixture
    def experiment(self) -> dict:
        return _experiment()

    def test_the_rendered_trial_is_valid(self, experiment):
        assert [] == validate_object(experiment)

    def test_an_unknown_trainer_field_is_an_error(self, experiment):
        broken = copy.deepcopy(experiment)
        broken["spec"]["trialTemplate"]["trialSpec"]["spec"]["trainer"]["numNode"] = 2
        assert ["spec.trialTemplate.trialSpec.spec.trainer: unknown field: 'numNode'"] == _messages(
            validate_object(broken)
        )

    def test_a_wrong_type_is_an_error(self, experiment):
        broken = copy.deepcopy(experiment)
        broken["spec"]["trialTemplate"]["trialSpec"]["spec"]["trainer"]["numNodes"] = "two"
        [message] = _messages(validate_object(broken))
        assert message.startswith("spec.trialTemplate.trialSpec.spec.trainer.numNodes: ")

    def test_shell_and_pod_policies_cover_the_trainer_and_its_pods(self, experiment):
        broken = copy.deepcopy(experiment)
        trial = broken["spec"]["trialTemplate"]["trialSpec"]["spec"]
        trial["trainer"]["args"].append("--note=$(whoami)")
        pod = trial["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"][
            "replicatedJobs"
        ][0]["template"]["spec"]["template"]["spec"]
        del pod["securityContext"]["seccompProfile"]
        messages = _messages(validate_object(broken))
        index = len(trial["trainer"]["args"]) - 1
        assert any(
            m.startswith(f"spec.trialTemplate.trialSpec.spec.trainer.args.{index}: ")
            and "shell" in m
            for m in messages
        )
        assert any(
            m.endswith("restricted pods need seccompProfile RuntimeDefault") for m in messages
        )


class TestHandWrittenManifests:
    """hpo check lints a hand-written Experiment with a TrainJob trial, and a training runtime."""

    def test_experiment_with_a_trainjob_trial(self, tmp_path, capsys):
        manifest = tmp_path / "experiment.yaml"
        manifest.write_text(to_yaml(_experiment()))
        assert 0 == main(["check", str(manifest)])
        assert "0 error(s), 0 warning(s)" in capsys.readouterr().err

    def test_the_shipped_runtime(self, capsys):
        assert 0 == main(["check", str(RUNTIME_FILE)])
        assert "0 error(s), 0 warning(s)" in capsys.readouterr().err

    def test_a_runtime_with_an_unknown_field(self, tmp_path, capsys):
        runtime = yaml.safe_load(RUNTIME_FILE.read_text())
        runtime["spec"]["mlPolicy"]["numNode"] = 1
        manifest = tmp_path / "runtime.yaml"
        manifest.write_text(yaml.safe_dump(runtime))
        assert 1 == main(["check", str(manifest)])
        assert "spec.mlPolicy: unknown field: 'numNode'" in capsys.readouterr().err


class TestShippedRuntime:
    """argocd/training-runtime.yaml is the runtime the clusters name, running the trainer image
    in the job and container Katib collects metrics from."""

    @pytest.fixture(scope="class")
    def runtime(self) -> dict:
        return yaml.safe_load(RUNTIME_FILE.read_text())

    def test_named_by_the_trainer_v2_clusters(self, runtime):
        clusters = load_repo_config(REPO).clusters.values()
        named = {c.training_runtime for c in clusters if c.trial_api == "TrainJob"}
        assert {runtime["metadata"]["name"]} == named

    def test_runs_the_pinned_trainer_image_in_node(self, runtime):
        images = yaml.safe_load((REPO / "images.yaml").read_text())
        [job] = runtime["spec"]["template"]["spec"]["replicatedJobs"]
        [container] = job["template"]["spec"]["template"]["spec"]["containers"]
        assert ("node", "node", images["trainer"]) == (
            job["name"],
            container["name"],
            container["image"],
        )
        assert {} == runtime["spec"]["mlPolicy"]["torch"]  # torchrun's PET_* variables


class TestSchemas:
    """hpo schemas export writes the Trainer v2 kinds in kubeconform's layout."""

    def test_export(self, tmp_path):
        import jsonschema

        assert 0 == main(["schemas", "export", str(tmp_path)])
        trainjob = json.loads((tmp_path / "trainjob-trainer-v1alpha1.json").read_text())
        runtime = json.loads(
            (tmp_path / "clustertrainingruntime-trainer-v1alpha1.json").read_text()
        )
        jsonschema.validate(_experiment()["spec"]["trialTemplate"]["trialSpec"], trainjob)
        jsonschema.validate(yaml.safe_load(RUNTIME_FILE.read_text()), runtime)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**yaml.safe_load(RUNTIME_FILE.read_text()), "spek": {}}, runtime)


class TestClusterList:
    """argocd/clusters.yaml says which trial API each cluster runs, and nothing else is accepted."""

    BASE = "clusters:\n  - name: gpu-cluster-1\n    gpu_quota: 8\n"

    @pytest.mark.parametrize(
        ("extra", "where", "message"),
        [
            (
                "    trial_api: MPIJob\n",
                "4:16",
                "clusters[0].trial_api: Input should be 'Job' or 'TrainJob'",
            ),
            (  # the runtime is missing: said at the cluster, like any missing key
                "    trial_api: TrainJob\n",
                "2:5",
                "clusters[0]: a TrainJob cluster names its ClusterTrainingRuntime in "
                "training_runtime",
            ),
            (
                "    training_runtime: hpo-torch\n",
                "4:23",
                "clusters[0].training_runtime: a TrainJob cluster names its "
                "ClusterTrainingRuntime in training_runtime",
            ),
        ],
    )
    def test_refused(self, repo, capsys, extra, where, message):
        (repo.root / "argocd" / "clusters.yaml").write_text(self.BASE + extra)
        repo.write(VALID_DEFINITION)
        assert 1 == main(["check"])
        assert f"argocd/clusters.yaml:{where}: error: {message}" in capsys.readouterr().err
