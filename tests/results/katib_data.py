"""Katib objects as a v1beta1 API server returns them, for an experiment searching three values.

Shaped after `kubectl get experiment,trial -o json` output: webhook-filled defaults, string
metric values, accumulated conditions, "unavailable" for metrics a collector never saw.
"""

from __future__ import annotations

import copy
from typing import Any

NAME = "llama-3-2-1b-imdb"
NAMESPACE = "kubeflow"
EXPERIMENT_UID = "3f1c2a9e-8d4b-4c1e-9a57-2b6f0d7e4c11"
TRAINER_IMAGE = "ghcr.io/example/hpo-trainer:0.1.0"

DEFINITION = """\
name: llama-3-2-1b-imdb
cluster: gpu-cluster-1
namespace: kubeflow
model_provider_parameters:
  model_uri: hf://meta-llama/Llama-3.2-1B
  revision: 4e20de362430cd3b72f300e6b0f18e50e7166e08
  transformer_type: AutoModelForSequenceClassification
  num_labels: 2
  access_token: {secret: hf-token, key: token}
dataset_provider_parameters:
  repo_id: stanfordnlp/imdb
  revision: main
  split: train[:1000]
trainer_parameters:
  training_parameters:
    learning_rate: {search: double, min: 1.0e-5, max: 5.0e-5}
    num_train_epochs: 3
  lora_config:
    r: {search: int, min: 8, max: 32}
    use_rslora: {search: categorical, values: [true, false]}
    lora_alpha: 8
objective_metric_name: train_loss
objective_type: minimize
algorithm_name: random
max_trial_count: 4
parallel_trial_count: 2
resources_per_trial: {gpu: 2, cpu: 4, memory: 10G}
"""

_OBJECTIVE = {
    "type": "minimize",
    "objectiveMetricName": "train_loss",
    "additionalMetricNames": ["eval_accuracy"],
    "metricStrategies": [
        {"name": "train_loss", "value": "min"},
        {"name": "eval_accuracy", "value": "latest"},
    ],
}


def _condition(kind: str, status: str, reason: str, message: str, at: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": at,
        "lastTransitionTime": at,
    }


def trial(
    suffix: str,
    *,
    learning_rate: str,
    r: str,
    use_rslora: str,
    status: str = "Succeeded",
    train_loss: tuple[str, str, str] | None = ("0.41", "0.69", "0.43"),
    completed: str = "2024-05-01T11:00:00Z",
    experiment: str = NAME,
) -> dict[str, Any]:
    """A Trial; `train_loss` is (min, max, latest), None for a collector that found nothing."""
    conditions = [
        _condition("Created", "True", "TrialCreated", "Trial is created", "2024-05-01T10:00:00Z"),
        _condition("Running", "False", "TrialRunning", "Trial is running", completed),
    ]
    conditions.append(
        _condition(status, "True", f"Trial{status}", f"Trial has {status.lower()}", completed)
    )
    loss = train_loss or ("unavailable",) * 3
    metrics = [
        {"name": "train_loss", "min": loss[0], "max": loss[1], "latest": loss[2]},
        {"name": "eval_accuracy", "min": "0.81", "max": "0.88", "latest": "0.86"},
    ]
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Trial",
        "metadata": {
            "name": f"{experiment}-{suffix}",
            "namespace": NAMESPACE,
            "uid": f"00000000-0000-4000-8000-{suffix.rjust(12, '0')}",
            "resourceVersion": "1201",
            "generation": 1,
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"katib.kubeflow.org/experiment": experiment},
            "ownerReferences": [
                {
                    "apiVersion": "kubeflow.org/v1beta1",
                    "kind": "Experiment",
                    "name": experiment,
                    "uid": EXPERIMENT_UID,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "objective": copy.deepcopy(_OBJECTIVE),
            "parameterAssignments": [
                {"name": "learning_rate", "value": learning_rate},
                {"name": "r", "value": r},
                {"name": "use_rslora", "value": use_rslora},
            ],
            "metricsCollector": {"collector": {"kind": "StdOut"}},
            "primaryContainerName": "trainer",
            "successCondition": 'status.conditions.#(type=="Complete")#|#(status=="True")#',
            "failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
            "runSpec": {"apiVersion": "batch/v1", "kind": "Job"},
            "labels": {"katib.kubeflow.org/experiment": experiment},
        },
        "status": {
            "startTime": "2024-05-01T10:00:00Z",
            "completionTime": completed,
            "conditions": conditions,
            "observation": {"metrics": metrics} if status != "Failed" else None,
        },
    }


