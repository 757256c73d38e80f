"""Katib Experiments and training-operator PyTorchJobs as the API server returns them.

Statuses follow what the Katib experiment controller (v0.19) and the training operator (v1) write:
condition types, reasons and messages, counts, the current optimal trial with metric values as
strings. `unknown_fields` checks a dict against the Kubeflow SDK models, so a misspelt field here
fails a test instead of silently testing nothing.
"""

from __future__ import annotations

import copy
from typing import Any

EXPERIMENT_NAME = "llama-3-2-1b-imdb"
NAMESPACE = "kubeflow"


def _condition(kind: str, status: str, reason: str, message: str, at: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": at,
        "lastTransitionTime": at,
    }


def experiment_spec(**changes: Any) -> dict[str, Any]:
    """The seed experiment's spec as rendered: random search over learning_rate and LoRA r."""
    spec: dict[str, Any] = {
        "objective": {
            "type": "minimize",
            "objectiveMetricName": "train_loss",
            "additionalMetricNames": ["epoch"],
            "metricStrategies": [
                {"name": "train_loss", "value": "min"},
                {"name": "epoch", "value": "latest"},
            ],
        },
        "algorithm": {"algorithmName": "random"},
        "parameters": [
            {
                "name": "learning_rate",
                "parameterType": "double",
                "feasibleSpace": {"min": "1e-05", "max": "5e-05"},
            },
            {"name": "r", "parameterType": "int", "feasibleSpace": {"min": "8", "max": "32"}},
        ],
        "parallelTrialCount": 2,
        "maxTrialCount": 10,
        "maxFailedTrialCount": 3,
        "resumePolicy": "Never",
        "metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
        "trialTemplate": {
            "primaryContainerName": "trainer",
            "successCondition": 'status.conditions.#(type=="Complete")#|#(status=="True")#',
            "failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
            "trialParameters": [
                {"name": "learning_rate", "reference": "learning_rate"},
                {"name": "r", "reference": "r"},
            ],
            "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {}},
        },
    }
    spec.update(changes)
    return spec


def experiment(status: dict[str, Any] | None = None, **spec_changes: Any) -> dict[str, Any]:
    """A Katib Experiment with the given status (None: not yet seen by the controller)."""
    obj: dict[str, Any] = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {
            "name": EXPERIMENT_NAME,
            "namespace": NAMESPACE,
            "annotations": {"argocd.argoproj.io/sync-wave": "2"},
        },
        "spec": experiment_spec(**spec_changes),
    }
    if status is not None:
        obj["status"] = status
    return obj


CREATED = _condition(
    "Created", "True", "ExperimentCreated", "Experiment is created", "2025-05-01T10:00:00Z"
)
RUNNING = _condition(
    "Running", "True", "ExperimentRunning", "Experiment is running", "2025-05-01T10:00:05Z"
)
NOT_RUNNING = {**RUNNING, "status": "False", "lastTransitionTime": "2025-05-01T16:40:00Z"}


def optimal_trial(metrics: list[dict[str, str]] | None) -> dict[str, Any]:
    if metrics is None:
        # Before any trial reports, Katib writes an empty optimal trial.
        return {"bestTrialName": "", "parameterAssignments": None, "observation": {"metrics": None}}
    return {
        "bestTrialName": f"{EXPERIMENT_NAME}-x7k2p4mb",
        "parameterAssignments": [
            {"name": "learning_rate", "value": "3.2e-05"},
            {"name": "r", "value": "16"},
        ],
        "observation": {"metrics": metrics},
    }


TRAIN_LOSS = [
    {"name": "epoch", "min": "1.0", "max": "3.0", "latest": "3.0"},
    {"name": "train_loss", "min": "0.41234567", "max": "0.6931", "latest": "0.4502"},
]


