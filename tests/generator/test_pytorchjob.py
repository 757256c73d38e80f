"""PyTorchJobs against the training operator's CRD schema and webhook, without any SDK."""

# ruff: noqa: SIM300
from __future__ import annotations

import json

import jsonschema
import pytest

from generator.cli import main
from generator.validate import dotted
from generator.validate.objects import validate_object
from generator.validate.pytorchjob import pytorchjob_schema, validate_pytorchjob
from tests.generator.conftest import MULTI_NODE_DEFINITION
from tests.support.katib_examples import (
    PYTORCHJOB_EXPERIMENT,
    pytorchjob_experiment,
    trial_pytorchjob,
)


def _messages(obj: dict) -> list[str]:
    return [f"{dotted(f.path)}: {f.message}" for f in validate_pytorchjob(obj)]


def _rules(obj: dict) -> list[str]:
    """What a cluster would refuse (policies aside)."""
    return [f"{dotted(f.path)}: {f.message}" for f in validate_object(obj) if f.kind == "rule"]


class TestKatibsPyTorchJobExample:
    """Katib's PyTorchJob example (no runPolicy) is a valid Experiment, linted or validated."""

    def test_the_experiment_has_nothing_a_cluster_refuses(self):
        assert [] == _rules(pytorchjob_experiment())

    def test_the_trial_job_fits_the_schema(self):
        assert [] == _messages(trial_pytorchjob())

    def test_hpo_check_passes_it(self, tmp_path, monkeypatch, capsys):
        manifest = tmp_path / "pytorchjob-experiment.yaml"
        manifest.write_text(PYTORCHJOB_EXPERIMENT)
        monkeypatch.chdir(tmp_path)
        assert 0 == main(["check", str(manifest)])
        assert "hpo check: ok: 1 file(s), 0 error(s)" in capsys.readouterr().err


class TestStrictSchema:
    """Unknown fields and wrong types are refused at every level, pod templates included."""

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (
                lambda job: job["spec"].update(runPolicy={"cleanPodPolicy": "All", "ttl": 3}),
                "spec.runPolicy: unknown field: 'ttl'",
            ),
            (
                lambda job: job["spec"]["pytorchReplicaSpecs"]["Master"].update(replica=1),
                "spec.pytorchReplicaSpecs.Master: unknown field: 'replica'",
            ),
            (
                lambda job: job["spec"]["pytorchReplicaSpecs"].update(
                    Chief=job["spec"]["pytorchReplicaSpecs"]["Worker"]
                ),
                "spec.pytorchReplicaSpecs: unknown field: 'Chief'",
            ),
            (
                lambda job: job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"][
                    "containers"
                ][0].update(imagePullPolicyy="Always"),
                "spec.pytorchReplicaSpecs.Worker.template.spec.containers[0]: "
                "unknown field: 'imagePullPolicyy'",
            ),
            (
                lambda job: job["spec"]["pytorchReplicaSpecs"]["Worker"].update(replicas="two"),
                'spec.pytorchReplicaSpecs.Worker.replicas: "two" is not of type "integer"',
            ),
            (
                lambda job: job["spec"]["pytorchReplicaSpecs"]["Master"].update(
                    restartPolicy="Sometimes"
                ),
                'spec.pytorchReplicaSpecs.Master.restartPolicy: "Sometimes" is not one of',
            ),
            (
                lambda job: job["spec"].update(elasticPolicy={"rdzvBackend": "zookeeper"}),
                'spec.elasticPolicy.rdzvBackend: "zookeeper" is not one of',
            ),
            (
                lambda job: job["spec"].pop("pytorchReplicaSpecs"),
                'spec: "pytorchReplicaSpecs" is a required property',
            ),
        ],
        ids=[
            "run-policy-field",
            "replica-field",
            "replica-type",
            "container-field",
            "replicas-type",
            "restart-policy",
            "rendezvous-backend",
            "no-replicas",
        ],
    )
    def test_refused(self, change, expected):
        """One finding, at the field, in the validator's words (whose wording of a list of
        choices varies between jsonschema-rs releases: only its start is compared)."""
        job = trial_pytorchjob()
        change(job)
        [message] = _messages(job)
        assert expected == message[: len(expected)]

    def test_every_field_of_the_api_is_accepted(self):
        job = trial_pytorchjob()
        job["metadata"] = {"name": "torch-digits-1", "labels": {"team": "ml"}}
        job["spec"]["nprocPerNode"] = "auto"
        job["spec"]["runPolicy"] = {
            "cleanPodPolicy": "None",
            "ttlSecondsAfterFinished": 600,
            "activeDeadlineSeconds": 7200,
            "backoffLimit": 2,
            "suspend": False,
            "managedBy": "kubeflow.org/training-operator",
            "schedulingPolicy": {
                "minAvailable": 3,
                "queue": "gpu",
                "minResources": {"nvidia.com/gpu": 3, "memory": "30Gi"},
                "priorityClass": "high",
                "scheduleTimeoutSeconds": 60,
            },
        }
        job["status"] = {
            "conditions": [{"type": "Running", "status": "True", "reason": "Running"}],
            "replicaStatuses": {"Master": {"active": 1, "selector": "a=b"}},
            "startTime": "2025-05-01T10:00:00Z",
        }
        assert [] == _messages(job)