def default_trials() -> list[dict[str, Any]]:
    return [
        trial(
            "x7k2p",
            learning_rate="3.2e-05",
            r="16",
            use_rslora="true",
            train_loss=("0.412", "0.69", "0.415"),
            completed="2024-05-01T11:40:00Z",
        ),
        trial(
            "b9q4m",
            learning_rate="1.1e-05",
            r="8",
            use_rslora="false",
            train_loss=("0.530", "0.69", "0.531"),
            completed="2024-05-01T11:10:00Z",
        ),
        trial(
            "c3d8w",
            learning_rate="4.7e-05",
            r="32",
            use_rslora="false",
            train_loss=("0.447", "0.70", "0.450"),
            completed="2024-05-01T12:20:00Z",
        ),
        trial(
            "f5n1z",
            learning_rate="2.0e-05",
            r="24",
            use_rslora="true",
            status="Failed",
            train_loss=None,
            completed="2024-05-01T12:05:00Z",
        ),
    ]


def experiment(*, state: str = "Succeeded", resource_version: str = "1500") -> dict[str, Any]:
    """The Experiment in `state`: Running, Succeeded or Failed."""
    conditions = [
        _condition(
            "Created", "True", "ExperimentCreated", "Experiment is created", "2024-05-01T09:59:00Z"
        ),
    ]
    if state == "Running":
        conditions.append(
            _condition(
                "Running",
                "True",
                "ExperimentRunning",
                "Experiment is running",
                "2024-05-01T10:00:00Z",
            )
        )
    else:
        conditions.append(
            _condition(
                "Running",
                "False",
                "ExperimentRunning",
                "Experiment is running",
                "2024-05-01T12:20:00Z",
            )
        )
    if state == "Succeeded":
        conditions.append(
            _condition(
                "Succeeded",
                "True",
                "ExperimentMaxTrialsReached",
                "Experiment is succeeded",
                "2024-05-01T12:20:00Z",
            )
        )
    if state == "Failed":
        conditions.append(
            _condition(
                "Failed",
                "True",
                "ExperimentMaxFailedTrialsReached",
                "Experiment is failed because max failed count has reached",
                "2024-05-01T12:20:00Z",
            )
        )
    trial_spec = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "initContainers": [{"name": "wait-cache", "image": "busybox:1.36"}],
                    "containers": [
                        {
                            "name": "trainer",
                            "image": TRAINER_IMAGE,
                            "command": ["python", "-m", "trainer"],
                        }
                    ],
                }
            }
        },
    }
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "uid": EXPERIMENT_UID,
            "resourceVersion": resource_version,
            "generation": 1,
            "creationTimestamp": "2024-05-01T09:59:00Z",
            "finalizers": ["update-prometheus-metrics"],
        },
        "spec": {
            "parameters": [
                {
                    "name": "learning_rate",
                    "parameterType": "double",
                    "feasibleSpace": {"min": "1e-05", "max": "5e-05"},
                },
                {"name": "r", "parameterType": "int", "feasibleSpace": {"min": "8", "max": "32"}},
                {
                    "name": "use_rslora",
                    "parameterType": "categorical",
                    "feasibleSpace": {"list": ["true", "false"]},
                },
            ],
            "objective": copy.deepcopy(_OBJECTIVE),
            "algorithm": {"algorithmName": "random"},
            "trialTemplate": {
                "retain": False,
                "primaryContainerName": "trainer",
                "trialParameters": [
                    {"name": "learning_rate", "reference": "learning_rate"},
                    {"name": "r", "reference": "r"},
                    {"name": "use_rslora", "reference": "use_rslora"},
                ],
                "trialSpec": trial_spec,
                "successCondition": 'status.conditions.#(type=="Complete")#|#(status=="True")#',
                "failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
            },
            "parallelTrialCount": 2,
            "maxTrialCount": 4,
            "maxFailedTrialCount": 1,
            "metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
            "resumePolicy": "Never",
        },
        "status": {
            "startTime": "2024-05-01T10:00:00Z",
            "conditions": conditions,
            "currentOptimalTrial": {
                "bestTrialName": f"{NAME}-x7k2p",
                "parameterAssignments": [
                    {"name": "learning_rate", "value": "3.2e-05"},
                    {"name": "r", "value": "16"},
                    {"name": "use_rslora", "value": "true"},
                ],
                "observation": {
                    "metrics": [
                        {"name": "train_loss", "min": "0.412", "max": "0.69", "latest": "0.415"},
                        {"name": "eval_accuracy", "min": "0.81", "max": "0.88", "latest": "0.86"},
                    ]
                },
            },
            "trials": 4,
            "trialsSucceeded": 3,
            "trialsFailed": 1,
        },
    }