def experiment_status(conditions: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    status: dict[str, Any] = {
        "startTime": "2025-05-01T10:00:00Z",
        "lastReconcileTime": "2025-05-01T12:00:00Z",
        "conditions": conditions,
        "currentOptimalTrial": optimal_trial(None),
    }
    status.update(fields)
    return status


def running_experiment() -> dict[str, Any]:
    """Seven of ten trials done, two running, a best train_loss of 0.41234567."""
    return experiment(
        experiment_status(
            [CREATED, RUNNING],
            trials=9,
            trialsSucceeded=7,
            trialsRunning=2,
            runningTrialList=[f"{EXPERIMENT_NAME}-a", f"{EXPERIMENT_NAME}-b"],
            currentOptimalTrial=optimal_trial(TRAIN_LOSS),
        )
    )


def succeeded_experiment(reason: str, message: str) -> dict[str, Any]:
    succeeded = _condition("Succeeded", "True", reason, message, "2025-05-01T16:40:00Z")
    return experiment(
        experiment_status(
            [CREATED, NOT_RUNNING, succeeded],
            completionTime="2025-05-01T16:40:00Z",
            trials=10,
            trialsSucceeded=10,
            currentOptimalTrial=optimal_trial(TRAIN_LOSS),
        )
    )


def failed_experiment() -> dict[str, Any]:
    failed = _condition(
        "Failed",
        "True",
        "ExperimentMaxFailedTrialsReached",
        "Experiment has failed because max failed count has reached",
        "2025-05-01T11:10:00Z",
    )
    return experiment(
        experiment_status(
            [CREATED, NOT_RUNNING, failed],
            completionTime="2025-05-01T11:10:00Z",
            trials=5,
            trialsSucceeded=2,
            trialsFailed=3,
            currentOptimalTrial=optimal_trial(TRAIN_LOSS),
        )
    )


def restarting_experiment() -> dict[str, Any]:
    """Succeeded at ten trials, then restarted because maxTrialCount was raised to twelve."""
    restarting = _condition(
        "Restarting",
        "True",
        "ExperimentRestarting",
        "Experiment is restarted",
        "2025-05-02T09:00:00Z",
    )
    obj = experiment(
        experiment_status(
            [CREATED, NOT_RUNNING, restarting],
            trials=10,
            trialsSucceeded=10,
            currentOptimalTrial=optimal_trial(TRAIN_LOSS),
        ),
        maxTrialCount=12,
        resumePolicy="LongRunning",
    )
    return obj


def with_status_fields(obj: dict[str, Any], **fields: Any) -> dict[str, Any]:
    changed = copy.deepcopy(obj)
    changed["status"].update(fields)
    return changed


def pytorchjob(status: dict[str, Any] | None) -> dict[str, Any]:
    """A two-node PyTorchJob trial (one Master, one Worker) as Katib creates it."""
    name = f"{EXPERIMENT_NAME}-x7k2p4mb"
    replica = {
        "replicas": 1,
        "restartPolicy": "OnFailure",
        "template": {"spec": {"containers": [{"name": "pytorch", "image": "trainer:0.1.0"}]}},
    }
    obj: dict[str, Any] = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"katib.kubeflow.org/experiment": EXPERIMENT_NAME},
        },
        "spec": {"pytorchReplicaSpecs": {"Master": replica, "Worker": replica}},
    }
    if status is not None:
        obj["status"] = status
    return obj


def job_condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return _condition(kind, status, reason, message, "2025-05-01T10:05:00Z")


def unknown_fields(data: Any, model: str, path: str = "") -> list[str]:
    """Paths in `data` that the Kubeflow/Kubernetes SDK model `model` has no field for."""
    if model in {"str", "int", "float", "bool", "datetime", "object"}:
        return []
    if model.startswith("list["):
        item = model[len("list[") : -1]
        return [
            p for i, v in enumerate(data or []) for p in unknown_fields(v, item, f"{path}[{i}]")
        ]
    if model.startswith("dict("):
        item = model[model.index(",") + 1 : -1].strip()
        return [p for k, v in (data or {}).items() for p in unknown_fields(v, item, f"{path}.{k}")]
    cls = _model_class(model)
    by_json_name = {json_name: attr for attr, json_name in cls.attribute_map.items()}
    problems = []
    for key, value in (data or {}).items():
        if key not in by_json_name:
            problems.append(f"{path}.{key}")
        elif value is not None:
            problems += unknown_fields(value, cls.openapi_types[by_json_name[key]], f"{path}.{key}")
    return problems


def _model_class(name: str) -> type:
    import kubernetes.client.models as kubernetes_models
    from kubeflow.katib import models as katib_models
    from kubeflow.training import models as training_models

    for module in (katib_models, training_models, kubernetes_models):
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(f"no SDK model named {name}")
