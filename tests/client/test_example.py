"""examples/seed_tune.py, the seed's program with the client import changed, runs to its end.

It runs as a person runs it: a subprocess in a checkout with a bare origin, its kubeconfig
pointing at the local Kubernetes API server. The Experiment appears some seconds after tune()
has written the definition (Argo CD's sync), runs, and succeeds; the program prints Katib's
V1beta1OptimalTrial and exits 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from tests.client.conftest import REPOSITORY, add_bare_origin, isolate_git
from tests.support import katib
from tests.support.kube_api import KubeServer

EXAMPLE = REPOSITORY / "examples" / "seed_tune.py"
NAME = "llama-3-2-fine-tune"


def _seed_experiment(version: int, state: str) -> dict:
    """The seed's Experiment as Katib reports it: its search (learning_rate and r) only."""
    experiment = katib.experiment_in(state, resource_version=str(version))
    experiment["metadata"]["name"] = NAME
    optimal = experiment["status"]["currentOptimalTrial"]
    if optimal.get("parameterAssignments"):
        optimal["bestTrialName"] = f"{NAME}-x7k2p"
        optimal["parameterAssignments"] = [
            a for a in optimal["parameterAssignments"] if a["name"] != "use_rslora"
        ]
    return experiment


def _sync_after_tune(kube: KubeServer, definition, stop: threading.Event) -> None:
    """Argo CD's part: once tune() has written the definition, the Experiment appears, runs
    and succeeds a few seconds apart."""
    while not definition.is_file():
        if stop.wait(0.1):
            return
    kube.state.later(2.0, _seed_experiment(1, "Running"))
    kube.state.later(4.0, _seed_experiment(2, "Succeeded"))


@pytest.fixture
def checkout(repo_copy, tmp_path, monkeypatch):
    isolate_git(tmp_path, monkeypatch)
    add_bare_origin(repo_copy, tmp_path)
    return repo_copy


def _run(checkout, kubeconfig: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HPO_")}
    env |= {"KUBECONFIG": kubeconfig, "PYTHONPATH": str(REPOSITORY)}
    return subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_seed_program_waits_for_the_experiment_and_prints_katibs_optimal_trial(
    checkout, tmp_path
):
    from kubeflow.katib import (
        V1beta1Metric,
        V1beta1Observation,
        V1beta1OptimalTrial,
        V1beta1ParameterAssignment,
    )

    definition = checkout / "experiments" / NAME / "experiment.yaml"
    stop = threading.Event()
    with KubeServer() as kube:
        syncing = threading.Thread(target=_sync_after_tune, args=(kube, definition, stop))
        syncing.start()
        started = time.monotonic()
        try:
            ran = _run(checkout, kube.kubeconfig(tmp_path / "kubeconfig"))
        finally:
            stop.set()
            syncing.join()
    assert ran.returncode == 0, ran.stderr
    expected = V1beta1OptimalTrial(
        best_trial_name=f"{NAME}-x7k2p",
        parameter_assignments=[
            V1beta1ParameterAssignment(name="learning_rate", value="3.2e-05"),
            V1beta1ParameterAssignment(name="r", value="16"),
        ],
        observation=V1beta1Observation(
            metrics=[
                V1beta1Metric(name=m["name"], latest=m["latest"], min=m["min"], max=m["max"])
                for m in katib.BEST_METRICS
            ]
        ),
    )
    said = ran.stdout.splitlines()
    assert said[0].startswith(f"waiting for experiments/{NAME}/ on main: commit and merge")
    assert said[1] == f"Experiment kubeflow/{NAME} exists: waiting for Katib (4 trials so far)"
    # Katib's model prints as its dict: the same text a notebook shows.
    assert "\n".join(said[2:]) == str(expected)
    assert definition.read_text(encoding="utf-8").startswith(f"name: {NAME}\n")
    assert time.monotonic() - started > 2  # it did wait for the Experiment to appear


def test_without_a_cluster_the_program_stops_with_the_reason(checkout, tmp_path):
    ran = _run(checkout, str(tmp_path / "missing-kubeconfig"))
    assert ran.returncode != 0
    assert "no usable Kubernetes configuration" in ran.stderr
    assert (checkout / "experiments" / NAME / "experiment.yaml").is_file()  # tune() still wrote