class TestWebhookRules:
    """The operator's validating webhook: replica counts, the pytorch container, elasticity."""

    def test_one_master(self):
        job = trial_pytorchjob()
        job["spec"]["pytorchReplicaSpecs"]["Master"]["replicas"] = 2
        assert ["spec.pytorchReplicaSpecs.Master.replicas: Master replicas must be 1"] == (
            _messages(job)
        )

    def test_a_container_named_pytorch(self):
        job = trial_pytorchjob()
        job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0][
            "name"
        ] = "trainer"
        assert [
            "spec.pytorchReplicaSpecs.Worker.template.spec.containers: the training operator "
            "needs a container named 'pytorch'"
        ] == _messages(job)

    def test_an_image(self):
        job = trial_pytorchjob()
        del job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0][
            "image"
        ]
        assert [
            "spec.pytorchReplicaSpecs.Master.template.spec.containers[0].image: image is required"
        ] == _messages(job)

    def test_elastic_jobs_need_workers_not_a_master(self):
        job = trial_pytorchjob()
        del job["spec"]["pytorchReplicaSpecs"]["Worker"]
        job["spec"]["elasticPolicy"] = {"minReplicas": 1, "maxReplicas": 4}
        assert [
            "spec.pytorchReplicaSpecs: a Worker replica is required with an elasticPolicy"
        ] == _messages(job)
        job["spec"]["pytorchReplicaSpecs"] = {
            "Worker": trial_pytorchjob()["spec"]["pytorchReplicaSpecs"]["Worker"]
        }
        assert [] == _messages(job)

    def test_a_master_without_elasticity(self):
        job = trial_pytorchjob()
        del job["spec"]["pytorchReplicaSpecs"]["Master"]
        assert ["spec.pytorchReplicaSpecs: a Master replica is required"] == _messages(job)


class TestRenderedTrials:
    """A multi-node definition renders a PyTorchJob trial that the schema accepts."""

    def test_rendered_pytorchjob(self, repo):
        repo.write(MULTI_NODE_DEFINITION)
        assert 0 == main(["render"])
        experiment = repo.rendered_experiment()
        trial = experiment["spec"]["trialTemplate"]["trialSpec"]
        assert "PyTorchJob" == trial["kind"]
        assert [] == _messages(trial)
        assert [] == validate_object(experiment)


class TestExportedSchema:
    """hpo schemas export writes a PyTorchJob schema that stands alone, for kubeconform."""

    def test_export_validates_and_refuses(self, tmp_path):
        assert 0 == main(["schemas", "export", str(tmp_path)])
        schema = json.loads((tmp_path / "pytorchjob-kubeflow-v1.json").read_text())
        assert pytorchjob_schema() == schema
        # Every reference resolves inside the file: no path to kubernetes-validate's files.
        refs = {ref for ref in json.dumps(schema).split('"$ref": ')[1:]}
        assert all(ref.startswith('"#/$defs/') for ref in refs)
        jsonschema.validate(trial_pytorchjob(), schema)
        bad = trial_pytorchjob()
        bad["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0][
            "imagePullPolicyy"
        ] = "Always"
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
