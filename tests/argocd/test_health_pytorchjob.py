"""The Argo CD health check for PyTorchJob trials, run in a sandboxed Lua 5.1 runtime."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest

from tests.argocd import katib_objects as katib
from tests.argocd.lua_health import VALID_STATUSES, health_of

JOB = f"{katib.NAMESPACE}/{katib.EXPERIMENT_NAME}-x7k2p4mb"
CREATED = katib.job_condition(
    "Created", "True", "PyTorchJobCreated", f"PyTorchJob {JOB} is created."
)
RUNNING = katib.job_condition(
    "Running", "True", "PyTorchJobRunning", f"PyTorchJob {JOB} is running."
)
NOT_RUNNING = {**RUNNING, "status": "False"}
SELECTOR = f"training.kubeflow.org/job-name={katib.EXPERIMENT_NAME}-x7k2p4mb"


def replicas(master: dict, worker: dict) -> dict:
    return {"Master": {**master, "selector": SELECTOR}, "Worker": {**worker, "selector": SELECTOR}}


def job_status(conditions: list, replica_statuses: dict | None = None) -> dict:
    status = {"startTime": "2025-05-01T10:05:00Z", "conditions": conditions}
    if replica_statuses is not None:
        status["replicaStatuses"] = replica_statuses
    return status


STATES = {
    "created": job_status([CREATED]),
    "running": job_status([CREATED, RUNNING], replicas({"active": 1}, {"active": 1})),
    "restarting": job_status(
        [
            CREATED,
            katib.job_condition(
                "Restarting",
                "True",
                "PyTorchJobRestarting",
                f"PyTorchJob {JOB} is restarting because 1 Worker replica(s) failed.",
            ),
        ],
        replicas({"active": 1}, {"failed": 1}),
    ),
    "succeeded": job_status(
        [
            CREATED,
            NOT_RUNNING,
            katib.job_condition(
                "Succeeded",
                "True",
                "PyTorchJobSucceeded",
                f"PyTorchJob {JOB} successfully completed.",
            ),
        ],
        replicas({"succeeded": 1}, {"succeeded": 1}),
    ),
    "failed": job_status(
        [
            CREATED,
            NOT_RUNNING,
            katib.job_condition(
                "Failed",
                "True",
                "PyTorchJobFailed",
                f"PyTorchJob {JOB} has failed because 1 Worker replica(s) failed.",
            ),
        ],
        replicas({"active": 1}, {"failed": 1}),
    ),
    "suspended": job_status(
        [
            CREATED,
            NOT_RUNNING,
            katib.job_condition(
                "Suspended", "True", "PyTorchJobSuspended", f"PyTorchJob {JOB} is suspended."
            ),
        ]
    ),
}


def pytorchjob_health(status: dict | None) -> dict:
    return health_of("pytorchjob.lua", katib.pytorchjob(status))


class TestFixturesAreRealPyTorchJobs:
    """The objects the checks run against use only fields the training-operator SDK knows."""

    @pytest.mark.parametrize("state", sorted(STATES))
    def test_every_field_is_in_the_training_operator_model(self, state):
        obj = katib.pytorchjob(STATES[state])
        assert [] == katib.unknown_fields(obj, "KubeflowOrgV1PyTorchJob")


class TestPyTorchJobStates:
    """Each state the training operator reports maps to the right health and message."""

    def test_no_status_yet_is_progressing(self):
        assert {
            "status": "Progressing",
            "message": "Waiting for the training operator to create the replicas",
        } == pytorchjob_health(None)

    def test_created_is_progressing_with_the_operators_message(self):
        assert {
            "status": "Progressing",
            "message": f"PyTorchJob {JOB} is created.",
        } == pytorchjob_health(STATES["created"])

    def test_running_lists_active_replicas(self):
        assert {
            "status": "Progressing",
            "message": f"PyTorchJob {JOB} is running. (Master: 1 active; Worker: 1 active)",
        } == pytorchjob_health(STATES["running"])

    def test_restarting_is_progressing_and_says_why(self):
        health = pytorchjob_health(STATES["restarting"])
        assert "Progressing" == health["status"]
        assert (
            f"PyTorchJob {JOB} is restarting because 1 Worker replica(s) failed. "
            "(Master: 1 active; Worker: 1 failed)"
        ) == health["message"]

    def test_succeeded_is_healthy(self):
        assert {
            "status": "Healthy",
            "message": f"PyTorchJob {JOB} successfully completed. "
            "(Master: 1 succeeded; Worker: 1 succeeded)",
        } == pytorchjob_health(STATES["succeeded"])

    def test_failed_is_degraded(self):
        health = pytorchjob_health(STATES["failed"])
        assert "Degraded" == health["status"]
        assert health["message"].startswith(f"PyTorchJob {JOB} has failed because")

    def test_suspended_is_suspended(self):
        assert {
            "status": "Suspended",
            "message": f"PyTorchJob {JOB} is suspended.",
        } == pytorchjob_health(STATES["suspended"])

    def test_condition_without_message_falls_back_to_its_reason(self):
        bare = {"type": "Failed", "status": "True", "reason": "PyTorchJobFailed"}
        assert {"status": "Degraded", "message": "PyTorchJobFailed"} == pytorchjob_health(
            job_status([CREATED, bare])
        )

    @pytest.mark.parametrize("state", sorted(STATES))
    def test_status_is_one_argo_cd_accepts(self, state):
        assert pytorchjob_health(STATES[state])["status"] in VALID_STATUSES
