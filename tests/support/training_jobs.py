"""Training-operator PyTorchJobs (kubeflow.org/v1) and Trainer v2 TrainJobs
(trainer.kubeflow.org/v1alpha1) as the API server returns them.

The job is katib.BEST_TRIAL run as a two-node trial: one Master and one Worker for a PyTorchJob,
as Katib creates it for a definition with num_workers; two nodes of the runtime's "node" job for
a TrainJob. Statuses follow what the training operator (v1) and the Trainer v2 controller write.
Like the Katib builders, each checks what it returns against the SDK models: the training-operator
SDK for PyTorchJobs, the kubeflow-trainer-api pydantic models for TrainJobs.
"""

from __future__ import annotations

from typing import Any

from kubeflow_trainer_api.models import TrainerV1alpha1TrainJob

from tests.support.katib import BEST_TRIAL, NAME, NAMESPACE, STARTED_AT, TRAINER_IMAGE, condition
from tests.support.sdk_models import require_known_fields

JOB_NAME = BEST_TRIAL  # Katib names a trial's job after the trial
SELECTOR = f"training.kubeflow.org/job-name={JOB_NAME}"


def pytorchjob(status: dict[str, Any] | None) -> dict[str, Any]:
    """The PyTorchJob with `status` (None: not yet seen by the operator)."""
    replica = {
        "replicas": 1,
        "restartPolicy": "OnFailure",
        "template": {"spec": {"containers": [{"name": "pytorch", "image": TRAINER_IMAGE}]}},
    }
    obj: dict[str, Any] = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {
            "name": JOB_NAME,
            "namespace": NAMESPACE,
            "labels": {"katib.kubeflow.org/experiment": NAME},
        },
        "spec": {"pytorchReplicaSpecs": {"Master": replica, "Worker": replica}},
    }
    if status is not None:
        obj["status"] = status
    return require_known_fields(obj, "KubeflowOrgV1PyTorchJob")


def job_condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    """A condition the operator writes on the job, at the time the trial started."""
    return condition(kind, status, reason, message, STARTED_AT)


def replica_statuses(master: dict[str, int], worker: dict[str, int]) -> dict[str, Any]:
    """status.replicaStatuses from each role's pod counts, e.g. {"active": 1}."""
    return {"Master": {**master, "selector": SELECTOR}, "Worker": {**worker, "selector": SELECTOR}}


def job_status(
    conditions: list[dict[str, Any]], replicas: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A PyTorchJob status holding `conditions` and, when given, `replicas` (replica_statuses)."""
    status: dict[str, Any] = {"startTime": STARTED_AT, "conditions": conditions}
    if replicas is not None:
        status["replicaStatuses"] = replicas
    return status


RUNTIME = "hpo-torch-distributed"  # the ClusterTrainingRuntime in argocd/training-runtime.yaml
NODE_JOB = "node"  # the runtime's replicated job that trains; also the child job in jobsStatus


def trainjob(status: dict[str, Any] | None) -> dict[str, Any]:
    """The TrainJob with `status` (None: not yet seen by the Trainer controller)."""
    obj: dict[str, Any] = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "metadata": {
            "name": JOB_NAME,
            "namespace": NAMESPACE,
            "labels": {"katib.kubeflow.org/experiment": NAME},
        },
        "spec": {
            "runtimeRef": {
                "apiGroup": "trainer.kubeflow.org",
                "kind": "ClusterTrainingRuntime",
                "name": RUNTIME,
            },
            "trainer": {"image": TRAINER_IMAGE, "numNodes": 2, "numProcPerNode": 1},
        },
    }
    if status is not None:
        obj["status"] = status
    return require_trainer_fields(obj)


def trainjob_condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    """A metav1.Condition the Trainer controller writes on the TrainJob (no lastUpdateTime, unlike
    Katib's and the training operator's), at the time the trial started."""
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": STARTED_AT,
    }


def child_job(name: str = NODE_JOB, **counts: int) -> dict[str, Any]:
    """One entry of status.jobsStatus: the controller copies all five counts from the JobSet's
    replicatedJobsStatus, zeros included, e.g. child_job(active=1, ready=1). The counts are of
    child Jobs, not pods: the runtime's "node" job is one Job running numNodes pods."""
    zeros = {"active": 0, "ready": 0, "succeeded": 0, "failed": 0, "suspended": 0}
    return {"name": name, **zeros, **counts}


def trainjob_status(
    conditions: list[dict[str, Any]], jobs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A TrainJob status with `conditions` (left out when empty, as the API server omits them) and,
    when given, `jobs` (child_job entries) as jobsStatus."""
    status: dict[str, Any] = {}
    if conditions:
        status["conditions"] = conditions
    if jobs is not None:
        status["jobsStatus"] = jobs
    return status


def unknown_trainer_fields(obj: dict[str, Any]) -> list[str]:
    """Paths in `obj` that the kubeflow-trainer-api TrainJob model has no field for.

    Validating raises on a wrong type or a missing required field; the pydantic models ignore
    fields they do not know, so those are the keys that validation leaves out of the dump.
    """
    kept = TrainerV1alpha1TrainJob.model_validate(obj).model_dump(by_alias=True, exclude_none=True)
    return _dropped(obj, kept, "")


def _dropped(given: Any, kept: Any, path: str) -> list[str]:
    if isinstance(given, dict) and isinstance(kept, dict):
        return [
            problem
            for key, value in given.items()
            for problem in (
                _dropped(value, kept[key], f"{path}.{key}") if key in kept else [f"{path}.{key}"]
            )
        ]
    if isinstance(given, list) and isinstance(kept, list):
        return [
            problem
            for index, (value, kept_value) in enumerate(zip(given, kept, strict=True))
            for problem in _dropped(value, kept_value, f"{path}[{index}]")
        ]
    return []


def require_trainer_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` itself, once the TrainJob model accepts it and knows every field in it."""
    problems = unknown_trainer_fields(obj)
    if problems:
        raise ValueError(
            f"fields the TrainerV1alpha1TrainJob model does not have: {', '.join(problems)}"
        )
    return obj
