"""Values YAML readers disagree on survive the cluster path: hpo check and render, then the
results Job on recorded Katib objects, then results.yaml on the results branch."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from generator.commands.project import check_definition_text, find_root
from generator.loading.repo_config import load_repo_config
from generator.loading.yamlload import load_located
from results import cli
from tests.results.conftest import set_results_job_env
from tests.support import odd_values

BRANCH = f"hpo-results/{odd_values.NAME}"


@pytest.fixture(scope="module")
def rendered():
    """What hpo render writes for the definition on a cluster with a results Job."""
    root = find_root(Path(__file__))
    text = odd_values.definition(cluster="gpu-cluster-1")
    path = f"experiments/{odd_values.NAME}/experiment.yaml"
    report = check_definition_text(text, path, odd_values.NAME, root, load_repo_config(root))
    assert [] == [p for p in report.problems if p.is_error]
    return report.rendered


def _trial(index: int, assignments: dict[str, str], experiment: dict) -> dict:
    """A finished Trial as Katib stores it: the assignments as the strings it chose."""
    name = f"{odd_values.NAME}-{index:03d}"
    succeeded = assignments["learning_rate"] != "0.5"
    status = "Succeeded" if succeeded else "Failed"
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Trial",
        "metadata": {
            "name": name,
            "namespace": "kubeflow",
            "labels": {"katib.kubeflow.org/experiment": odd_values.NAME},
        },
        "spec": {
            "objective": experiment["spec"]["objective"],
            "parameterAssignments": [{"name": k, "value": v} for k, v in assignments.items()],
        },
        "status": {
            "completionTime": f"2026-11-01T10:{index:02d}:00Z",
            "conditions": [{"type": status, "status": "True", "reason": f"Trial{status}"}],
            "observation": {
                "metrics": [{"name": "train_loss", "min": "0.4", "max": "0.7", "latest": "0.5"}]
            }
            if succeeded
            else None,
        },
    }


@pytest.fixture
def cluster(kube, rendered, tmp_path, monkeypatch):
    """The rendered Experiment, finished, with one Trial per point of Katib's grid."""
    monkeypatch.setenv("KUBECONFIG", kube.kubeconfig(tmp_path / "kubeconfig"))
    experiment = rendered.object_of_kind("Experiment")
    experiment["metadata"].update(uid="0e1d2c3b-4a59-4876-9123-456789abcdef", resourceVersion="9")
    experiment["status"] = {"conditions": [{"type": "Succeeded", "status": "True"}]}
    kube.state.put(experiment)
    # Katib hands a trial the strings of the rendered feasible space, never YAML.
    lists = {p["name"]: p["feasibleSpace"]["list"] for p in experiment["spec"]["parameters"]}
    for index, values in enumerate(itertools.product(*lists.values())):
        kube.state.put(_trial(index, dict(zip(lists, values, strict=True)), experiment))
    return kube


class TestOddValuesOnTheCluster:
    """The results Job types Katib's strings by the definition record it was rendered with."""

    def test_every_grid_point_comes_back_typed(
        self, cluster, rendered, origin, github, tmp_path, monkeypatch
    ):
        # The record exactly as the rendered ConfigMap carries it to the Job.
        config_map = next(o for o in rendered.objects if o["kind"] == "ConfigMap")
        record = tmp_path / "definition.json"
        record.write_text(config_map["data"]["definition.json"], encoding="utf-8")
        set_results_job_env(monkeypatch, record, origin, github)

        assert 0 == cli.main(["results", odd_values.NAME, "--watch-seconds", "2"])

        path = f"experiments/{odd_values.NAME}/results.yaml"
        text = origin.show(BRANCH, path).decode("utf-8")
        results = load_located(text, path).data
        assert odd_values.every_combination() == odd_values.combinations_in(results)
        assert {"Succeeded": 16, "Failed": 8} == results["counts"]
