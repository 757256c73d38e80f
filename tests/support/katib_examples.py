"""Katib Experiments shaped like the examples Katib ships, written here (not copied).

PYTORCHJOB_EXPERIMENT has the shape of Katib's examples/v1beta1/kubeflow-training-operator
PyTorchJob example: an Experiment whose trialTemplate.trialSpec is a kubeflow.org/v1 PyTorchJob
with a Master and a Worker replica, each running a container named `pytorch` whose command takes
`${trialParameters...}`, and no runPolicy. Names, image and numbers are this file's own.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

PYTORCHJOB_EXPERIMENT = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  namespace: kubeflow
  name: torch-digits
spec:
  parallelTrialCount: 2
  maxTrialCount: 8
  maxFailedTrialCount: 2
  objective:
    type: minimize
    goal: 0.01
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.001"
        max: "0.1"
    - name: momentum
      parameterType: double
      feasibleSpace:
        min: "0.6"
        max: "0.95"
  trialTemplate:
    primaryContainerName: pytorch
    trialParameters:
      - name: learningRate
        description: step size of the optimiser
        reference: lr
      - name: momentum
        description: momentum of the optimiser
        reference: momentum
    trialSpec:
      apiVersion: kubeflow.org/v1
      kind: PyTorchJob
      spec:
        pytorchReplicaSpecs:
          Master:
            replicas: 1
            restartPolicy: OnFailure
            template:
              spec:
                containers:
                  - name: pytorch
                    image: docker.io/example/torch-digits:1.0.0
                    command:
                      - python3
                      - /app/train.py
                      - --epochs=2
                      - --lr=${trialParameters.learningRate}
                      - --momentum=${trialParameters.momentum}
          Worker:
            replicas: 2
            restartPolicy: OnFailure
            template:
              spec:
                containers:
                  - name: pytorch
                    image: docker.io/example/torch-digits:1.0.0
                    command:
                      - python3
                      - /app/train.py
                      - --epochs=2
                      - --lr=${trialParameters.learningRate}
                      - --momentum=${trialParameters.momentum}
"""


def pytorchjob_experiment() -> dict[str, Any]:
    """The Experiment as a fresh dict, to change in a test."""
    return yaml.safe_load(PYTORCHJOB_EXPERIMENT)


def trial_pytorchjob() -> dict[str, Any]:
    """Its trialSpec: a PyTorchJob as Katib would create it for a trial (placeholders kept)."""
    return copy.deepcopy(pytorchjob_experiment()["spec"]["trialTemplate"]["trialSpec"])
