"""tune() takes Katib's argument types, built with the real SDKs, and refuses others by name."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest
from kubeflow.katib import V1beta1AlgorithmSetting, V1beta1CollectorSpec
from kubeflow.katib import V1beta1MetricsCollectorSpec as CollectorSpec
from kubeflow.katib.types.types import TrainerResources
from kubernetes.client import (
    V1EnvVar,
    V1EnvVarSource,
    V1ResourceRequirements,
    V1SecretKeySelector,
)

from client import ClientError
from generator.loading.yamlload import load_located
from tests.client.test_tune import _tune


def _written(repo_copy, **arguments) -> dict:
    return load_located(_tune(repo_copy, **arguments).text, "experiment.yaml").data


class TestResources:
    """A dict, a V1ResourceRequirements or a TrainerResources: the same resources_per_trial."""

    def test_resource_requirements(self, repo_copy):
        resources = V1ResourceRequirements(
            requests={"cpu": "4", "memory": "10G"},
            limits={"cpu": "4", "memory": "10G", "nvidia.com/gpu": "2"},
        )
        assert {"gpu": 2, "cpu": 4, "memory": "10G"} == _written(
            repo_copy, resources_per_trial=resources, parallel_trial_count=2
        )["resources_per_trial"]

    def test_trainer_resources_with_requirements_per_worker(self, repo_copy):
        per_worker = V1ResourceRequirements(limits={"nvidia.com/gpu": 1, "cpu": "8"})
        resources = TrainerResources(
            num_workers=2, num_procs_per_worker=1, resources_per_worker=per_worker
        )
        assert {"gpu": 1, "cpu": 8, "num_workers": 2, "num_procs_per_worker": 1} == _written(
            repo_copy, resources_per_trial=resources, parallel_trial_count=2
        )["resources_per_trial"]

    def test_another_resource_is_named(self, repo_copy):
        resources = V1ResourceRequirements(limits={"ephemeral-storage": "10Gi"})
        with pytest.raises(ClientError, match="resources_per_trial: ephemeral-storage cannot"):
            _tune(repo_copy, resources_per_trial=resources)

    def test_wrong_type_names_the_argument_and_its_forms(self, repo_copy):
        with pytest.raises(ClientError, match=r"resources_per_trial: expected a dict such as"):
            _tune(repo_copy, resources_per_trial=["gpu", 2])


class TestEnvironment:
    """env_per_trial as a dict or as V1EnvVar, Secret keys kept as references."""

    def test_env_vars_with_a_secret_reference(self, repo_copy):
        env = [
            V1EnvVar(name="WANDB_MODE", value="offline"),
            V1EnvVar(
                name="WANDB_API_KEY",
                value_from=V1EnvVarSource(
                    secret_key_ref=V1SecretKeySelector(name="wandb", key="api-key")
                ),
            ),
        ]
        # A cluster whose Secrets are made by hand: any Secret name may be referenced.
        assert {
            "WANDB_MODE": "offline",
            "WANDB_API_KEY": {"secret": "wandb", "key": "api-key"},
        } == _written(repo_copy, env_per_trial=env, cluster="gpu-cluster-2")["env_per_trial"]

    def test_a_config_map_reference_is_refused_by_name(self, repo_copy):
        from kubernetes.client import V1ConfigMapKeySelector

        source = V1EnvVarSource(config_map_key_ref=V1ConfigMapKeySelector(name="c", key="k"))
        with pytest.raises(ClientError, match="env_per_trial: MODE reads a V1EnvVarSource"):
            _tune(repo_copy, env_per_trial=[V1EnvVar(name="MODE", value_from=source)])

    def test_wrong_type(self, repo_copy):
        with pytest.raises(ClientError, match="env_per_trial: expected a dict or a list"):
            _tune(repo_copy, env_per_trial="A=1")


class TestAlgorithmAndCollector:
    """algorithm_settings as V1beta1AlgorithmSetting, the collector as Katib spells it."""

    def test_algorithm_settings_list(self, repo_copy):
        settings = [V1beta1AlgorithmSetting(name="random_state", value="7")]
        written = _written(repo_copy, algorithm_settings=settings)
        assert {"random_state": "7"} == written["algorithm_settings"]

    @pytest.mark.parametrize(
        "config",
        [
            {"kind": "StdOut"},
            {"collector": {"kind": "StdOut"}},
            CollectorSpec(collector=V1beta1CollectorSpec(kind="StdOut")),
        ],
        ids=["katib-tune", "crd-nesting", "sdk-object"],
    )
    def test_collector_forms(self, repo_copy, config):
        written = _written(repo_copy, metrics_collector_config=config)
        assert {"kind": "StdOut"} == written["metrics_collector_config"]

    def test_wrong_settings(self, repo_copy):
        with pytest.raises(ClientError, match="algorithm_settings: expected a dict or a list"):
            _tune(repo_copy, algorithm_settings=7)
