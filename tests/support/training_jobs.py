"""Training-operator PyTorchJobs (kubeflow.org/v1) as the API server returns them.

The job is katib.BEST_TRIAL run as a two-node trial (one Master, one Worker), as Katib creates it
for a definition with num_workers; statuses follow what the training operator (v1) writes. Like
the Katib builders, each checks what it returns against the training-operator SDK models.
"""

from __future__ import annotations

from typing import Any

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
